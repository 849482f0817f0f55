#!/usr/bin/env node
// Gives a CommonJS build an ESM entry point per public entry that re-exports it, so `import` and
// `require` share one module instance (no dual-package hazard). Each wrapper gets its own `.d.mts`,
// so TypeScript sees an ES module where Node loads one (a `.d.ts` in a package without
// `"type": "module"` would be read as CommonJS: "masquerading as CJS"). Run from the package
// directory; arguments name further entries beside `index` (e.g. `adapter/index`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, posix } from 'node:path';

for (const entry of ['index', ...process.argv.slice(2)]) {
  const file = `dist/esm/${entry}`;
  mkdirSync(dirname(file), { recursive: true });
  const target = `${posix.relative(posix.dirname(`esm/${entry}`), 'cjs')}/${entry}.js`;
  writeFileSync(`${file}.mjs`, `export * from '${target}';\n`);
  writeFileSync(`${file}.d.mts`, `export * from '${target}';\n`);
}
