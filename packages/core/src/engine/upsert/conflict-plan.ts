import type { InputBatch } from '../../adapter/contract.js';
import { DuplicateKeyInBatchError } from '../../errors/bulk-write-error.js';
import { BulkUsageError } from '../../errors/usage-errors.js';
import type { BoundColumn, BoundModel } from '../../model/bound-model.js';
import { type ColumnModel, type EntityModel, primaryColumns } from '../../model/entity-model.js';
import type { BatchValues } from '../../sql/batch-values.js';
import type { ConflictAction, ConflictSet } from '../../sql/conflict-clause.js';
import { quoteIdent } from '../../sql/identifier.js';
import { toPgText } from '../../sql/pg-text.js';
import { nextVersionSql, versionStepOf } from '../../sql/version-step.js';
import { keepRows, pickRows } from '../batches/skip-rows.js';
import type { InsertOptions, OnConflict, RunningResult } from '../options/bulk-options.js';

export function columnByName<E>(model: BoundModel<E>, name: string): BoundColumn<E> {
  const column = model.columns.find((c) => c.name === name);
  if (!column) throw new BulkUsageError(`${model.name} has no column "${name}" (conflict target)`, { option: 'target' });
  return column;
}

/**
 * Applies `duplicates: 'keepFirst' | 'keepLast'`: of rows sharing a conflict key, one is written and
 * the others are reported as skipped. (`'error'` is checked when the statement is built.)
 */
export function dropDuplicates<E>(
  model: BoundModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  result: RunningResult<E>,
): InputBatch<E> {
  const conflict = resolveConflict(model, options.onConflict);
  const mode = options.duplicates ?? 'error';
  if (mode === 'error' || conflict.kind === 'error' || !conflict.target?.length) return batch;
  const columns = conflict.target.map((name) => columnByName(model, name));
  const keyOf = (e: E) => JSON.stringify(columns.map((c) => toPgText(c.read(e, prepared.get(e)), c.kind === 'timestamptz')));
  const winner = new Map<string, number>();
  batch.entities.forEach((entity, position) => {
    const key = keyOf(entity);
    if (mode === 'keepLast' || !winner.has(key)) winner.set(key, position);
  });
  const kept = keepRows(batch, result, (entity, _, position) =>
    winner.get(keyOf(entity)) === position ? undefined : { reason: 'duplicate' },
  );
  return pickRows(batch, kept);
}

/** Turns the `onConflict` option into the statement's conflict action. */
export function resolveConflict(model: EntityModel, option: OnConflict | undefined): ConflictAction {
  if (option === undefined || option === 'error') return { kind: 'error' };
  if (option === 'ignore') return { kind: 'ignore' };
  const target = option.target?.length ? option.target.map((t) => columnName(model, t)) : defaultTarget(model);
  if (option.action === 'ignore') return { kind: 'ignore', target };
  const updatable = option.update?.length
    ? option.update.map((p) => columnName(model, p))
    : model.columns
        .filter((c) => (c.upsertable ?? c.updatable) && !target.includes(c.name) && c.role !== 'createDate')
        .map((c) => c.name);
  const expressions = new Map(Object.entries(option.expressions ?? {}).map(([key, sql]) => [columnName(model, key), sql]));
  const set = updatable.map((name) => conflictSet(model, name, expressions.get(name)));
  if (option.skipUnchanged) return { kind: 'update', target, set, skipsUnchanged: true };
  return { kind: 'update', target, set, where: option.where };
}

/**
 * One column of the update. `compare` (for `skipUnchanged`, TypeORM's `skipUpdateIfNoValuesChanged`):
 * version and update-date columns only follow a change, so they do not count unless an expression
 * sets them; json (no equality operator) and types the engine does not know compare as text.
 */
function conflictSet(model: EntityModel, name: string, expression: string | undefined): ConflictSet {
  const quoted = quoteIdent(name);
  const column = model.columns.find((c) => c.name === name);
  const compare = column?.kind === 'json' || column?.kind === 'other' ? 'text' : 'value';
  if (expression) {
    const expr = `(${expression.replaceAll('{current}', `t.${quoted}`).replaceAll('{value}', `excluded.${quoted}`)})`;
    return { column: name, expr, fromRow: expression.includes('{value}'), compare };
  }
  if (column?.role === 'version') return { column: name, expr: nextVersionSql(versionStepOf(column), `t.${quoted}`) };
  if (column?.role === 'updateDate') return { column: name, expr: 'CURRENT_TIMESTAMP' };
  return { column: name, fromRow: true, compare };
}

/** An upsert's update as one batch writes it (see {@link planUpsert}). */
export interface UpsertPlan<E> {
  /** The statement's conflict action: the batch's SET, a no-op one when no column is written. */
  readonly conflict: Extract<ConflictAction, { kind: 'update' }>;
  /** What the update writes (empty when nothing: the SET is a no-op and found rows are unchanged). */
  readonly writes: readonly ConflictSet[];
  /** Per sent column, the rows that keep its stored value (only for the columns of `unlessKept` writes). */
  readonly kept: readonly (boolean[] | undefined)[];
  /** Columns read back after the upsert (beyond the model's `returningOnInsert`; see `upsertReadsBack`). */
  readonly readBack: readonly BoundColumn<E>[];
}

