// An insert's phases for one batch, as SPEC §3 orders them: before-hooks → validation → the
// statement (plan, send, apply) → after-hooks. bulkSave runs them on the new rows of its batches.
import type { InputBatch } from '../../adapter/contract.js';
import { BulkValidationError } from '../../errors/bulk-write-error.js';
import type { BoundColumn } from '../../model/bound-model.js';
import { readColumnValues } from '../../sql/batch-values.js';
import { validateBatch } from '../../validate/batch-validator.js';
import type { BatchContext } from '../batches/batch-context.js';
import { failuresByIndex, keepRows, pickRows } from '../batches/skip-rows.js';
import type { InsertOptions } from '../options/bulk-options.js';
import { conversionFailures } from '../rows/row-preparation.js';
import { resolveConflict } from '../upsert/conflict-plan.js';
import { applyRows, type WrittenRows } from './insert-apply.js';
import { insertColumns, planRows, type ReadInputBatch } from './insert-plan.js';
import { sendRows } from './insert-send.js';

/** What an insert's (or upsert's) phases work with. */
export type InsertContext<E> = BatchContext<E, InsertOptions>;

/** The before-hooks of an insert (or of an upsert: what the ORM runs before its own upsert). */
export async function beforeInsertPhase<E>(context: InsertContext<E>, batch: InputBatch<E>): Promise<void> {
  const { model, options, target } = context;
  if (options.hooks === false || batch.entities.length === 0) return;
  const upsert = resolveConflict(model, options.onConflict).kind === 'update';
  if (upsert && target.hooks.beforeUpsert) await target.hooks.beforeUpsert(batch);
  else await target.hooks.beforeInsert(batch);
}

/**
 * Validates the batch; returns the rows to write (with the values read for validation, so the write
 * does not read them again), or throws when invalid rows must stop the call.
 */
export async function validateInsertPhase<E>(
  context: InsertContext<E>,
  batch: InputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
): Promise<ReadInputBatch<E>> {
  const { model, options, result } = context;
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

/** Sends the batch's one INSERT and records every row's outcome in `result`. */
export async function writeInsertPhase<E>(
  context: InsertContext<E>,
  valid: ReadInputBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
): Promise<WrittenRows<E>> {
  const planned = await planRows(context, valid, prepared);
  return applyRows(context, await sendRows(context, planned));
}

/** After-hooks that follow the real outcome: insert hooks for inserted rows, update hooks for updated ones. */
export async function afterInsertPhase<E>(context: InsertContext<E>, written: WrittenRows<E>): Promise<void> {
  const { options, target } = context;
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
