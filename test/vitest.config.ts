import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`../packages/${path}`, import.meta.url));

// COHORT_TYPEORM=0.3: the tests and the adapter (both from sources, so both go through these
// aliases) import the TypeORM 0.3 that tools/typeorm-0.3 pins in the lockfile, not the test
// package's own TypeORM 1.x.
const typeormAliases = () => {
  if (!process.env.COHORT_TYPEORM) return [];
  if (process.env.COHORT_TYPEORM !== '0.3') throw new Error(`COHORT_TYPEORM=${process.env.COHORT_TYPEORM}: only 0.3 is pinned`);
  const dir = realpathSync(fileURLToPath(new URL('../tools/typeorm-0.3/node_modules/typeorm', import.meta.url)));
  return [
    { find: /^typeorm$/, replacement: `${dir}/index.mjs` },
    { find: /^typeorm\/(.*)$/, replacement: `${dir}/$1` },
  ];
};

export default defineConfig({
  resolve: {
    // Tests run against the sources, so no build is needed to test a change.
    alias: [
      { find: /^@cohort\/core\/adapter$/, replacement: src('core/src/adapter/index.ts') },
      { find: /^@cohort\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@cohort\/typeorm\/register$/, replacement: src('typeorm/src/register.ts') },
      { find: /^@cohort\/typeorm$/, replacement: src('typeorm/src/index.ts') },
      { find: /^@cohort\/mikro-orm$/, replacement: src('mikro-orm/src/index.ts') },
      ...typeormAliases(),
    ],
  },
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['src/harness/global-setup.ts'],
    setupFiles: ['reflect-metadata'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './src/harness/count-reporter.ts'],
  },
});
