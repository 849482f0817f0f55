import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bulkInsert } from '@cohort/mikro-orm';
import { MikroORM, Utils } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { describe, expect, it } from 'vitest';

// Which MikroORM the run loaded: COHORT_MIKRO_ORM=6 selects tools/mikro-orm-6's pinned copy (see
// vitest.config.ts), else the test package's own 7. The adapter is imported from its sources through
// the same aliases, so every @mikro-orm file loaded in this worker must be the selected version's.
const pinned = (packageJson: string) =>
  (JSON.parse(readFileSync(new URL(packageJson, import.meta.url), 'utf8')) as { dependencies: Record<string, string> })
    .dependencies;

function loadedMikroOrmVersions(): string[] {
  const cache = createRequire(import.meta.url).cache;
  const versions = Object.keys(cache).flatMap(
    (file) => /\/@mikro-orm\+[a-z]+@([^_/]+)[^/]*\/node_modules\/@mikro-orm\//.exec(file)?.[1] ?? [],
  );
  return [...new Set(versions)];
}

describe('the MikroORM major under test', () => {
  it('is the selected one, for the tests and the adapter alike', () => {
    const v6 = process.env.COHORT_MIKRO_ORM === '6';
    const dependencies = v6 ? pinned('../../../tools/mikro-orm-6/package.json') : pinned('../../package.json');
    const expected = dependencies['@mikro-orm/core'];
    expect(dependencies['@mikro-orm/postgresql']).toBe(expected);
    expect(dependencies[v6 ? '@mikro-orm/knex' : '@mikro-orm/sql']).toBe(expected);
    expect(typeof bulkInsert).toBe('function');
    expect(typeof MikroORM).toBe('function');
    expect(typeof EntityManager).toBe('function');
    expect(Utils.getORMVersion()).toBe(expected);
    // MikroORM 6 is CommonJS (its files are in require's cache); 7 is ESM only, so none are.
    expect(loadedMikroOrmVersions()).toEqual(v6 ? [expected] : []);
  });
});
