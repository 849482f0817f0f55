import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`../packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so no build is needed to test a change.
    alias: {
      '@cohort/core': src('core'),
      '@cohort/typeorm': src('typeorm'),
      '@cohort/mikro-orm': src('mikro-orm'),
    },
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
