import type { BulkJob, InputBatch, RowChange, SqlSession, UpdateHookBatch, WriteTarget } from '../adapter/contract.js';
import { BulkValidationError } from '../errors/bulk-write-error.js';
import { convertDatabaseError } from '../errors/pg-error-converter.js';
import { type BoundColumn, type BoundModel, bindModel } from '../model/bound-model.js';
import { primaryColumns } from '../model/entity-model.js';
import { drawsFromSequence, readTableCatalog, returnsOldRows, type TableCatalog } from '../model/table-catalog.js';
import { type BatchValues, readBatchValues, readColumnValues } from '../sql/batch-values.js';
import { binaryParameter } from '../sql/copy-binary.js';
import {
  type ConflictAction,
  compileInsert,
  INSERTED,
  type InsertStatement,
  ORDINAL,
  oldName,
  returnedName,
} from '../sql/insert-statement.js';
import { validateBatch } from '../validate/batch-validator.js';
import type { BulkResult, InsertOptions, RowOutcome, UpsertOptions } from './bulk-options.js';
import {
  columnByName,
  conflictKeyColumns,
  dropDuplicates,
  planUpsert,
  rejectDuplicateKeys,
  resolveConflict,
  type UpsertPlan,
} from './conflict-plan.js';
import {
  canCopyDirectly,
  compareKeys,
  copyClientFor,
  copyDirectly,
  type DrawnKeys,
  drawKeysEarly,
  insertThroughStage,
  mayCopy,
} from './copy-insert.js';
import { afterDispatch } from './copy-runner.js';
import { refuseFrozenRows } from './frozen-rows.js';
import type { RowOrder } from './key-order.js';
import { refuseChangedRelations, refuseUnwrittenRelations } from './relation-guard.js';
import { conversionFailures, prepareRows } from './row-preparation.js';
import { runBatches } from './run-batches.js';
import { failuresByIndex, keepRows, pickRows } from './skip-rows.js';
import type { StagedWork } from './staged-batches.js';

/** Everything the engine needs to insert entities of one model. */
export type InsertJob<E> = BulkJob<E, InsertOptions>;

/**
 * Inserts `input` batch by batch. Per batch (SPEC §3): before-hooks → validation → one statement →
 * generated values back onto the objects → after-hooks for the rows written.
 */
export function runInsert<E>(job: InsertJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  return runBatches(input, job.options, job.transaction, insertStages(bindModel(job.model, job.access), job.options));
}

/** Everything the engine needs to upsert entities of one model. */
export type UpsertJob<E> = BulkJob<E, UpsertOptions>;

/**
 * Upserts `input` batch by batch: one `INSERT … ON CONFLICT (target) DO UPDATE` per batch, rows
 * written in conflict-key order, each row's outcome (inserted, updated, skipped) reported and
 * followed by the matching after-hooks.
 */
export function runUpsert<E>(job: UpsertJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const { target, update, where, expressions, duplicates, skipUnchanged, ...rest } = job.options;
  const onConflict = { target, update, where, expressions, skipUnchanged, action: 'update' as const };
  const options: InsertOptions = { ...rest, duplicates, onConflict };
  return runBatches(input, options, job.transaction, insertStages(bindModel(job.model, job.access), options));
}

/**
 * An insert's batch work in stages (see {@link StagedWork}): before-hooks, validation and the
 * statement's values; the statement; values back, outcomes, after-hooks.
 */
export function insertStages<E>(model: BoundModel<E>, options: InsertOptions): StagedWork<E, PlannedRows<E>, SentRows<E>> {
  return {
    overlap: options.pipeline !== false && !model.refersToItself,
    order: lockOrder(model, options),
    async prepare(batch, target, result) {
      refuseFrozenRows(model, batch, 'insert');
      const { drawn } = await drawKeysEarly(model, options, batch.entities, target.session);
      await beforeInsertPhase(model, options, batch, target);
      const write = relationWriteOf(model, options);
      refuseUnwrittenRelations(model, batch, write);
      await refuseChangedRelations(model, batch, write, target);
      const prepared = prepareRows(model, batch.entities);
      const valid = await validateInsertPhase(model, options, batch, prepared, result);
      return planRows(model, options, { ...valid, drawn }, prepared, target, result);
    },
    send: (planned, target, onSent) => sendRows(options, planned, target, onSent),
    async finish(sent, target, result) {
      await afterInsertPhase(options, applyRows(model, sent, result), target);
    },
  };
}

