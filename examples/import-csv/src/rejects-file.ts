// The rejects file: one CSV line per rejected input line — its line number, why, and the line itself.
import { writeFile } from 'node:fs/promises';
import type { ValidationFailure } from '@cohort/core';
import type { Reject } from './csv-lines.js';

const quoted = (value: string | number) => {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** Writes `rejects`, in line order, to `path` (a header line first). */
export async function writeRejects(path: string, rejects: Reject[]): Promise<void> {
  const sorted = [...rejects].sort((a, b) => a.line - b.line);
  const lines = sorted.map((r) => [r.line, r.reason, r.raw].map(quoted).join(','));
  await writeFile(path, `line,reason,input\n${lines.map((l) => `${l}\n`).join('')}`);
}

/** The reason of an invalid row: each failure as `property: message`. */
export function invalidReason(failures: readonly ValidationFailure<unknown>[] | undefined): string {
  if (!failures?.length) return 'invalid';
  return `invalid: ${failures.map((f) => `${f.property}: ${f.message}`).join('; ')}`;
}
