// @cohort/core and @cohort/typeorm load with both require and import (NestJS on CommonJS);
// @cohort/mikro-orm is ESM-only like MikroORM 7. Checks the built packages (`npm test` builds first).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cwd = fileURLToPath(new URL('..', import.meta.url));
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });

describe('packaging', () => {
  it('require() loads @cohort/core, @cohort/core/adapter and @cohort/typeorm', () => {
    const run = node([
      '-e',
      "const t = require('@cohort/typeorm'); const c = require('@cohort/core'); const a = require('@cohort/core/adapter'); console.log(typeof t.bulkSave, typeof a.runInsert, typeof c.BulkWriteError)",
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function function function');
  });

  it('import loads all three, sharing one instance of the CommonJS build', () => {
    const run = node([
      '--input-type=module',
      '-e',
      "import { bulkSave, BulkWriteError as A } from '@cohort/typeorm'; import { BulkWriteError as B } from '@cohort/core'; import { bulkUpsert } from '@cohort/mikro-orm'; import { runInsert } from '@cohort/core/adapter'; console.log(typeof bulkSave, typeof bulkUpsert, typeof runInsert, A === B)",
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function function function true');
  });
});
