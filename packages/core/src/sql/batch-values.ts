import { refusalAtRow, UnsupportedFeatureError } from '../errors/usage-errors.js';
import type { BoundColumn } from '../model/bound-model.js';
import { readValue, refuseUnreadable, UnreadableValue } from '../validate/unreadable-value.js';
import { toPgText } from './pg-text.js';

/** Arrays of read values that hold an {@link UnreadableValue} (a conversion that threw). */
const withUnreadable = new WeakSet<readonly unknown[]>();

/**
 * One batch in column-major form: what travels to PostgreSQL (one array parameter per column, or
 * COPY rows) and what error detail is matched against.
 */
export interface BatchValues<E> {
  /** Column names, in statement order. */
  readonly columns: string[];
  /**
   * raw[c][r]: the value of column c for row r as the ORM hands it to its driver (`insertDefault`
   * applied; undefined = the database default).
   */
  readonly raw: readonly unknown[][];
  /** values[c][r]: the text of column c for row r (null = SQL NULL). Encoded on first use. */
  readonly values: (string | null)[][];
  /** The text of column c's values (as `values[c]`), encoding only that column on first use. */
  text(c: number): (string | null)[];
  /** defaults[c][r]: row r leaves column c to its database default (only for mixed columns). */
  readonly defaults: (boolean[] | undefined)[];
  /** unset[c][r]: row r leaves column c undefined (undefined when every row gives it a value). */
  readonly unset: (boolean[] | undefined)[];
  /** Input index (in the whole call) of each row. */
  readonly indices: number[];
  readonly entities: E[];
}

/** Reads `columns` of every entity (column-major): what validation checks and the statement sends. */
export function readColumnValues<E>(
  columns: readonly BoundColumn<E>[],
  entities: readonly E[],
  prepared: readonly unknown[] = [],
  indices?: readonly number[],
): unknown[][] {
  return columns.map((column) => {
    const values: unknown[] = new Array(entities.length);
    for (let r = 0; r < entities.length; r++) {
      try {
        values[r] = column.read(entities[r] as E, prepared[r]);
      } catch {
        // Rare: read again to keep the error (cohort's own errors are thrown from there, naming the
        // row when the input's indices are known).
        try {
          values[r] = readValue(column, entities[r] as E, prepared[r]);
        } catch (error) {
          const index = indices?.[r];
          if (error instanceof UnsupportedFeatureError && index !== undefined) {
            throw refusalAtRow(error, index, entities[r] as E);
          }
          throw error;
        }
        if (values[r] instanceof UnreadableValue) withUnreadable.add(values);
      }
    }
    return values;
  });
}

/**
 * The values of `entities` for `columns` (`raw`: from {@link readColumnValues}, read here when not
 * given). A column is sent when at least one row sets it; rows that leave such a column undefined
 * get its database default (marked in `defaults`). Columns in `alwaysSent` (an upsert's conflict
 * target) are sent even when no row sets them: the statement matches rows by them.
 */
export function readBatchValues<E>(
  columns: readonly BoundColumn<E>[],
  entities: E[],
  indices: number[],
  prepared: readonly unknown[] = [],
  raw: readonly unknown[][] = readColumnValues(columns, entities, prepared),
  alwaysSent?: ReadonlySet<string>,
): { batch: BatchValues<E>; sent: BoundColumn<E>[] } {
  // Validated batches never get here with one; an unvalidated one is refused rather than sent.
  if (raw.some((values) => withUnreadable.has(values))) refuseUnreadable(columns, raw, entities, indices);
  const sent: BoundColumn<E>[] = [];
  const sentRaw: unknown[][] = [];
  const defaults: (boolean[] | undefined)[] = [];
  const unsets: (boolean[] | undefined)[] = [];
  columns.forEach((column, c) => {
    const read = raw[c] as unknown[];
    let values = read;
    let unset: boolean[] | undefined;
    let unsetCount = 0;
    for (let r = 0; r < entities.length; r++) {
      if (read[r] !== undefined) continue;
      if (values === read) values = [...read];
      values[r] = column.insertDefault;
      if (column.insertDefault !== undefined) continue;
      unset ??= new Array(entities.length).fill(false);
      unset[r] = true;
      unsetCount++;
    }
    if (unsetCount === entities.length && (column.hasDefault || column.nullable) && !alwaysSent?.has(column.name)) return;
    sent.push(column);
    sentRaw.push(values);
    defaults.push(unsetCount > 0 && column.hasDefault ? unset : undefined);
    unsets.push(unset);
  });
  const texts: (string | null)[][] = [];
  const text = (c: number) => {
    texts[c] ??= encodeColumn(sent[c] as BoundColumn<E>, sentRaw[c] as unknown[]);
    return texts[c];
  };
  let all: (string | null)[][] | undefined;
  const batch: BatchValues<E> = {
    columns: sent.map((c) => c.name),
    raw: sentRaw,
    // One array, built once: a stage's COPY reads it per field.
    get values() {
      all ??= sent.map((_, c) => text(c));
      return all;
    },
    text,
    defaults,
    unset: unsets,
    indices,
    entities,
  };
  return { batch, sent };
}

/** The PostgreSQL text of one column's values. */
export function encodeColumn(column: BoundColumn<never>, values: readonly unknown[]): (string | null)[] {
  const zoned = column.kind === 'timestamptz';
  const texts: (string | null)[] = new Array(values.length);
  for (let r = 0; r < values.length; r++) texts[r] = toPgText(values[r], zoned);
  return texts;
}
