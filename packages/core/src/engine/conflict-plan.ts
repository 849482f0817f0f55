import { DuplicateKeyInBatchError } from '../errors/bulk-write-error.js';
import { type ColumnModel, type EntityModel, primaryColumns } from '../model/entity-model.js';
import type { BatchValues } from '../sql/batch-values.js';
import type { ConflictAction } from '../sql/insert-statement.js';
import { toPgText } from '../sql/pg-text.js';
import { nextVersionSql, versionStepOf } from '../sql/version-step.js';
import type { InputBatch } from './batches.js';
import type { BulkResult, InsertOptions, OnConflict } from './bulk-options.js';
import { keepRows, pickRows } from './skip-rows.js';

export function columnByName<E>(model: EntityModel<E>, name: string): ColumnModel<E> {
  const column = model.columns.find((c) => c.name === name);
  if (!column) throw new Error(`cohort: ${model.name} has no column "${name}"`);
  return column;
}

/**
 * Applies `duplicates: 'keepFirst' | 'keepLast'`: of rows sharing a conflict key, one is written and
 * the others are reported as skipped. (`'error'` is checked when the statement is built.)
 */
export function dropDuplicates<E>(
  model: EntityModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  result: BulkResult<E>,
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
export function resolveConflict<E>(model: EntityModel<E>, option: OnConflict | undefined): ConflictAction {
  if (option === undefined || option === 'error') return { kind: 'error' };
  if (option === 'ignore') return { kind: 'ignore' };
  const target = option.target?.length ? option.target.map((t) => columnName(model, t)) : defaultTarget(model);
  if (option.action === 'ignore') return { kind: 'ignore', target };
  const updatable = option.update?.length
    ? option.update.map((p) => columnName(model, p))
    : model.columns
        .filter((c) => c.updatable && !c.primary && !target.includes(c.name) && c.role !== 'createDate')
        .map((c) => c.name);
  const expressions = new Map(Object.entries(option.expressions ?? {}).map(([key, sql]) => [columnName(model, key), sql]));
  const set = updatable.map((name) => ({ column: name, expr: conflictSetExpr(model, name, expressions.get(name)) }));
  if (option.skipUnchanged) {
    return { kind: 'update', target, set, where: valuesDiffer(model, set, expressions), skipsUnchanged: true };
  }
  return { kind: 'update', target, set, where: option.where };
}

/**
 * SQL that is true when the update would change a value of the stored row `t` (TypeORM's
 * `skipUpdateIfNoValuesChanged`). Version and update-date columns only follow a change, so they do
 * not count unless an expression sets them. json (no equality operator) and types the engine does
 * not know are compared as text.
 */
function valuesDiffer<E>(
  model: EntityModel<E>,
  set: readonly { column: string; expr?: string }[],
  expressions: ReadonlyMap<string, string>,
): string {
  const compared = set.flatMap(({ column, expr }) => {
    const col = model.columns.find((c) => c.name === column);
    if (!expressions.has(column) && (col?.role === 'version' || col?.role === 'updateDate')) return [];
    const quoted = `"${column.replaceAll('"', '""')}"`;
    const text = col?.kind === 'json' || col?.kind === 'other' ? '::text' : '';
    return [`t.${quoted}${text} IS DISTINCT FROM (${expr ?? `excluded.${quoted}`})${text}`];
  });
  return compared.length > 0 ? `(${compared.join(' OR ')})` : 'false';
}

function conflictSetExpr<E>(model: EntityModel<E>, name: string, expression: string | undefined): string | undefined {
  const quoted = `"${name.replaceAll('"', '""')}"`;
  if (expression) return `(${expression.replaceAll('{current}', `t.${quoted}`).replaceAll('{value}', `excluded.${quoted}`)})`;
  const column = model.columns.find((c) => c.name === name);
  if (column?.role === 'version') return nextVersionSql(versionStepOf(column), `t.${quoted}`);
  if (column?.role === 'updateDate') return 'CURRENT_TIMESTAMP';
  return undefined;
}

function defaultTarget<E>(model: EntityModel<E>): string[] {
  const unique = model.uniques[0];
  return unique ? [...unique.columns] : primaryColumns(model).map((c) => c.name);
}

/** Accepts a column name or a property path. */
export function columnName<E>(model: EntityModel<E>, nameOrProperty: string): string {
  const column: ColumnModel<E> | undefined =
    model.columns.find((c) => c.name === nameOrProperty) ?? model.columns.find((c) => c.property === nameOrProperty);
  if (!column) throw new Error(`cohort: ${model.name} has no column or property "${nameOrProperty}"`);
  return column.name;
}

export function conflictKeyColumns<E>(conflict: ConflictAction, keys: ColumnModel<E>[], sent: Set<string>): string[] {
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
