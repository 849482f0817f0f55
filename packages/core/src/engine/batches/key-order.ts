// Lock order across batches (issue 18). A statement locks its rows in key order (an upsert's rows
// are sent ORDER BY the conflict key), but a call of several batches in one transaction keeps the
// locks of every batch it wrote: two calls whose batches hold overlapping keys in different orders
// can each wait for a row the other holds (40P01). An array is therefore cut into batches in key
// order: every call then takes its locks in one global order, batch after batch.
import type { InputBatch } from '../../adapter/contract.js';
import type { BoundColumn } from '../../model/bound-model.js';
import type { ColumnModel } from '../../model/entity-model.js';
import { toPgText } from '../../sql/pg-text.js';

/** The key a call's rows are ordered by across batches, read from the entity as given. */
export interface RowOrder<E> {
  readonly columns: readonly BoundColumn<E>[];
}

/**
 * Cuts the rows of `whole` (one batch holding the entire input, in input order, with its indices)
 * into batches of `size` in the order of their keys. Each batch keeps its rows in input order (its
 * hooks see them as before; the statement orders them itself), and every index stays the row's
 * index in the input, so outcomes, skipped rows and errors are reported as without the ordering.
 * Rows without a key (a generated one) come last, in input order.
 *
 * An input that holds one key twice is cut in input order, as before: in key order the two rows
 * would meet in one batch, where they are refused (DuplicateKeyInBatchError) or one of them dropped
 * (`duplicates`), while in two batches the later one writes over the earlier one's row.
 */
export function* keyOrderedBatches<E>(whole: InputBatch<E>, size: number, order: RowOrder<E>): Generator<InputBatch<E>> {
  const { entities, indices } = whole;
  const keys = entities.map((entity) => keyOf(entity, order.columns));
  const positions = entities.map((_, position) => position);
  let repeated = false;
  positions.sort((a, b) => {
    const byKey = compareKeys(keys[a], keys[b], order.columns);
    if (byKey === 0 && keys[a] !== undefined) repeated = true;
    return byKey || a - b;
  });
  if (repeated) positions.sort((a, b) => a - b);
  for (let start = 0, number = 0; start < positions.length; start += size, number++) {
    const picked = positions.slice(start, start + size).sort((a, b) => a - b);
    yield {
      number,
      entities: picked.map((p) => entities[p] as E),
      indices: picked.map((p) => indices[p] as number),
      keyOrdered: true,
      ...(start + size >= positions.length && { last: true }),
    };
  }
}

/** A row's key values, or undefined when some part is not set (the database generates it). */
function keyOf<E>(entity: E, columns: readonly BoundColumn<E>[]): unknown[] | undefined {
  const values: unknown[] = [];
  for (const column of columns) {
    let value: unknown;
    try {
      value = column.read(entity);
    } catch {
      // A row the ORM cannot read is refused later by validation; here it only has no key.
      return undefined;
    }
    if (value === undefined || value === null) return undefined;
    values.push(value);
  }
  return values;
}

function compareKeys<E>(a: unknown[] | undefined, b: unknown[] | undefined, columns: readonly BoundColumn<E>[]): number {
  if (!a || !b) return a ? -1 : b ? 1 : 0;
  for (let i = 0; i < columns.length; i++) {
    const order = compareKeyValues(a[i], b[i], (columns[i] as BoundColumn<E>).kind);
    if (order !== 0) return order;
  }
  return 0;
}

const INTEGER = /^-?\d+$/;

/**
 * Compares two key values of a column of `kind` as PostgreSQL orders them in the statement:
 * integers as numbers, decimals as numbers, instants by time, uuids by their (lower-case) hex text,
 * strings by code point (the upsert orders text keys `COLLATE "C"`, PostgreSQL's byte order of
 * UTF-8, which is code-point order), anything else by its text.
 */
export function compareKeyValues(a: unknown, b: unknown, kind: ColumnModel['kind']): number {
  switch (kind) {
    case 'smallint':
    case 'integer':
    case 'bigint': {
      const x = integerOf(a);
      const y = integerOf(b);
      if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
      break;
    }
    case 'numeric':
    case 'real':
    case 'double': {
      const x = Number(a);
      const y = Number(b);
      if (!Number.isNaN(x) && !Number.isNaN(y)) return x < y ? -1 : x > y ? 1 : 0;
      break;
    }
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
      break;
    case 'uuid':
      if (typeof a === 'string' && typeof b === 'string') return byCodePoint(a.toLowerCase(), b.toLowerCase());
      break;
  }
  return byCodePoint(textOf(a, kind), textOf(b, kind));
}

function integerOf(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && INTEGER.test(value)) return BigInt(value);
  return undefined;
}

function textOf(value: unknown, kind: ColumnModel['kind']): string {
  if (typeof value === 'string') return value;
  try {
    return toPgText(value, kind === 'timestamptz') ?? '';
  } catch {
    return String(value);
  }
}

/** Code-point order (JavaScript's `<` compares UTF-16 code units, which differs above U+FFFF). */
function byCodePoint(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
