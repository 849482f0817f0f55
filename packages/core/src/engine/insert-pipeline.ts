import { BulkValidationError } from '../errors/bulk-write-error.js';
import { convertDatabaseError } from '../errors/pg-error-converter.js';
import { type EntityModel, primaryColumns } from '../model/entity-model.js';
import { readTableCatalog } from '../model/table-catalog.js';
import { readBatchValues } from '../sql/batch-values.js';
import { compileInsert, INSERTED, type InsertStatement, ORDINAL, oldName, returnedName } from '../sql/insert-statement.js';
import { validateBatch } from '../validate/batch-validator.js';
import type { InputBatch } from './batches.js';
import type { BulkResult, InsertOptions, RowOutcome, UpsertOptions } from './bulk-options.js';
import { columnByName, conflictKeyColumns, dropDuplicates, rejectDuplicateKeys, resolveConflict } from './conflict-plan.js';
import { canCopyDirectly, compareKeys, copyClientFor, copyDirectly, insertThroughStage } from './copy-insert.js';
import type { RowChange, UpdateHookBatch } from './lifecycle.js';
import { conversionFailures, prepareRows } from './row-preparation.js';
import { runBatches } from './run-batches.js';
import { failuresByIndex, keepRows, pickRows } from './skip-rows.js';
import type { BulkJob, WriteTarget } from './write-target.js';

/** Everything the engine needs to insert entities of one model. */
export type InsertJob<E> = BulkJob<E, InsertOptions>;

/**
 * Inserts `input` batch by batch. Per batch (SPEC §3): before-hooks → validation → one statement →
 * generated values back onto the objects → after-hooks for the rows written.
 */
export function runInsert<E>(job: InsertJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  return runBatches(input, job.options, job.transaction, (batch, target, result) =>
    insertBatch(job.model, job.options, batch, target, result),
  );
}

/** Everything the engine needs to upsert entities of one model. */
export type UpsertJob<E> = BulkJob<E, UpsertOptions>;

/**
 * Upserts `input` batch by batch: one `INSERT … ON CONFLICT (target) DO UPDATE` per batch, rows
 * written in conflict-key order, each row's outcome (inserted, updated, skipped) reported and
 * followed by the matching after-hooks.
 */
export function runUpsert<E>(job: UpsertJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const { target, update, where, expressions, duplicates, ...rest } = job.options;
  const options: InsertOptions = { ...rest, duplicates, onConflict: { target, update, where, expressions, action: 'update' } };
  return runBatches(input, options, job.transaction, (batch, t, result) => insertBatch(job.model, options, batch, t, result));
}

/** Inserts one batch; shared by bulkInsert and bulkUpsert. */
export async function insertBatch<E>(
  model: EntityModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  target: WriteTarget<E>,
  result: BulkResult<E>,
): Promise<void> {
  await beforeInsertPhase(model, options, batch, target);
  const prepared = prepareRows(model, batch.entities);
  const valid = await validateInsertPhase(model, options, batch, prepared, result);
  const written = await writeInsertPhase(model, options, valid, prepared, target, result);
  await afterInsertPhase(options, written, target);
}

/** The before-hooks of an insert (or of an upsert: what the ORM runs before its own upsert). */
export async function beforeInsertPhase<E>(
  model: EntityModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  target: WriteTarget<E>,
): Promise<void> {
  if (options.hooks === false || batch.entities.length === 0) return;
  const upsert = resolveConflict(model, options.onConflict).kind === 'update';
  if (upsert && target.hooks.beforeUpsert) await target.hooks.beforeUpsert(batch);
  else await target.hooks.beforeInsert(batch);
}

/** Rows an insert wrote, split by what happened to them. */
export interface WrittenRows<E> {
  readonly inserted: InputBatch<E>;
  readonly updated: UpdateHookBatch<E> & { changes: RowChange[] };
}

/** Sends the batch's one INSERT and records every row's outcome in `result`. */
export async function writeInsertPhase<E>(
  model: EntityModel<E>,
  options: InsertOptions,
  valid: InputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  target: WriteTarget<E>,
  result: BulkResult<E>,
): Promise<WrittenRows<E>> {
  const inserted: InputBatch<E> = { number: valid.number, entities: [], indices: [] };
  const updated: WrittenRows<E>['updated'] = { number: valid.number, entities: [], indices: [], changes: [] };
  const rows = dropDuplicates(model, options, valid, prepared, result);
  if (rows.entities.length === 0) return { inserted, updated };
  const upsert = resolveConflict(model, options.onConflict).kind === 'update';
  const { outcomes, changes } = await writeRows(model, options, rows, prepared, target);
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
    } else {
      result.skipped.push({ index, entity, reason: upsert ? 'condition' : 'conflict' });
    }
  });
  return { inserted, updated };
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
}

