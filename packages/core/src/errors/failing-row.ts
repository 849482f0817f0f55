import type { TableCatalog } from '../model/table-catalog.js';

// Types whose values PostgreSQL prints as cohort sends their text (an integer once written in its
// plain decimal form, a text without trailing spaces, which a varchar(n) may cut): a row's value of
// such a column, found at its place in "Failing row contains (…)", is that row's. Others
// (timestamps, numerics, uuids given in capitals, booleans…) may print otherwise and match any value.
const INTEGERS = new Set(['smallint', 'integer', 'bigint']);
const TEXTS = new Set(['text', 'character varying']);

// PostgreSQL prints at most 64 bytes of each value in the failing row.
const PRINTED_BYTES = 64;

/** The values and placing of a batch's rows, as the converter has them. */
export interface FailingRowBatch {
  readonly columns: readonly string[];
  readonly values: readonly (readonly (string | null)[])[];
  readonly indices: readonly number[];
  /** defaults[c][r]: row r leaves column c to its default (its printed value is not known). */
  readonly defaults?: readonly (readonly boolean[] | undefined)[];
}

/**
 * The position of the batch's row that PostgreSQL names in a detail "Failing row contains (v1, v2,
 * …)." (a CHECK violation of a multi-row INSERT, which names no key): the one row whose values of
 * columns that print as sent stand at their columns' places among the table's columns, in order;
 * undefined when none or more than one row fits (never a guess), or the detail is of another form
 * (a column list for a role that may not read every column), or the table is partitioned.
 */
export function findFailingRow(detail: string | undefined, batch: FailingRowBatch, table: TableCatalog): number | undefined {
  const printed = /^Failing row contains \((.*)\)\.$/s.exec(detail ?? '')?.[1];
  // A partition prints its own columns' order, which may not be the partitioned table's; a BEFORE
  // INSERT trigger may have stored other values than those sent.
  if (printed === undefined || table.partitionKey || table.insertTriggers) return undefined;
  const tokens = printed.split(', ');
  const tableColumns = [...table.columns.keys()];
  const sentAt = new Map(batch.columns.map((name, c) => [name, c]));
  // Per table column, the batch column compared there (undefined: any value).
  const compared = tableColumns.map((name) => {
    const c = sentAt.get(name);
    const type = table.columns.get(name)?.castType ?? '';
    return c !== undefined && (INTEGERS.has(type) || TEXTS.has(type)) ? { c, integer: INTEGERS.has(type) } : undefined;
  });
  if (compared.every((c) => c === undefined)) return undefined;
  let found: number | undefined;
  for (let row = 0; row < batch.indices.length; row++) {
    const expected = compared.map((column) => {
      if (column === undefined || batch.defaults?.[column.c]?.[row]) return undefined;
      const text = batch.values[column.c]?.[row] ?? null;
      if (text === null) return ['null'];
      if (column.integer) return /^(?:0|-?[1-9][0-9]*)$/.test(text) ? [text] : undefined;
      return new TextEncoder().encode(text).length > PRINTED_BYTES || /\s$/.test(text) ? undefined : text.split(', ');
    });
    if (!fits(tokens, expected)) continue;
    if (found !== undefined) return undefined;
    found = row;
  }
  return found;
}

/**
 * Whether `tokens` (the printed row split at ", ") read as the columns' values in order: a known
 * value takes its own tokens, an unknown one (undefined) one or more. Positions reachable after
 * each column, so a value holding ", " is placed every way it can be.
 */
function fits(tokens: readonly string[], expected: readonly (readonly string[] | undefined)[]): boolean {
  let reachable = new Set([0]);
  for (const value of expected) {
    const next = new Set<number>();
    for (const at of reachable) {
      if (value === undefined) {
        for (let end = at + 1; end <= tokens.length; end++) next.add(end);
      } else if (value.every((token, k) => tokens[at + k] === token)) {
        next.add(at + value.length);
      }
    }
    if (next.size === 0) return false;
    reachable = next;
  }
  return reachable.has(tokens.length);
}
