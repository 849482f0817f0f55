// @cohort/core and @cohort/typeorm load with both require and import (NestJS on CommonJS);
// @cohort/mikro-orm is ESM-only like MikroORM 7. Checks the built packages (`npm test` builds first).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cwd = fileURLToPath(new URL('..', import.meta.url));
const packages = fileURLToPath(new URL('../../packages/', import.meta.url));
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
const manifest = (name: string) => JSON.parse(readFileSync(`${packages}${name}/package.json`, 'utf8'));

/** Every file an `exports` map names, with the condition path that leads to it. */
function exportedFiles(exports: unknown, path = ''): [string, string][] {
  if (typeof exports === 'string') return [[path, exports]];
  return Object.entries(exports as Record<string, unknown>).flatMap(([key, value]) => exportedFiles(value, `${path}/${key}`));
}

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

  it("'@cohort/typeorm/register' adds the methods once, whether required or imported", () => {
    const run = node([
      '--input-type=module',
      '-e',
      "import { createRequire } from 'node:module'; import '@cohort/typeorm/register'; const require = createRequire(process.cwd() + '/x.js'); require('@cohort/typeorm/register'); const { Repository } = require('typeorm'); console.log(typeof Repository.prototype.bulkSave, typeof Repository.prototype.bulkSoftRemove)",
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function function');
  });

  it.each(['core', 'typeorm', 'mikro-orm'])('@cohort/%s: every exported file exists, ESM entries have ESM types', (name) => {
    const pkg = manifest(name);
    const files = exportedFiles(pkg.exports);
    expect(files.length).toBeGreaterThan(1);
    for (const [, file] of files) expect(existsSync(`${packages}${name}/${file}`), file).toBe(true);
    for (const [path, file] of files.filter(([p]) => p.includes('/import/types'))) expect(file, path).toMatch(/\.d\.mts$/);
    expect(pkg.files).toContain('src');
    expect(existsSync(`${packages}${name}/LICENSE`)).toBe(true);
    expect(existsSync(`${packages}${name}/README.md`)).toBe(true);
    for (const key of ['repository', 'homepage', 'bugs', 'keywords', 'engines']) expect(pkg[key], key).toBeDefined();
  });

  it('class-validator is an optional peer of @cohort/core', () => {
    const pkg = manifest('core');
    expect(pkg.peerDependencies['class-validator']).toBeDefined();
    expect(pkg.peerDependenciesMeta['class-validator']).toEqual({ optional: true });
  });
});
