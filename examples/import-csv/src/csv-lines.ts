// Reading the file: csv-parse streams it record by record (nothing but the record being parsed is
// held), each record with its line number and raw text; a line that cannot be read becomes a reject.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { COLUMNS } from './customer-fields.js';

/** One data line of the file. */
export interface CsvLine {
  /** Line number in the file, from 1 (the header is line 1). */
  line: number;
  fields: string[];
  raw: string;
}

/** A line that never reached the ORM, or a row cohort did not write. */
export interface Reject {
  line: number;
  reason: string;
  raw: string;
}

/**
 * The data lines of `path`, one at a time. A line with the wrong number of fields, or one the parser
 * cannot read (an unclosed quote), goes to `unreadable` instead; a wrong header fails.
 */
export async function* csvLines(path: string, unreadable: (reject: Reject) => void): AsyncGenerator<CsvLine> {
  const parser = createReadStream(path).pipe(
    parse({
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error, raw) => {
        unreadable({
          line: Number((error as { lines?: unknown } | undefined)?.lines ?? 0),
          reason: `unreadable: ${error?.message ?? 'parse error'}`,
          raw: raw ?? '',
        });
        return undefined;
      },
    }),
  );
  let header = true;
  for await (const { record, info, raw } of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
    const text = raw.replace(/\r?\n$/, '');
    if (header) {
      header = false;
      if (record.join(',') !== COLUMNS.join(',')) {
        throw new Error(`line 1: expected the header ${COLUMNS.join(',')}, got ${text}`);
      }
      continue;
    }
    if (record.length !== COLUMNS.length) {
      unreadable({ line: info.lines, reason: `unreadable: expected ${COLUMNS.length} fields, got ${record.length}`, raw: text });
      continue;
    }
    yield { line: info.lines, fields: record, raw: text };
  }
}

/** The number of data lines (lines after the header), counted by reading the file once, fast. */
export async function countDataLines(path: string): Promise<number> {
  let newlines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
  }
  const lines = newlines + (last === 10 ? 0 : 1);
  return Math.max(0, lines - 1);
}
