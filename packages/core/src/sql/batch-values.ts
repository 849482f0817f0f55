import type { ColumnModel } from '../model/entity-model.js';
import { toPgText } from './pg-text.js';

/**
 * One batch in column-major text form: what travels to PostgreSQL (one `text[]` parameter per
 * column, or COPY rows) and what error detail is matched against.
 */
export interface BatchValues<E> {
  /** Column names, in statement order. */
  readonly columns: string[];
  /** values[c][r]: the text of column c for row r (null = SQL NULL). */
  readonly values: (string | null)[][];
  /** defaults[c][r]: row r leaves column c to its database default (only for mixed columns). */
  readonly defaults: (boolean[] | undefined)[];
  /** Input index (in the whole call) of each row. */
  readonly indices: number[];
  readonly entities: E[];
}

/**
 * Reads the values of `entities` for `columns`. A column is sent when at least one row sets it; rows
 * that leave such a column undefined get its database default (marked in `defaults`).
 */
export function readBatchValues<E>(
  columns: readonly ColumnModel<E>[],
  entities: E[],
  indices: number[],
  prepared: readonly unknown[] = [],
): { batch: BatchValues<E>; sent: ColumnModel<E>[] } {
  const sent: ColumnModel<E>[] = [];
  const values: (string | null)[][] = [];
  const defaults: (boolean[] | undefined)[] = [];
  for (const column of columns) {
    const texts: (string | null)[] = new Array(entities.length);
    const unset: boolean[] = new Array(entities.length);
    let unsetCount = 0;
    const zoned = column.kind === 'timestamptz';
    for (let r = 0; r < entities.length; r++) {
      let v = column.read(entities[r] as E, prepared[r]);
      if (v === undefined) v = column.insertDefault;
      unset[r] = v === undefined;
      if (v === undefined) unsetCount++;
      texts[r] = toPgText(v, zoned);
    }
    if (unsetCount === entities.length && (column.hasDefault || column.nullable)) continue;
    sent.push(column);
    values.push(texts);
    defaults.push(unsetCount > 0 && column.hasDefault ? unset : undefined);
  }
  return { batch: { columns: sent.map((c) => c.name), values, defaults, indices, entities }, sent };
}
