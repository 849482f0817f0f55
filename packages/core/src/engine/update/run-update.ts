import type { BulkJob, ChangeTracker, InputBatch } from '../../adapter/contract.js';
import { type BoundModel, bindModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { runBatches } from '../batches/run-batches.js';
import type { StagedWork } from '../batches/staged-work.js';
import type { BulkResult, UpdateOptions } from '../options/bulk-options.js';
import { refuseFrozenRows } from '../rows/frozen-rows.js';
import { afterLinks, type BatchLinks, beforeLinks, collectLinks, writeLinks } from '../rows/link-writes.js';
import { refuseChangedRelations, refuseUnwrittenRelations } from '../rows/relation-guard.js';
import { prepareRows } from '../rows/row-preparation.js';
import { loadRows, planChanges, splitFound, trackerOf } from './change-plan.js';
import { applyUpdate } from './update-apply.js';
import { afterUpdatePhase, beforeUpdatePhase, validateUpdatePhase } from './update-phases.js';
import { type PlannedUpdate, planUpdate } from './update-plan.js';
import { type SentUpdate, sendUpdate } from './update-send.js';

/** Everything the engine needs to update entities of one model. */
export type UpdateJob<E> = BulkJob<E, UpdateOptions>;

/**
 * Updates `input` batch by batch: rows matched by primary key, only changed columns written per row,
 * versions checked, one `UPDATE … FROM unnest(…)` per batch. Rows without changes send nothing and
 * get no hooks (`unchanged`); rows not in the database are skipped as `missing`.
 */
export function runUpdate<E>(job: UpdateJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  return runBatches(input, job.options, job.transaction, updateStages(bindModel(job.model, job.access), job.options));
}

/** An update's batch work in stages (see {@link StagedWork}). */
export function updateStages<E>(model: BoundModel<E>, options: UpdateOptions): StagedWork<E, PlannedUpdate<E>, SentUpdate<E>> {
  const keysOf = batchKeys<E>();
  // Each batch's many-to-many links, found with the rows' stored state, written after its UPDATE.
  const links = new Map<number, BatchLinks<E>>();
  return {
    overlap: options.pipeline !== false && !model.refersToItself,
    // An array is cut into batches in primary-key order, so that concurrent calls lock rows in one order.
    order: { columns: primaryColumns(model) },
    // A row given twice (two objects: one object twice is refused) is diffed against what the
    // earlier batch wrote, as batch by batch.
    waitFor: (next, inFlight, target) => sharesKeys(keysOf(next, target.changes), keysOf(inFlight, target.changes)),
    // A tracker that looks rows up by key sends the next batch's look-up ahead of this batch's UPDATE.
    preload: (batch, target) => (target.changes?.keyOf ? loadRows(target.changes, batch) : undefined),
    async prepare(batch, target, result, preloaded) {
      const context = { model, options, target, result };
      const tracker = trackerOf(target);
      const loaded = ((await preloaded) as (unknown | undefined)[] | undefined) ?? (await loadRows(tracker, batch));
      const { existing, states, keyless } = splitFound(batch, loaded, tracker, result);
      refuseFrozenRows(model, existing, 'update');
      const plan = planChanges(context, existing, states, tracker);
      // The links as the ORM's save works them out: before the before-hooks, or after them.
      const early = model.linksBeforeHooks ? collectLinks(model, existing, 'update', states) : undefined;
      // Events grouped as that ORM's save groups them: link inserts, row updates, link removes.
      await beforeLinks(target, early, options, 'added');
      await beforeUpdatePhase(context, plan);
      await beforeLinks(target, early, options, 'removed');
      // Every row found, changed or not: a relation the ORM would write may be the only change.
      refuseUnwrittenRelations(model, existing, 'update', states);
      await refuseChangedRelations(model, existing, 'update', target);
      const found = model.linksBeforeHooks ? early : collectLinks(model, existing, 'update', states);
      if (found) links.set(batch.number, found);
      const prepared = prepareRows(model, plan.changed.entities);
      const earlier = options.onInvalid === 'skip' ? [] : keyless;
      const valid = await validateUpdatePhase(context, plan.changed, prepared, earlier);
      return planUpdate(context, valid, prepared);
    },
    send: (planned, target, onSent) => sendUpdate({ options, target }, planned, onSent),
    async finish(sent, target, result) {
      const context = { model, options, target, result };
      applyUpdate(context, sent);
      const number = sent.planned.changed.number;
      const found = links.get(number);
      links.delete(number);
      // Rows skipped as invalid write nothing, their links included.
      const grouped = model.linksBeforeHooks === true;
      const keep = (index: number) => result.outcomes.get(index) !== 'skipped';
      const written = await writeLinks(model, target, found, options, keep, grouped);
      if (grouped) await afterLinks(target, written, options, 'added');
      await afterUpdatePhase(context, sent.planned.changed);
      await afterLinks(target, written, options, grouped ? 'removed' : undefined);
    },
  };
}

/**
 * The row keys of a batch, for trackers that know keys (undefined otherwise), worked out once: a
 * batch is checked as the next one, then as the one in flight.
 */
function batchKeys<E>(): (batch: InputBatch<E>, tracker: ChangeTracker<E> | undefined) => ReadonlySet<string> | undefined {
  const known = new WeakMap<InputBatch<E>, Set<string>>();
  return (batch, tracker) => {
    const keyOf = tracker?.keyOf?.bind(tracker);
    if (!keyOf) return undefined;
    let keys = known.get(batch);
    if (!keys) {
      keys = new Set();
      for (const entity of batch.entities) {
        const key = keyOf(entity);
        if (key !== undefined) keys.add(key);
      }
      known.set(batch, keys);
    }
    return keys;
  };
}

/** Whether two batches hold the same row (by key). */
function sharesKeys(next: ReadonlySet<string> | undefined, inFlight: ReadonlySet<string> | undefined): boolean {
  if (!next || !inFlight) return false;
  for (const key of next) if (inFlight.has(key)) return true;
  return false;
}