/**
 * The order an upsert (or an insert that ignores conflicts on a target) locks rows in: its
 * statement writes rows in conflict-key order, and an array is cut into batches in that order too.
 */
function lockOrder<E>(model: BoundModel<E>, options: InsertOptions): RowOrder<E> | undefined {
  try {
    const conflict = resolveConflict(model, options.onConflict);
    if (conflict.kind === 'error' || !conflict.target?.length) return undefined;
    return { columns: conflict.target.map((name) => columnByName(model, name)) };
  } catch {
    // A target naming no column is refused when the first batch is prepared, as without an order.
    return undefined;
  }
}

/** The before-hooks of an insert (or of an upsert: what the ORM runs before its own upsert). */
export async function beforeInsertPhase<E>(
  model: BoundModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  target: WriteTarget<E>,
): Promise<void> {
  if (options.hooks === false || batch.entities.length === 0) return;
  const upsert = resolveConflict(model, options.onConflict).kind === 'update';
  if (upsert && target.hooks.beforeUpsert) await target.hooks.beforeUpsert(batch);
  else await target.hooks.beforeInsert(batch);
}

/** An upsert writes only the row's own columns (as the ORMs' upserts do); an insert, its relations too. */
function relationWriteOf<E>(model: BoundModel<E>, options: InsertOptions): 'insert' | 'upsert' {
  return resolveConflict(model, options.onConflict).kind === 'update' ? 'upsert' : 'insert';
}

/** Rows an insert wrote (or an upsert found), split by what happened to them. */
export interface WrittenRows<E> {
  readonly inserted: InputBatch<E>;
  readonly updated: UpdateHookBatch<E> & { changes: RowChange[] };
  /** Rows an upsert found and left as they were: it had nothing of theirs to write. */
  readonly unchanged: InputBatch<E>;
}

/** Sends the batch's one INSERT and records every row's outcome in `result`. */
export async function writeInsertPhase<E>(
  model: BoundModel<E>,
  options: InsertOptions,
  valid: ReadInputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  target: WriteTarget<E>,
  result: BulkResult<E>,
): Promise<WrittenRows<E>> {
  const planned = await planRows(model, options, valid, prepared, target, result);
  return applyRows(model, await sendRows(options, planned, target), result);
}

/** Records each row's outcome in `result` and splits the rows by it (for the after-hooks). */
function recordOutcomes<E>(
  rows: InputBatch<E>,
  conflict: ConflictAction,
  outcomes: readonly RowOutcome[],
  changes: readonly (RowChange | undefined)[],
  result: BulkResult<E>,
): WrittenRows<E> {
  const inserted: InputBatch<E> = { number: rows.number, entities: [], indices: [] };
  const updated: WrittenRows<E>['updated'] = { number: rows.number, entities: [], indices: [], changes: [] };
  const unchanged: InputBatch<E> = { number: rows.number, entities: [], indices: [] };
  rows.entities.forEach((entity, position) => {
    const index = rows.indices[position] as number;
    const outcome = outcomes[position] as RowOutcome;
    result.outcomes[index] = outcome;
    if (outcome === 'inserted') {
      result.inserted++;
      inserted.entities.push(entity);
      inserted.indices.push(index);
    } else if (outcome === 'updated') {
      result.updated++;
      updated.entities.push(entity);
      updated.indices.push(index);
      updated.changes.push(changes[position] as RowChange);
    } else if (outcome === 'unchanged') {
      result.unchanged++;
      unchanged.entities.push(entity);
      unchanged.indices.push(index);
    } else if (conflict.kind === 'update' && conflict.skipsUnchanged) {
      // Not returned: the update's only condition, "some value differs", was false for it.
      result.outcomes[index] = 'unchanged';
      result.unchanged++;
    } else {
      result.skipped.push({ index, entity, reason: conflict.kind === 'update' ? 'condition' : 'conflict' });
    }
  });
  return { inserted, updated, unchanged };
}

