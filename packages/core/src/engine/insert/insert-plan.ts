import type { InputBatch } from '../../adapter/contract.js';
import type { BoundColumn, BoundModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { drawsFromSequence, readTableCatalog, returnsOldRows, type TableCatalog } from '../../model/table-catalog.js';
import { type BatchValues, readBatchValues, readColumnValues } from '../../sql/batch-values.js';
import type { ConflictAction } from '../../sql/conflict-clause.js';
import { binaryParameter } from '../../sql/copy-binary.js';
import type { InsertStatement } from '../../sql/insert-statement.js';
import { mayCopy } from '../copy/copy-strategy.js';
import { canCopyDirectly } from '../copy/direct-copy.js';
import type { DrawnKeys } from '../copy/sequence-keys.js';
import type { InsertOptions } from '../options/bulk-options.js';
import {
  conflictKeyColumns,
  dropDuplicates,
  planUpsert,
  rejectDuplicateKeys,
  resolveConflict,
  type UpsertPlan,
} from '../upsert/conflict-plan.js';
import type { InsertContext } from './insert-phases.js';

/** A batch with its columns' values already read (column-major, aligned with {@link insertColumns}). */
export interface ReadInputBatch<E> extends InputBatch<E> {
  readonly raw?: unknown[][];
  /** Sequence keys being drawn for these rows (see {@link drawKeysEarly}). */
  readonly drawn?: Promise<DrawnKeys>;
  /** Per row, join columns sent as NULL: a tree's parent the call inserts, linked by its UPDATE. */
  readonly detached?: ReadonlyMap<E, readonly string[]>;
}

/** The columns an insert sends: the insertable ones, and a conflict target even when not insertable. */
export function insertColumns<E>(model: BoundModel<E>, options: InsertOptions): BoundColumn<E>[] {
  const conflict = resolveConflict(model, options.onConflict);
  // A conflict target is always sent, even a key the ORM never inserts itself (a serial id):
  // an upsert by id needs the id; rows without one still get a generated key (per-row default).
  const targetColumns = conflict.kind === 'error' ? [] : (conflict.target ?? []);
  return model.columns.filter((c) => c.insertable || targetColumns.includes(c.name));
}

/** The statement of one batch, with the values it sends. */
interface InsertPlan<E> {
  readonly stmt: InsertStatement;
  readonly values: BatchValues<E>;
  readonly sent: BoundColumn<E>[];
  /** The columns the statement returns, in order (`r0`, `r1`…). */
  readonly returning: readonly BoundColumn<E>[];
  /** For an upsert: what its update writes for this batch. */
  readonly upsert?: UpsertPlan<E>;
  /** The rows can be copied straight into the table (see {@link canCopyDirectly}). */
  readonly direct: boolean;
  /** Binary arrays standing in for the sent columns' text (undefined where a column travels as text). */
  readonly binary?: (Buffer | undefined)[];
}

/** A batch ready to send: its rows (duplicates dropped), its statement and values. */
export interface PlannedRows<E> {
  readonly rows: ReadInputBatch<E>;
  /** Undefined when no row is left to write. */
  readonly plan?: InsertPlan<E>;
  readonly catalog?: TableCatalog;
}

/** Drops the rows `duplicates` removes and works out the statement (no SQL is sent but catalog reads). */
export async function planRows<E>(
  context: InsertContext<E>,
  valid: ReadInputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
): Promise<PlannedRows<E>> {
  const { model, options, target, result } = context;
  const rows: ReadInputBatch<E> = dropDuplicates(model, options, valid, prepared, result);
  if (rows.entities.length === 0) return { rows };
  const catalog = await readTableCatalog(target.session, model as BoundModel<never>);
  return { rows, catalog, plan: planInsert(context, { ...rows, detached: valid.detached }, prepared, catalog) };
}

/** Works out the batch's statement from its values (read here unless `raw` holds them). */
function planInsert<E>(
  context: InsertContext<E>,
  batch: ReadInputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  catalog: TableCatalog,
): InsertPlan<E> {
  const { model, options } = context;
  const { session } = context.target;
  const conflict = resolveConflict(model, options.onConflict);
  const insertable = insertColumns(model, options);
  const rowsPrepared = prepared.size > 0 ? batch.entities.map((e) => prepared.get(e)) : [];
  // The conflict target is sent even when no row of the batch gives it (the rows then insert, as a
  // batch where some rows give it inserts the others): the statement orders and matches rows by it.
  // A primary key no row gives is generated in SQL instead (see `generatedKeys`).
  const target =
    conflict.kind === 'update' || conflict.kind === 'ignore'
      ? new Set((conflict.target ?? []).filter((name) => !model.columns.some((c) => c.primary && c.name === name)))
      : undefined;
  const raw = detachJoins(insertable, batch, rowsPrepared);
  const { batch: values, sent } = readBatchValues(insertable, batch.entities, batch.indices, rowsPrepared, raw, target);
  const keys = primaryColumns(model);
  const sentNames = new Set(sent.map((c) => c.name));
  const generatedKeys = keys.filter((k) => !sentNames.has(k.name)).map((k) => k.name);
  const mixed = new Set(sent.filter((_, i) => values.defaults[i]).map((c) => c.name));
  if (conflict.kind !== 'error') rejectDuplicateKeys(values, conflictKeyColumns(conflict, keys, sentNames), batch.number);
  const upsert = conflict.kind === 'update' ? planUpsert(model, conflict, batch.entities, sent, values.unset) : undefined;
  const returning = upsert?.readBack.length ? [...model.returningOnInsert, ...upsert.readBack] : model.returningOnInsert;

  const stmt: InsertStatement = {
    table: catalog,
    mapping: rowMapping(conflict, keys, generatedKeys, catalog),
    rowCount: batch.entities.length,
    sent: sent.map((c, i) => ({ name: c.name, mixed: mixed.has(c.name), kept: upsert?.kept[i] !== undefined })),
    generatedKeys,
    rowKey: keys.map((k) => k.name),
    returning: returning.map((c) => c.name),
    conflict: upsert?.conflict ?? conflict,
    // Rows are written in conflict-key order so that concurrent upserts lock in one order.
    orderBy: conflict.kind === 'update' || conflict.kind === 'ignore' ? conflict.target : undefined,
    returnOld: upsert && returnsOldRows(catalog) ? upsert.writes.map((s) => s.column) : undefined,
  };
  const direct = canCopyDirectly(stmt, stmt.returning);
  // Columns that can travel as binary arrays do, unless the rows may go through COPY.
  const binary =
    session.binaryParameters && !mayCopy(options.strategy, session, batch.entities.length, direct)
      ? sent.map((c, i) => binaryParameter(catalog.columns.get(c.name), values.raw[i] as unknown[]))
      : undefined;
  return { stmt, values, sent, returning, upsert, direct, binary };
}

/** How returned rows find their input row: by the drawn sequence key's order, or joined by ordinal (see `mapping`). */
function rowMapping<E>(
  conflict: ConflictAction,
  keys: readonly BoundColumn<E>[],
  generatedKeys: readonly string[],
  catalog: TableCatalog,
): InsertStatement['mapping'] {
  const [onlyKey] = keys;
  return conflict.kind === 'error' &&
    keys.length === 1 &&
    onlyKey &&
    generatedKeys.includes(onlyKey.name) &&
    drawsFromSequence(catalog.columns.get(onlyKey.name))
    ? 'sequence'
    : 'join';
}

/** The batch's values, with the join columns of {@link ReadInputBatch.detached} rows NULL (read here when not read yet). */
function detachJoins<E>(
  columns: readonly BoundColumn<E>[],
  batch: ReadInputBatch<E>,
  prepared: readonly unknown[],
): readonly unknown[][] | undefined {
  const { detached } = batch;
  if (!detached || detached.size === 0) return batch.raw;
  const raw = [...(batch.raw ?? readColumnValues(columns, batch.entities, prepared))];
  // Only the join columns are copied (the others keep what reading them found).
  const copied = new Set<number>();
  batch.entities.forEach((entity, r) => {
    for (const name of detached.get(entity) ?? []) {
      const c = columns.findIndex((column) => column.name === name);
      if (c < 0) continue;
      if (!copied.has(c)) raw[c] = [...(raw[c] as unknown[])];
      copied.add(c);
      (raw[c] as unknown[])[r] = null;
    }
  });
  return raw;
}
