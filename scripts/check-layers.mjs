#!/usr/bin/env node
// The dependency rules of the packages, checked on every import of their sources (CI runs this):
// - core imports no ORM and no database driver (pg-copy-streams, which takes the client the adapter
//   hands over, is the one package it uses for COPY);
// - inside core, model/ and sql/ never import engine/ (the engine builds on them, not the reverse);
// - an adapter never imports another adapter;
// - an adapter reaches core through its package name only, never by a relative path into it.
// Prints every violation as `file:line: rule` and exits 1 if there is one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');

/** Import specifiers with their line: static imports and exports, `import()` and `require()`. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

const ORM_OR_DRIVER = /^(typeorm|@mikro-orm\/|pg$|pg\/|pg-pool|postgres$|kysely|knex|sequelize|drizzle-orm|@prisma\/)/;
const CORE_MAY_IMPORT = /^(node:|pg-copy-streams$)/;

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const found = [];
  for (const match of text.matchAll(IMPORT)) {
    // Imports quoted in comments (examples in doc comments) are not imports.
    const lineStart = text.lastIndexOf('\n', match.index) + 1;
    const line = text.slice(lineStart, text.indexOf('\n', match.index) === -1 ? undefined : text.indexOf('\n', match.index));
    if (/^\s*(\*|\/\/)/.test(line)) continue;
    found.push({ specifier: match[1], line: text.slice(0, match.index).split('\n').length });
  }
  return found;
}

const adapters = readdirSync(packagesDir).filter((name) => name !== 'core' && statSync(join(packagesDir, name)).isDirectory());
const violations = [];

function check(pkg, file) {
  const src = join(packagesDir, pkg, 'src');
  const inCore = pkg === 'core';
  const area = relative(src, file).split(sep)[0];
  for (const { specifier, line } of importsOf(file)) {
    const at = `${relative(root, file)}:${line}`;
    const relativePath = specifier.startsWith('.');
    if (inCore) {
      if (!relativePath && !CORE_MAY_IMPORT.test(specifier)) {
        violations.push(`${at}: core imports '${specifier}' (core imports no ORM and no driver)`);
      }
      if (relativePath && (area === 'model' || area === 'sql')) {
        const target = relative(src, resolve(dirname(file), specifier)).split(sep)[0];
        if (target === 'engine') violations.push(`${at}: ${area}/ imports engine/ ('${specifier}')`);
      }
      continue;
    }
    for (const other of adapters) {
      if (other !== pkg && specifier === `@cohort/${other}`) {
        violations.push(`${at}: the ${pkg} adapter imports the ${other} adapter`);
      }
    }
    if (relativePath && !resolve(dirname(file), specifier).startsWith(src + sep)) {
      violations.push(`${at}: reaches outside its package by a relative path ('${specifier}')`);
    }
    if (ORM_OR_DRIVER.test(specifier) && pkg !== 'typeorm' && specifier.startsWith('typeorm')) {
      violations.push(`${at}: the ${pkg} adapter imports TypeORM`);
    }
    if (ORM_OR_DRIVER.test(specifier) && pkg !== 'mikro-orm' && specifier.startsWith('@mikro-orm/')) {
      violations.push(`${at}: the ${pkg} adapter imports MikroORM`);
    }
  }
}

for (const pkg of ['core', ...adapters]) {
  const src = join(packagesDir, pkg, 'src');
  try {
    statSync(src);
  } catch {
    continue;
  }
  for (const file of sourceFiles(src)) check(pkg, file);
}

if (violations.length) {
  console.error(violations.join('\n'));
  console.error(`${violations.length} import(s) break the layering rules (scripts/check-layers.mjs)`);
  process.exit(1);
}
console.log('layering rules hold: core imports no ORM or driver, model/ and sql/ do not import engine/, adapters stay apart');