/** After-hooks that follow the real outcome: insert hooks for inserted rows, update hooks for updated ones. */
export async function afterInsertPhase<E>(
  options: InsertOptions,
  written: WrittenRows<E>,
  target: WriteTarget<E>,
): Promise<void> {
  if (options.hooks === false) return;
  if (written.inserted.entities.length > 0) await target.hooks.afterInsert(written.inserted);
  // Updated rows carry what the upsert wrote: its columns, and their values before (PostgreSQL ≥ 18).
  if (written.updated.entities.length > 0 && target.hooks.afterUpdate) await target.hooks.afterUpdate(written.updated);
  if (written.unchanged.entities.length > 0 && target.hooks.afterUpsertUnchanged) {
    await target.hooks.afterUpsertUnchanged(written.unchanged);
  }
  if (target.hooks.afterUpsert) {
    const all = inInputOrder(written);
    if (all.entities.length > 0) await target.hooks.afterUpsert(all);
  }
}

/** The inserted, updated and unchanged rows of a batch as one batch, in input order. */
function inInputOrder<E>(written: WrittenRows<E>): InputBatch<E> {
  const rows: Array<{ index: number; entity: E }> = [];
  for (const part of [written.inserted, written.updated, written.unchanged]) {
    part.entities.forEach((entity, position) => {
      rows.push({ index: part.indices[position] as number, entity });
    });
  }
  rows.sort((a, b) => a.index - b.index);
  return { number: written.inserted.number, entities: rows.map((r) => r.entity), indices: rows.map((r) => r.index) };
}

/** A batch with its columns' values already read (column-major, aligned with {@link insertColumns}). */
export interface ReadInputBatch<E> extends InputBatch<E> {
  readonly raw?: unknown[][];
  /** Sequence keys being drawn for these rows (see {@link drawKeysEarly}). */
  readonly drawn?: Promise<DrawnKeys>;
}

/** The columns an insert sends: the insertable ones, and a conflict target even when not insertable. */
function insertColumns<E>(model: BoundModel<E>, options: InsertOptions): BoundColumn<E>[] {
  const conflict = resolveConflict(model, options.onConflict);
  // A conflict target is always sent, even a key the ORM never inserts itself (a serial id):
  // an upsert by id needs the id; rows without one still get a generated key (per-row default).
  const targetColumns = conflict.kind === 'error' ? [] : (conflict.target ?? []);
  return model.columns.filter((c) => c.insertable || targetColumns.includes(c.name));
}

/**
 * Validates the batch; returns the rows to write (with the values read for validation, so the write
 * does not read them again), or throws when invalid rows must stop the call.
 */
