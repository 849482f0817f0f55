import type { BulkJob, InputBatch } from '../adapter/contract.js';
import { BulkValidationError } from '../errors/bulk-write-error.js';
import { bindModel } from '../model/bound-model.js';
import { type BulkResult, emptyResult, type SaveOptions } from './bulk-options.js';
import { refuseFrozenRows } from './frozen-rows.js';
import { afterInsertPhase, beforeInsertPhase, validateInsertPhase, writeInsertPhase } from './insert-pipeline.js';
import { refuseChangedRelations, refuseUnwrittenRelations } from './relation-guard.js';
import { prepareRows } from './row-preparation.js';
import { runBatches } from './run-batches.js';
import {
  afterUpdatePhase,
  beforeUpdatePhase,
  loadRows,
  planChanges,
  trackerOf,
  validateUpdatePhase,
  writeUpdatePhase,
} from './update-pipeline.js';

/** Everything the engine needs to save entities of one model. */
export type SaveJob<E> = BulkJob<E, SaveOptions>;

/**
 * Saves a mix of new and existing entities as the ORM's save does, per batch: one look-up tells new
 * from existing; before-insert hooks for the new, before-update hooks for the changed; validation of
 * both; one INSERT and one UPDATE; after-insert then after-update hooks.
 */
export function runSave<E>(job: SaveJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const { options } = job;
  const model = bindModel(job.model, job.access);
  return runBatches(input, options, job.transaction, async (batch, target, result) => {
    const tracker = trackerOf(target);
    const loaded = await loadRows(tracker, batch);
    const fresh: InputBatch<E> = { number: batch.number, entities: [], indices: [] };
    const existing: InputBatch<E> = { number: batch.number, entities: [], indices: [] };
    const states: unknown[] = [];
    batch.entities.forEach((entity, position) => {
      const state = loaded[position];
      const into = state === undefined ? fresh : existing;
      into.entities.push(entity);
      into.indices.push(batch.indices[position] as number);
      if (state !== undefined) states.push(state);
    });

    refuseFrozenRows(model, fresh, 'insert');
    refuseFrozenRows(model, existing, 'update');
    const plan = planChanges(model, options, existing, states, tracker, result);
    if (target.insertsBeforeUpdates) {
      // As flush: the inserts run to completion, then the updates; each part validated on its own.
      await beforeInsertPhase(model, options, fresh, target);
      // Both parts are checked before either is written.
      refuseUnwrittenRelations(model, fresh, 'insert');
      refuseUnwrittenRelations(model, existing, 'update', states);
      // The whole batch at once: a related entity that is a row of the batch is written by the call.
      await refuseChangedRelations(model, batch, 'update', target);
      const preparedNew = prepareRows(model, fresh.entities);
      const validNew = await validateInsertPhase(model, options, fresh, preparedNew, result);
      await afterInsertPhase(options, await writeInsertPhase(model, options, validNew, preparedNew, target, result), target);
      await beforeUpdatePhase(model, options, plan, target, result);
      const preparedChanged = prepareRows(model, plan.changed.entities);
      const validChanged = await validateUpdatePhase(model, options, plan.changed, preparedChanged, result);
      await writeUpdatePhase(model, options, validChanged, preparedChanged, target, result);
      await afterUpdatePhase(options, validChanged, target);
      return;
    }
    await beforeInsertPhase(model, options, fresh, target);
    await beforeUpdatePhase(model, options, plan, target, result);
    refuseUnwrittenRelations(model, fresh, 'insert');
    refuseUnwrittenRelations(model, existing, 'update', states);
    // The whole batch at once: a related entity that is a row of the batch is written by the call.
    await refuseChangedRelations(model, batch, 'update', target);

    // Validate both parts before writing either, so one error lists every invalid row of the batch.
    const prepared = prepareRows(model, [...fresh.entities, ...plan.changed.entities]);
    const scratch = emptyResult<E>();
    const lenient = { ...options, onInvalid: 'skip' as const };
    const validNew = await validateInsertPhase(model, lenient, fresh, prepared, scratch);
    const validChanged = await validateUpdatePhase(model, lenient, plan.changed, prepared, scratch);
    if (scratch.skipped.length > 0) {
      if (options.onInvalid !== 'skip') {
        const failures = scratch.skipped.flatMap((s) => s.failures ?? []).sort((a, b) => a.index - b.index);
        throw new BulkValidationError(failures, batch.number);
      }
      result.skipped.push(...scratch.skipped);
      for (const s of scratch.skipped) result.outcomes[s.index] = 'skipped';
    }

    const written = await writeInsertPhase(model, options, validNew, prepared, target, result);
    await writeUpdatePhase(model, options, validChanged, prepared, target, result);
    await afterInsertPhase(options, written, target);
    await afterUpdatePhase(options, validChanged, target);
  });
}
