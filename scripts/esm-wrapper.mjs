#!/usr/bin/env node
// Gives a CommonJS build an ESM entry point per public entry that re-exports it, so `import` and
// `require` share one module instance (no dual-package hazard). Run from the package directory;
// arguments name further entries beside `index` (e.g. `adapter/index`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, posix } from 'node:path';

for (const entry of ['index', ...process.argv.slice(2)]) {
  const file = `dist/esm/${entry}.mjs`;
  mkdirSync(dirname(file), { recursive: true });
  const back = posix.relative(posix.dirname(`esm/${entry}`), 'cjs');
  writeFileSync(file, `export * from '${back}/${entry}.js';\n`);
}