export async function validateInsertPhase<E>(
  model: BoundModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  result: BulkResult<E>,
): Promise<ReadInputBatch<E>> {
  if (options.validate === false) {
    // Unvalidated rows are sent as they are, except ones the ORM itself could not convert.
    const broken = conversionFailures(batch.entities, batch.indices, new Set());
    if (broken.length > 0) throw new BulkValidationError(broken, batch.number);
    return batch;
  }
  const columns = insertColumns(model, options);
  const rowsPrepared = prepared.size > 0 ? batch.entities.map((e) => prepared.get(e)) : [];
  const raw = readColumnValues(columns, batch.entities, rowsPrepared, batch.indices);
  const checked = columns.flatMap((c, i) => (c.insertable ? [i] : []));
  const failures = await validateBatch(
    checked.map((i) => columns[i] as BoundColumn<E>),
    batch.entities,
    batch.indices,
    rowsPrepared,
    { classValidator: true },
    checked.map((i) => raw[i] as unknown[]),
  );
  failures.push(...conversionFailures(batch.entities, batch.indices, new Set(failures.map((f) => f.index))));
  failures.sort((a, b) => a.index - b.index);
  if (failures.length === 0) return { ...batch, raw };
  if (options.onInvalid !== 'skip') throw new BulkValidationError(failures, batch.number);
  const byIndex = failuresByIndex(failures);
  const kept = keepRows(batch, result, (_, index) => {
    const own = byIndex.get(index);
    return own ? { reason: 'invalid', failures: own } : undefined;
  });
  return { ...pickRows(batch, kept), raw: raw.map((values) => kept.map((p) => values[p])) };
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

/** Works out the batch's statement from its values (read here unless `raw` holds them). */
function planInsert<E>(
  model: BoundModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  catalog: TableCatalog,
  session: SqlSession,
  raw?: unknown[][],
): InsertPlan<E> {
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
  const { batch: values, sent } = readBatchValues(insertable, batch.entities, batch.indices, rowsPrepared, raw, target);
  const keys = primaryColumns(model);
  const sentNames = new Set(sent.map((c) => c.name));
  const generatedKeys = keys.filter((k) => !sentNames.has(k.name)).map((k) => k.name);
  const mixed = new Set(sent.filter((_, i) => values.defaults[i]).map((c) => c.name));
  if (conflict.kind !== 'error') rejectDuplicateKeys(values, conflictKeyColumns(conflict, keys, sentNames), batch.number);
  const upsert = conflict.kind === 'update' ? planUpsert(model, conflict, batch.entities, sent, values.unset) : undefined;
  const returning = upsert?.readBack.length ? [...model.returningOnInsert, ...upsert.readBack] : model.returningOnInsert;

  const [onlyKey] = keys;
  const mapping =
    conflict.kind === 'error' &&
    keys.length === 1 &&
    onlyKey &&
    generatedKeys.includes(onlyKey.name) &&
    drawsFromSequence(catalog.columns.get(onlyKey.name))
      ? 'sequence'
      : 'join';
  const stmt: InsertStatement = {
    table: catalog,
    mapping,
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

/** A batch ready to send: its rows (duplicates dropped), its statement and values. */
export interface PlannedRows<E> {
  readonly rows: ReadInputBatch<E>;
  /** Undefined when no row is left to write. */
  readonly plan?: InsertPlan<E>;
  readonly catalog?: TableCatalog;
}

/** What the statement gave back: the drawn keys of a direct COPY, or the returned rows. */
export interface SentRows<E> {
  readonly planned: PlannedRows<E>;
  readonly generated?: unknown[];
  readonly rows?: Record<string, unknown>[];
  /** The rows went through COPY (directly or through a stage). */
  readonly copied: boolean;
}

/** Drops the rows `duplicates` removes and works out the statement (no SQL is sent but catalog reads). */
export async function planRows<E>(
  model: BoundModel<E>,
  options: InsertOptions,
  valid: ReadInputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  target: WriteTarget<E>,
  result: BulkResult<E>,
): Promise<PlannedRows<E>> {
  const rows: ReadInputBatch<E> = dropDuplicates(model, options, valid, prepared, result);
  if (rows.entities.length === 0) return { rows };
  const catalog = await readTableCatalog(target.session, model as BoundModel<never>);
  return { rows, catalog, plan: planInsert(model, options, rows, prepared, catalog, target.session, rows.raw) };
}

/** Sends the batch's one statement (or COPY). Touches no entity: {@link applyRows} does. */
export async function sendRows<E>(
  options: InsertOptions,
  planned: PlannedRows<E>,
  target: WriteTarget<E>,
  onSent?: () => void,
): Promise<SentRows<E>> {
  const { rows: batch, plan } = planned;
  if (!plan) return { planned, copied: false };
  const { stmt, values, sent, direct, binary } = plan;
  const early = batch.drawn ? await batch.drawn : undefined;
  // A failed draw is reported as a failure of this batch's write, as a draw made by the write is.
  if (early?.error !== undefined) throw convertDatabaseError(early.error, values, batch.number);
  const client = await copyClientFor(options.strategy, target.session, batch.entities.length, direct);
  try {
    if (client && direct) {
      // Every row is written and its returned values are known without reading anything back.
      const generated = await copyDirectly(target.session, client, stmt, sent, values, early?.keys, onSent);
      return { planned, copied: true, generated };
    }
    const kept = plan.upsert?.kept ?? [];
    if (client) {
      const rows = await insertThroughStage(target.session, client, { ...stmt, mapping: 'join' }, values, kept, onSent);
      return { planned, copied: true, rows };
    }
    const columns = stmt.sent.map((_, c) => binary?.[c] ?? values.text(c));
    const { sql, parameters } = compileInsert(stmt, columns, values.defaults, kept);
    const query = target.session.query(sql, parameters);
    afterDispatch(onSent);
    return { planned, copied: false, rows: await query };
  } catch (error) {
    throw convertDatabaseError(error, values, batch.number, stmt);
  }
}

/**
 * Puts returned values onto the entities (mapped back by ordinal), records every row's outcome in
 * `result`, and returns the rows by outcome for the after-hooks.
 */
export function applyRows<E>(model: BoundModel<E>, sent: SentRows<E>, result: BulkResult<E>): WrittenRows<E> {
  const { rows: batch, plan, catalog } = sent.planned;
  const conflict = plan?.stmt.conflict ?? { kind: 'error' as const };
  const outcomes: RowOutcome[] = new Array(batch.entities.length).fill('skipped');
  const changes: (RowChange | undefined)[] = [];
  const returning = plan?.returning ?? model.returningOnInsert;
  if (plan && sent.generated) {
    const { stmt, values } = plan;
    const sources = returning.map((column) => {
      const at = stmt.sent.findIndex((s) => s.name === column.name);
      return at < 0 ? sent.generated : (values.raw[at] as unknown[]);
    });
    for (let position = 0; position < batch.entities.length; position++) {
      const entity = batch.entities[position] as E;
      for (let i = 0; i < returning.length; i++) {
        (returning[i] as BoundColumn<E>).write(entity, (sources[i] as unknown[])[position]);
      }
      model.finishInsert?.(entity);
      outcomes[position] = 'inserted';
    }
    return recordOutcomes(batch, conflict, outcomes, changes, result);
  }
  const rows = sent.rows ?? [];
  if (plan?.stmt.mapping === 'sequence' && !sent.copied) {
    // Keys were drawn from the sequence in ordinal order: the k-th smallest key is row k.
    rows.sort((a, b) => compareKeys(a.k0, b.k0));
    rows.forEach((row, position) => {
      row[ORDINAL] = position + 1;
    });
  }
  const changeOf = plan?.upsert ? upsertChanges(model, plan.upsert, plan.stmt, returnsOldRows(catalog)) : undefined;
  for (const row of rows) {
    const position = Number(row[ORDINAL]) - 1;
    const entity = batch.entities[position] as E;
    for (const [i, column] of returning.entries()) column.write(entity, row[returnedName(i)]);
    const change = changeOf && row[INSERTED] === false ? changeOf(row, position) : undefined;
    const outcome: RowOutcome = !changeOf || row[INSERTED] !== false ? 'inserted' : change ? 'updated' : 'unchanged';
    model.finishInsert?.(entity, changeOf ? (outcome as 'inserted' | 'updated' | 'unchanged') : undefined);
    outcomes[position] = outcome;
    changes[position] = change;
  }
  return recordOutcomes(batch, conflict, outcomes, changes, result);
}

/**
 * What an upsert's update wrote for a found row, or undefined when it wrote nothing. Rows that write
 * the same columns share one properties and one columns list (hooks may memoize per list).
 */
function upsertChanges<E>(
  model: BoundModel<E>,
  upsert: UpsertPlan<E>,
  stmt: InsertStatement,
  newer: boolean,
): (row: Record<string, unknown>, position: number) => RowChange | undefined {
  const columns = upsert.writes.map((s) => columnByName(model, s.column));
  // PostgreSQL 18 returns the row as it was before the update; older servers cannot.
  const before = (row: Record<string, unknown>, written: (i: number) => boolean) =>
    newer ? Object.fromEntries(columns.flatMap((c, i) => (written(i) ? [[c.property, row[oldName(i)]]] : []))) : {};
  const shared = { properties: columns.map((c) => c.property), columns: columns.map((c) => c.name) };
  const flags = upsert.writes.map((s) =>
    s.unlessKept ? upsert.kept[stmt.sent.findIndex((sent) => sent.name === s.column)] : undefined,
  );
  if (columns.length === 0) return () => undefined;
  if (flags.every((f) => f === undefined)) return (row) => ({ ...shared, before: before(row, () => true) });
  const lists = new Map<string, { properties: string[]; columns: string[] }>();
  return (row, position) => {
    const written = (i: number) => !flags[i]?.[position];
    let pattern = '';
    for (let i = 0; i < columns.length; i++) pattern += written(i) ? '1' : '0';
    if (!pattern.includes('1')) return undefined;
    let list = lists.get(pattern);
    if (!list) {
      const own = columns.filter((_, i) => written(i));
      list = { properties: own.map((c) => c.property), columns: own.map((c) => c.name) };
      lists.set(pattern, list);
    }
    return { ...list, before: before(row, written) };
  };
}
