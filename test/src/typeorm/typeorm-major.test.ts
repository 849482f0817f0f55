import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bulkInsert } from '@cohort/typeorm';
import { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';

// Which TypeORM the run loaded: COHORT_TYPEORM=0.3 selects tools/typeorm-0.3's pinned copy (see
// vitest.config.ts), else the test package's own. The adapter is imported from its sources through
// the same aliases, so every TypeORM file loaded in this worker must be the selected version's.
const pinned = (packageJson: string) =>
  (JSON.parse(readFileSync(new URL(packageJson, import.meta.url), 'utf8')) as { dependencies: { typeorm: string } }).dependencies
    .typeorm;

function loadedTypeormVersions(): string[] {
  const cache = createRequire(import.meta.url).cache;
  const versions = Object.keys(cache).flatMap((file) => /\/typeorm@([^_/]+)[^/]*\/node_modules\/typeorm\//.exec(file)?.[1] ?? []);
  return [...new Set(versions)];
}

describe('the TypeORM major under test', () => {
  it('is the selected one, for the tests and the adapter alike', () => {
    const expected =
      process.env.COHORT_TYPEORM === '0.3' ? pinned('../../../tools/typeorm-0.3/package.json') : pinned('../../package.json');
    expect(typeof bulkInsert).toBe('function');
    expect(typeof DataSource).toBe('function');
    expect(loadedTypeormVersions()).toEqual([expected]);
  });
});
