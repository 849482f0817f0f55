import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`../packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so no build is needed to test a change.
    alias: [
      { find: /^@cohort\/core\/adapter$/, replacement: src('core/src/adapter/index.ts') },
      { find: /^@cohort\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@cohort\/typeorm\/register$/, replacement: src('typeorm/src/register.ts') },
      { find: /^@cohort\/typeorm$/, replacement: src('typeorm/src/index.ts') },
      { find: /^@cohort\/mikro-orm$/, replacement: src('mikro-orm/src/index.ts') },
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
