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

// COHORT_MIKRO_ORM=6: the tests and the adapter import the MikroORM 6 that tools/mikro-orm-6 pins
// (core, knex, postgresql at one version), not the test package's MikroORM 7. The fixtures' legacy
// decorators (`@mikro-orm/decorators/legacy` on 7) are part of `@mikro-orm/core` on 6, and 7's SQL
// package `@mikro-orm/sql` is `@mikro-orm/knex` on 6.
const mikroOrmAliases = () => {
  if (!process.env.COHORT_MIKRO_ORM) return [];
  if (process.env.COHORT_MIKRO_ORM !== '6') throw new Error(`COHORT_MIKRO_ORM=${process.env.COHORT_MIKRO_ORM}: only 6 is pinned`);
  const dir = (name: string) =>
    realpathSync(fileURLToPath(new URL(`../tools/mikro-orm-6/node_modules/@mikro-orm/${name}`, import.meta.url)));
  return [
    { find: /^@mikro-orm\/core$/, replacement: `${dir('core')}/index.mjs` },
    { find: /^@mikro-orm\/decorators\/legacy$/, replacement: `${dir('core')}/index.mjs` },
    { find: /^@mikro-orm\/(sql|knex)$/, replacement: `${dir('knex')}/index.mjs` },
    { find: /^@mikro-orm\/postgresql$/, replacement: `${dir('postgresql')}/index.mjs` },
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
      ...mikroOrmAliases(),
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
    // MikroORM 6 refuses to start when the project's package.json names @mikro-orm/* packages of
    // another version: the test package's are 7's, which the aliases keep from loading
    // (src/mikro-orm/mikro-orm-major.test.ts checks that).
    env: process.env.COHORT_MIKRO_ORM === '6' ? { MIKRO_ORM_ALLOW_VERSION_MISMATCH: '1' } : {},
  },
});