/** Validates the batch; returns the rows to write, or throws when invalid rows must stop the call. */
export async function validateInsertPhase<E>(
  model: EntityModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  result: BulkResult<E>,
): Promise<InputBatch<E>> {
  if (options.validate === false) {
    // Unvalidated rows are sent as they are, except ones the ORM itself could not convert.
    const broken = conversionFailures(batch.entities, batch.indices, new Set());
    if (broken.length > 0) throw new BulkValidationError(broken, batch.number);
    return batch;
  }
  const columns = model.columns.filter((c) => c.insertable);
  const rowsPrepared = batch.entities.map((e) => prepared.get(e));
  const failures = await validateBatch(columns, batch.entities, batch.indices, rowsPrepared, { classValidator: true });
  failures.push(...conversionFailures(batch.entities, batch.indices, new Set(failures.map((f) => f.index))));
  failures.sort((a, b) => a.index - b.index);
  if (failures.length === 0) return batch;
  if (options.onInvalid !== 'skip') throw new BulkValidationError(failures, batch.number);
  const byIndex = failuresByIndex(failures);
  const kept = keepRows(batch, result, (_, index) => {
    const own = byIndex.get(index);
    return own ? { reason: 'invalid', failures: own } : undefined;
  });
  return pickRows(batch, kept);
}

/** Sends the one statement of the batch and maps returned rows back by ordinal. */
async function writeRows<E>(
  model: EntityModel<E>,
  options: InsertOptions,
  batch: InputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  target: WriteTarget<E>,
): Promise<{ outcomes: RowOutcome[]; changes: RowChange[] }> {
  const conflict = resolveConflict(model, options.onConflict);
  const catalog = await readTableCatalog(target.session, model as EntityModel<never>);
  // A conflict target is always sent, even a key the ORM never inserts itself (a serial id):
  // an upsert by id needs the id; rows without one still get a generated key (per-row default).
  const targetColumns = conflict.kind === 'error' ? [] : (conflict.target ?? []);
  const insertable = model.columns.filter((c) => c.insertable || targetColumns.includes(c.name));
  const rowsPrepared = batch.entities.map((e) => prepared.get(e));
  const { batch: values, sent } = readBatchValues(insertable, batch.entities, batch.indices, rowsPrepared);
  const keys = primaryColumns(model);
  const sentNames = new Set(sent.map((c) => c.name));
  const generatedKeys = keys.filter((k) => !sentNames.has(k.name)).map((k) => k.name);
  const mixed = new Set(sent.filter((_, i) => values.defaults[i]).map((c) => c.name));
  if (conflict.kind !== 'error') rejectDuplicateKeys(values, conflictKeyColumns(conflict, keys, sentNames), batch.number);

  const returning = model.returningOnInsert;
  const [onlyKey] = keys;
  const mapping =
    conflict.kind === 'error' &&
    keys.length === 1 &&
    onlyKey &&
    generatedKeys.includes(onlyKey.name) &&
    /^nextval\(/i.test(catalog.columns.get(onlyKey.name)?.defaultExpr ?? '')
      ? 'sequence'
      : 'join';
  const stmt: InsertStatement = {
    table: catalog,
    mapping,
    rowCount: batch.entities.length,
    sent: sent.map((c) => ({ name: c.name, mixed: mixed.has(c.name) })),
    generatedKeys,
    rowKey: keys.map((k) => k.name),
    returning: returning.map((c) => c.name),
    conflict,
    // Rows are written in conflict-key order so that concurrent upserts lock in one order.
    orderBy: conflict.kind === 'update' || conflict.kind === 'ignore' ? conflict.target : undefined,
    returnOld: conflict.kind === 'update' && catalog.serverVersion >= 180000 ? conflict.set.map((s) => s.column) : undefined,
  };
  const direct = canCopyDirectly(stmt, stmt.returning);
  const client = await copyClientFor(options.strategy, target.session, batch.entities.length, direct);
  let rows: Record<string, unknown>[];
  try {
    if (client && direct) {
      rows = await copyDirectly(target.session, client, stmt, values, returning);
    } else if (client) {
      rows = await insertThroughStage(target.session, client, { ...stmt, mapping: 'join' }, values);
    } else {
      const { sql, parameters } = compileInsert(stmt, values.values, values.defaults);
      rows = await target.session.query(sql, parameters);
    }
  } catch (error) {
    throw convertDatabaseError(error, values, batch.number);
  }
  const sequenceMapped = mapping === 'sequence' && !client;
  const outcomes: RowOutcome[] = batch.entities.map(() => 'skipped');
  const changes: RowChange[] = batch.entities.map(() => ({ properties: [], before: {} }));
  const setColumns = conflict.kind === 'update' ? conflict.set.map((s) => columnByName(model, s.column)) : [];
  if (sequenceMapped) {
    // Keys were drawn from the sequence in ordinal order: the k-th smallest key is row k.
    rows.sort((a, b) => compareKeys(a.k0, b.k0));
    rows.forEach((row, position) => {
      row[ORDINAL] = position + 1;
    });
  }
  for (const row of rows) {
    const position = Number(row[ORDINAL]) - 1;
    const entity = batch.entities[position] as E;
    for (const [i, column] of returning.entries()) column.write(entity, row[returnedName(i)]);
    model.finishInsert?.(entity);
    const updated = conflict.kind === 'update' && row[INSERTED] === false;
    outcomes[position] = updated ? 'updated' : 'inserted';
    if (updated) {
      const old = setColumns.map((c, i) => [c.property, row[oldName(i)]] as const);
      changes[position] = {
        properties: setColumns.map((c) => c.property),
        columns: setColumns.map((c) => c.name),
        // PostgreSQL 18 returns the row as it was before the update; older servers cannot.
        before: catalog.serverVersion >= 180000 ? Object.fromEntries(old) : {},
      };
    }
  }
  return { outcomes, changes };
}
