import type { BulkJob, ChangeTracker, InputBatch } from '../../adapter/contract.js';
import { type BoundModel, bindModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { runBatches } from '../batches/run-batches.js';
import type { StagedWork } from '../batches/staged-work.js';
import { withOwnCounts } from '../insert/cascade-inserts.js';
import type { BulkResult, UpdateOptions } from '../options/bulk-options.js';
import { refuseFrozenRows } from '../rows/frozen-rows.js';
import { afterLinks, type BatchLinks, beforeLinks, collectLinks, writeLinks } from '../rows/link-writes.js';
import { changedRelationsOf, noteStateBeforeHooks, refuseUnwrittenRelations } from '../rows/relation-guard.js';
import { prepareRows } from '../rows/row-preparation.js';
import { loadRows, planChanges, splitFound, trackerOf } from './change-plan.js';
import { RelatedUpdates, type UpdateStagesOf } from './related-updates.js';
import { StoredCascades } from './stored-cascades.js';
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
export async function runUpdate<E>(job: UpdateJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const model = bindModel(job.model, job.access);
  const result = await runBatches(input, job.options, job.transaction, updateStages(model, job.options));
  return withOwnCounts(result, model.name);
}

/** An update's batch work in stages (see {@link StagedWork}). */
export function updateStages<E>(model: BoundModel<E>, options: UpdateOptions): StagedWork<E, PlannedUpdate<E>, SentUpdate<E>> {
  const keysOf = batchKeys<E>();
  // Each batch's many-to-many links, found with the rows' stored state, written after its UPDATE.
  const links = new Map<number, BatchLinks<E>>();
  // Each batch's new related entities (cascade), from its look-up until it is written.
  const related = new Map<number, StoredCascades>();
  // Each batch's changed stored related entities (cascade update), from its look until they are written.
  const updates = new Map<number, RelatedUpdates>();
  return {
    overlap: options.pipeline !== false && !model.refersToItself,
    // An array is cut into batches in primary-key order, so that concurrent calls lock rows in one order.
    order: { columns: primaryColumns(model) },
    // A row given twice (two objects: one object twice is refused) is diffed against what the
    // earlier batch wrote, as batch by batch.
    // A batch whose related entities go in after its statement is finished first: the next one could
    // reach one of them, which must have its key by then.
    waitFor: (next, inFlight, target) =>
      related.get(inFlight.number)?.after === true ||
      updates.has(inFlight.number) ||
      sharesKeys(keysOf(next, target.changes), keysOf(inFlight, target.changes)),
    // A tracker that looks rows up by key sends the next batch's look-up ahead of this batch's UPDATE.
    preload: (batch, target) => (target.changes?.keyOf ? loadRows(target.changes, batch) : undefined),
    async prepare(batch, target, result, preloaded) {
      const context = { model, options, target, result };
      const tracker = trackerOf(target);
      const loaded = ((await preloaded) as (unknown | undefined)[] | undefined) ?? (await loadRows(tracker, batch));
      const { existing, states, keyless } = splitFound(batch, loaded, tracker, result);
      refuseFrozenRows(model, existing, 'update');
      // save() diffs the rows first (a reference to a new related entity differs: it has no key);
      // flush once the related entities it inserts first have their keys.
      const flushOrder = target.insertsBeforeUpdates === true;
      let plan = flushOrder ? undefined : planChanges(context, existing, states, tracker);
      // The links as the ORM's save works them out: before the before-hooks, or after them.
      const early = model.linksBeforeHooks ? await collectLinks(model, existing, 'update', states, target.session) : undefined;
      // The new related entities the ORM's save would insert with the rows (cascade), as bulkSave
      // inserts a stored row's.
      const cascade = StoredCascades.of(model, { existing, states }, options, target);
      if (cascade) related.set(batch.number, cascade);
      noteStateBeforeHooks(existing, target, options.hooks);
      await cascade?.beforeDiff(context);
      plan ??= planChanges(context, existing, states, tracker);
      // Before the rows' before-update hooks: the graph's before-insert events (save()), or the
      // entities the rows refer to, each class with its own hooks.
      await cascade?.beforeHooks(context);
      // Events grouped as that ORM's save groups them: link inserts, row updates, link removes.
      await beforeLinks(target, early, options, 'added');
      await beforeUpdatePhase(context, plan);
      await beforeLinks(target, early, options, 'removed');
      // Every row found, changed or not: a relation the ORM would write may be the only change.
      // With save()'s order, before the related entities go in (the look reaches their own relations).
      // The changed stored related entities save() updates with the rows (cascade update), each
      // class's before-update hooks after the rows' own.
      // Before the rows' relations are checked: the new entities the changed ones hold go in with them.
      const changed = await changedRelationsOf(model, existing, 'update', target);
      await cascade?.beforeStatement(context);
      refuseUnwrittenRelations(model, existing, 'update', states);
      const relatedUpdates = RelatedUpdates.of(changed, existing, target, options, updateStages as UpdateStagesOf);
      if (relatedUpdates) {
        updates.set(batch.number, relatedUpdates);
        await relatedUpdates.prepare();
      }
      const found = model.linksBeforeHooks ? early : await collectLinks(model, existing, 'update', states, target.session);
      if (found) links.set(batch.number, found);
      const prepared = prepareRows(model, plan.changed.entities);
      const earlier = options.onInvalid === 'skip' ? [] : keyless;
      const valid = await validateUpdatePhase(context, plan.changed, prepared, earlier);
      return planUpdate(context, valid, prepared);
    },
    async send(planned, target, onSent) {
      const sent = await sendUpdate({ options, target }, planned, onSent);
      // save()'s order: the rows' UPDATE, then the related entities' (one per class).
      await updates.get(planned.changed.number)?.send();
      return sent;
    },
    async finish(sent, target, result) {
      const context = { model, options, target, result };
      applyUpdate(context, sent);
      const number = sent.planned.changed.number;
      const found = links.get(number);
      links.delete(number);
      const cascade = related.get(number);
      related.delete(number);
      // Rows skipped as invalid write nothing, their links included.
      const grouped = model.linksBeforeHooks === true;
      const keep = (index: number) => result.outcomes.get(index) !== 'skipped';
      const written = await writeLinks(model, target, found, options, keep, grouped);
      // save()'s order: every statement of the graph, then every after-event, the inserts' first.
      await cascade?.afterStatement(context);
      await cascade?.afterHooks(options, 'before');
      if (grouped) await afterLinks(target, written, options, 'added');
      await cascade?.afterHooks(options, 'after');
      await afterUpdatePhase(context, sent.planned.changed);
      // save() fires every afterUpdate before any afterRemove, in subject order: the rows', the changed
      // related entities' (as bulkSave), the related classes' trees, then the items' foreign keys.
      const relatedUpdates = updates.get(number);
      updates.delete(number);
      await relatedUpdates?.finish(result);
      await cascade?.afterUpdates();
      await afterLinks(target, written, options, grouped ? 'removed' : undefined);
      await cascade?.done(context);
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
