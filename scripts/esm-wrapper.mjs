#!/usr/bin/env node
// Gives a CommonJS build an ESM entry point that re-exports it, so `import` and `require`
// share one module instance (no dual-package hazard). Run from the package directory.
import { mkdirSync, writeFileSync } from 'node:fs';

mkdirSync('dist/esm', { recursive: true });
writeFileSync('dist/esm/index.mjs', "export * from '../cjs/index.js';\n");