/**
 * The update of one batch's upsert. SPEC §8: an upsert never overwrites a column the input leaves
 * undefined — per row, not per batch. A column no row gives is not written; a column some rows give
 * is written by those rows only (the others carry a keep flag); a value made for the insert only
 * (`insertOnly`) counts as not given. When nothing is left to write, the SET is a no-op (`DO
 * NOTHING` would not return the row), so the found row is reported as unchanged.
 */
export function planUpsert<E>(
  model: BoundModel<E>,
  conflict: Extract<ConflictAction, { kind: 'update' }>,
  entities: readonly E[],
  sent: readonly BoundColumn<E>[],
  unset: readonly (boolean[] | undefined)[],
): UpsertPlan<E> {
  const names = sent.map((c) => c.name);
  const keep = [...unset];
  if (model.insertOnly) {
    for (let r = 0; r < entities.length; r++) {
      const only = model.insertOnly(entities[r] as E);
      if (!only) continue;
      for (const name of only) {
        const at = names.indexOf(name);
        if (at < 0) continue;
        let flags = keep[at];
        // `unset` arrays are the batch's own (the default flags share them): copied before a change.
        if (!flags || flags === unset[at]) {
          flags = flags ? [...flags] : new Array<boolean>(entities.length).fill(false);
          keep[at] = flags;
        }
        flags[r] = true;
      }
    }
  }
  const writes: ConflictSet[] = [];
  const kept: (boolean[] | undefined)[] = new Array(sent.length).fill(undefined);
  for (const entry of conflict.set) {
    if (!entry.fromRow) {
      writes.push(entry);
      continue;
    }
    const at = names.indexOf(entry.column);
    const flags = at < 0 ? undefined : keep[at];
    if (at < 0 || flags?.every(Boolean)) continue;
    if (!flags?.includes(true)) {
      writes.push(entry);
      continue;
    }
    kept[at] = flags;
    writes.push({ ...entry, unlessKept: true });
  }
  const [first] = conflict.target;
  const set = writes.length > 0 || !first ? writes : [{ column: first, expr: `t.${quoteIdent(first)}` }];
  const written = new Set(writes.filter((w) => w.fromRow && !w.unlessKept).map((w) => w.column));
  const readBack = model.upsertReadsBack
    ? model.columns.filter(
        (c) => !conflict.target.includes(c.name) && !written.has(c.name) && !model.returningOnInsert.includes(c),
      )
    : [];
  return { conflict: { ...conflict, set }, writes, kept, readBack };
}

function defaultTarget(model: EntityModel): string[] {
  const unique = model.uniques[0];
  return unique ? [...unique.columns] : primaryColumns(model).map((c) => c.name);
}

/** Accepts a column name or a property path. */
export function columnName(model: EntityModel, nameOrProperty: string): string {
  const column: ColumnModel | undefined =
    model.columns.find((c) => c.name === nameOrProperty) ?? model.columns.find((c) => c.property === nameOrProperty);
  if (!column) {
    throw new BulkUsageError(`${model.name} has no column or property "${nameOrProperty}" (conflict target)`, {
      option: 'target',
    });
  }
  return column.name;
}

export function conflictKeyColumns<E>(conflict: ConflictAction, keys: BoundColumn<E>[], sent: Set<string>): string[] {
  if (conflict.kind === 'update' || (conflict.kind === 'ignore' && conflict.target)) return [...(conflict.target ?? [])];
  return keys.every((k) => sent.has(k.name)) ? keys.map((k) => k.name) : [];
}

/** PostgreSQL cannot upsert two rows with one key in one statement; find such pairs first. */
export function rejectDuplicateKeys<E>(values: BatchValues<E>, columns: string[], batchNumber: number): void {
  const at = columns.map((name) => values.columns.indexOf(name));
  if (at.length === 0 || at.some((i) => i < 0)) return;
  const texts = at.map((c) => values.text(c));
  const [only] = texts;
  const seen = new Map<string, number>();
  for (let row = 0; row < values.indices.length; row++) {
    // One column's text is its own map key; several are joined as JSON.
    let key: string;
    if (texts.length === 1 && only) {
      const text = only[row];
      if (text === null || text === undefined) continue;
      key = text;
    } else {
      const parts = texts.map((t) => t[row] ?? null);
      if (parts.some((p) => p === null)) continue;
      key = JSON.stringify(parts);
    }
    const first = seen.get(key);
    if (first !== undefined) {
      const shown = Object.fromEntries(columns.map((name, i) => [name, (texts[i] as (string | null)[])[row]]));
      throw new DuplicateKeyInBatchError(
        [values.indices[first] as number, values.indices[row] as number],
        shown,
        values.entities[row] as E,
        batchNumber,
      );
    }
    seen.set(key, row);
  }
}
