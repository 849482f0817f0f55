#!/usr/bin/env node
import { once } from 'node:events';
// Writes a customers CSV for the import: `node dist/generate.js <file> [rows]` (default 200,000).
// The same file every time. About 1 line in 250 is bad in a known way: an invalid email, a missing
// name, an age that is not a number or out of range, an impossible date, a wrong number of fields,
// or an email that appeared before (in the same batch or thousands of lines earlier).
import { createWriteStream } from 'node:fs';
import { COLUMNS } from './customer-fields.js';

const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR', 'IN', 'NG', 'SE'];
const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson'];

const email = (i: number) => `customer${i}@example.com`;

/** Line `i` (0-based data line) of the file, good or bad. */
export function line(i: number): string {
  const name = `${FIRST[i % 8]} ${LAST[(i >> 3) % 8]}${i % 50 === 0 ? ', Jr.' : ''}`;
  const fields = [
    email(i),
    name.includes(',') ? `"${name}"` : name,
    String(18 + (i % 70)),
    new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString(),
    COUNTRIES[i % 8] as string,
  ];
  if (i % 997 === 5) fields[0] = `customer${i}.example.com`;
  else if (i % 1499 === 7) fields[2] = 'forty';
  else if (i % 2003 === 11) fields[1] = '';
  else if (i % 2503 === 13) fields[2] = '200';
  else if (i % 3001 === 17) fields[3] = '2023-13-45';
  else if (i % 4999 === 19) fields.pop();
  else if (i % 1777 === 23) fields[0] = email(i - 3);
  else if (i % 5003 === 29 && i > 20_000) fields[0] = email(i - 20_000);
  return fields.join(',');
}

async function main(): Promise<void> {
  const [file, rowsText] = process.argv.slice(2);
  if (!file) {
    console.error('usage: generate <file.csv> [rows]');
    process.exit(2);
  }
  const rows = Number(rowsText ?? 200_000);
  const out = createWriteStream(file);
  out.write(`${COLUMNS.join(',')}\n`);
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${line(i)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  console.log(`wrote ${file}: ${rows.toLocaleString('en-US')} data lines`);
}

await main();
