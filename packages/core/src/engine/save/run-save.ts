import type { BulkJob, InputBatch, LinkHookBatch, RowChange, UpdateHookBatch } from '../../adapter/contract.js';
import { BulkValidationError } from '../../errors/bulk-write-error.js';
import { bindModel } from '../../model/bound-model.js';
import type { BatchContext } from '../batches/batch-context.js';
import { runBatches } from '../batches/run-batches.js';
import { cascadeHooks, insertCascades, LateTrees, withOwnCounts } from '../insert/cascade-inserts.js';
import { afterInsertPhase, beforeInsertPhase, validateInsertPhase, writeInsertPhase } from '../insert/insert-phases.js';
import { SelfReferenceWrites } from '../insert/insert-self-references.js';
import { insertStagesOf } from '../insert/run-insert.js';
import { type BulkResult, emptyResult, type SaveOptions } from '../options/bulk-options.js';
import { refuseFrozenRows } from '../rows/frozen-rows.js';
import { afterLinks, type BatchLinks, beforeLinks, collectLinks, writeLinks } from '../rows/link-writes.js';
import {
  changedRelationsOf,
  noteStateBeforeHooks,
  refuseChangedRelations,
  refuseUnwrittenRelations,
} from '../rows/relation-guard.js';
import { prepareRows } from '../rows/row-preparation.js';
import { type ChangePlan, loadRows, planChanges, trackerOf } from '../update/change-plan.js';
import { RelatedUpdates, type UpdateStagesOf } from '../update/related-updates.js';
import { updateStages } from '../update/run-update.js';
import { storedCascadesOf } from '../update/stored-cascades.js';
import { afterUpdatePhase, beforeUpdatePhase, validateUpdatePhase, writeUpdatePhase } from '../update/update-phases.js';

/** Everything the engine needs to save entities of one model. */
export type SaveJob<E> = BulkJob<E, SaveOptions>;

/**
 * Saves a mix of new and existing entities as the ORM's save does, per batch: one look-up tells new
 * from existing; before-insert hooks for the new, before-update hooks for the changed; validation of
 * both; one INSERT and one UPDATE; after-insert then after-update hooks.
 */
export async function runSave<E>(job: SaveJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const { options } = job;
  const model = bindModel(job.model, job.access);
  // New rows whose parent is a new row of the same call (a tree), until its key is written.
  const selfReferences = new SelfReferenceWrites(model, options, input);
  const result = await runBatches(input, options, job.transaction, (batch, target, result) =>
    saveBatch({ model, options, target, result, selfReferences }, batch),
  );
  return withOwnCounts(result, model.name);
}

type SaveContext<E> = BatchContext<E, SaveOptions> & { readonly selfReferences: SelfReferenceWrites<E> };

/** A save's batch split by the look-up: the new rows, and the existing ones with their stored state. */
interface SaveParts<E> {
  readonly batch: InputBatch<E>;
  readonly fresh: InputBatch<E>;
  readonly existing: InputBatch<E>;
  readonly states: unknown[];
  /** Diffs the stored rows (once; the rows without changes leave the batch as unchanged). */
  readonly plan: () => ChangePlan<E>;
}

async function saveBatch<E>(context: SaveContext<E>, batch: InputBatch<E>): Promise<void> {
  const { model, target } = context;
  const tracker = trackerOf(target);
  const loaded = await loadRows(tracker, batch);
  const fresh: InputBatch<E> = {
    number: batch.number,
    entities: [],
    indices: [],
    ...(batch.keyOrdered && { keyOrdered: true }),
    ...(batch.last && { last: true }),
  };
  const existing: InputBatch<E> = {
    number: batch.number,
    entities: [],
    indices: [],
    ...(batch.keyOrdered && { keyOrdered: true }),
    ...(batch.last && { last: true }),
  };
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
  let plan: ChangePlan<E> | undefined;
  const parts = { batch, fresh, existing, states, plan: () => (plan ??= planChanges(context, existing, states, tracker)) };
  if (target.insertsBeforeUpdates) await saveInsertsFirst(context, parts);
  else await saveTogether(context, parts);
}

/** As flush: the inserts run to completion, then the updates; each part validated on its own. */
async function saveInsertsFirst<E>(context: SaveContext<E>, parts: SaveParts<E>): Promise<void> {
  const { model, target } = context;
  const { batch, fresh, existing, states } = parts;
  // The trees' late work, the related classes' and the rows', in the order their classes go in.
  const trees = new LateTrees(context.options.hooks);
  // New related entities of the rows, new and stored (cascade): those they refer to go in first.
  const cascade = storedCascadesOf(model, batch, context.options, parts, target);
  // A stored row referring to a new related entity is diffed once that entity has its key, as
  // flush's UPDATE reads it; without one, as before anything is written.
  const diffLate = cascade !== undefined && existing.entities.length > 0;
  if (!diffLate) parts.plan();
  await insertCascades(cascade, 'before', batch.number, context, insertStagesOf, trees);
  await beforeInsertPhase(context, fresh);
  const detached = context.selfReferences.collect(fresh);
  // Both parts are checked before either is written.
  refuseUnwrittenRelations(model, fresh, 'insert');
  refuseUnwrittenRelations(model, existing, 'update', states);
  // The whole batch at once: a related entity that is a row of the batch is written by the call.
  await refuseChangedRelations(model, batch, 'update', target);
  const storedLinks = await collectLinks(model, existing, 'update', states, target.session);
  const preparedNew = prepareRows(model, fresh.entities);
  const validNew = await validateInsertPhase(context, fresh, preparedNew);
  const written = await writeInsertPhase(context, { ...validNew, detached }, preparedNew);
  await context.selfReferences.afterStatement(target, batch.number);
  trees.add(context.selfReferences.afterInserts(target, batch.number));
  await afterInsertPhase(context, written);
  // Flush commits every class's inserts before any update.
  await insertCascades(cascade, 'after', batch.number, context, insertStagesOf, trees);
  cascade?.written?.();
  const plan = parts.plan();
  await beforeUpdatePhase(context, plan);
  const preparedChanged = prepareRows(model, plan.changed.entities);
  const validChanged = await validateUpdatePhase(context, plan.changed, preparedChanged);
  await writeUpdatePhase(context, validChanged, preparedChanged);
  const links = await writeSaveLinks(context, await collectLinks(model, written.inserted, 'insert'), storedLinks);
  await afterUpdatePhase(context, validChanged);
  // Flush's extra updates (a tree's parents) follow its inserts and updates.
  await trees.run();
  await afterLinks(target, links, context.options);
}

/** Before-hooks of both parts, validation of both, then the INSERT and the UPDATE, then the after-hooks. */
async function saveTogether<E>(context: SaveContext<E>, parts: SaveParts<E>): Promise<void> {
  const { model, target } = context;
  const { batch, fresh, existing, states } = parts;
  // The trees' late work, the related classes' and the rows', in the order their classes go in.
  const trees = new LateTrees(context.options.hooks);
  const plan = parts.plan();
  // The links as the ORM's save works them out: before the before-hooks, or after them.
  const early = model.linksBeforeHooks
    ? {
        fresh: await collectLinks(model, fresh, 'insert'),
        stored: await collectLinks(model, existing, 'update', states, target.session),
      }
    : undefined;
  // New related entities of the rows, new and stored (cascade); a stored row's reference to one is
  // diffed as changed (save()'s computer compares its missing key) and written once it has its key.
  const cascade = storedCascadesOf(model, batch, context.options, parts, target);
  noteStateBeforeHooks(batch, target, context.options.hooks);
  // TypeORM's save() runs every before-hook of the graph before its first statement.
  const graphHooks = cascade?.hookOrder === 'graph';
  if (!graphHooks) await insertCascades(cascade, 'before', batch.number, context, insertStagesOf, trees);
  await beforeInsertPhase(context, fresh);
  await cascadeHooks(cascade, 'before', batch.number, context.options);
  // Events grouped as that ORM's save groups them: inserts (rows, then links), updates, link removes.
  const joined = early && joinLinks(early.fresh, early.stored);
  await beforeLinks(target, joined, context.options, 'added');
  await beforeUpdatePhase(context, plan);
  await beforeLinks(target, joined, context.options, 'removed');
  // The whole batch at once: a related entity that is a row of the batch is written by the call.
  // With the graph's hook order, before the related entities go in: the look reaches a new related
  // entity's own related ones.
  // The changed stored related entities save() updates with the rows (cascade update): each
  // class's before-update hooks after the rows' own, its UPDATE after theirs.
  // Found before the rows' relations are checked: the new entities they hold go in with them.
  const changed = await changedRelationsOf(model, batch, 'update', target);
  if (graphHooks) await insertCascades(cascade, 'before', batch.number, context, insertStagesOf, trees);
  const detached = context.selfReferences.collect(fresh);
  refuseUnwrittenRelations(model, fresh, 'insert');
  refuseUnwrittenRelations(model, existing, 'update', states);
  const related = RelatedUpdates.of(changed, batch, target, context.options, updateStages as UpdateStagesOf);
  await related?.prepare();

  const storedLinks = early ? early.stored : await collectLinks(model, existing, 'update', states, target.session);

  const prepared = prepareRows(model, [...fresh.entities, ...plan.changed.entities]);
  const { validNew, validChanged } = await validateBoth(context, batch, fresh, plan, prepared);
  const written = await writeInsertPhase(context, { ...validNew, detached }, prepared);
  await context.selfReferences.afterStatement(target, batch.number);
  trees.add(context.selfReferences.afterInserts(target, batch.number));
  await writeUpdatePhase(context, validChanged, prepared);
  await related?.send();
  const freshLinks = early ? early.fresh : await collectLinks(model, written.inserted, 'insert');
  const links = await writeSaveLinks(context, freshLinks, storedLinks, early !== undefined);
  // TypeORM's save() runs every after-hook of the graph after its last statement, inserts first.
  if (graphHooks) await insertCascades(cascade, 'after', batch.number, context, insertStagesOf, trees);
  await cascadeHooks(cascade, 'after', batch.number, context.options, 'before');
  await afterInsertPhase(context, written);
  if (early) await afterLinks(target, links, context.options, 'added');
  await cascadeHooks(cascade, 'after', batch.number, context.options, 'after');
  // save() fires every afterUpdate before any afterRemove, in subject order: the rows' (the stored
  // rows' and the tree's linked rows' as one batch, in input order), the related classes', their
  // trees', then the one-to-many items' foreign keys (with the links removed below). Without the
  // graph's hook order the related entities that refer to the rows go in below: their trees wait.
  await afterUpdatePhase(context, withLinked(validChanged, context.selfReferences.takeLinked()));
  await related?.finish(context.result);
  if (graphHooks || !cascade) await trees.run();
  await afterLinks(target, links, context.options, early ? 'removed' : undefined);
  if (!graphHooks) await insertCascades(cascade, 'after', batch.number, context, insertStagesOf, trees);
  cascade?.written?.();
  // The trees of the related entities inserted after the rows' after-hooks (else run above).
  await trees.run();
}

/** The many-to-many links of a save's new rows and of its stored ones, after both statements (rows skipped as invalid write none). */
async function writeSaveLinks<E>(
  context: SaveContext<E>,
  fresh: BatchLinks<E> | undefined,
  stored: BatchLinks<E> | undefined,
  firedBefore = false,
): Promise<LinkHookBatch<E> | undefined> {
  const { model, target, result, options } = context;
  const links = joinLinks(fresh, stored);
  const keep = (index: number) => result.outcomes.get(index) !== 'skipped';
  return links && writeLinks(model, target, links, options, keep, firedBefore);
}

/**
 * The links of a save's new rows and of its stored ones, as one batch's, in input order: the ORM's
 * save builds the related subjects row by row (their events and statements come in that order).
 */
function joinLinks<E>(fresh: BatchLinks<E> | undefined, stored: BatchLinks<E> | undefined): BatchLinks<E> | undefined {
  const rows = [...(fresh?.rows ?? []), ...(stored?.rows ?? [])].sort((a, b) => a.index - b.index);
  if (rows.length === 0) return undefined;
  // Both parts are of one batch: the last one of the call when either says so.
  return { number: (fresh ?? stored)?.number ?? 0, rows, ...((fresh?.last || stored?.last) && { last: true }) };
}

/**
 * The stored rows' after-update batch and the rows a tree's UPDATE linked, as one batch in input
 * order (a row linked for an earlier batch's parent comes first): save() fires their afterUpdate
 * interleaved, and a batch subscriber gets one afterBulkUpdate for the class and batch.
 */
function withLinked<E>(changed: UpdateHookBatch<E>, linked: readonly UpdateHookBatch<E>[]): UpdateHookBatch<E> {
  if (linked.length === 0) return changed;
  const rows = [changed, ...linked]
    .flatMap((b) => b.entities.map((entity, i) => ({ entity, index: b.indices[i] as number, change: b.changes[i] as RowChange })))
    .sort((a, b) => a.index - b.index);
  return {
    number: changed.number,
    ...(changed.keyOrdered && { keyOrdered: true }),
    ...(changed.last && { last: true }),
    entities: rows.map((r) => r.entity),
    indices: rows.map((r) => r.index),
    changes: rows.map((r) => r.change),
  };
}

/** Validates both parts before writing either, so one error lists every invalid row of the batch. */
async function validateBoth<E>(
  context: SaveContext<E>,
  batch: InputBatch<E>,
  fresh: InputBatch<E>,
  plan: ChangePlan<E>,
  prepared: ReadonlyMap<E, unknown>,
) {
  const { options, result } = context;
  const scratch = emptyResult<E>();
  const lenient = { ...context, options: { ...options, onInvalid: 'skip' as const }, result: scratch };
  const validNew = await validateInsertPhase(lenient, fresh, prepared);
  const validChanged = await validateUpdatePhase(lenient, plan.changed, prepared);
  if (scratch.skipped.length > 0) {
    if (options.onInvalid !== 'skip') {
      const failures = scratch.skipped.flatMap((s) => s.failures ?? []).sort((a, b) => a.index - b.index);
      throw new BulkValidationError(failures, batch.number);
    }
    result.skipped.push(...scratch.skipped);
    for (const s of scratch.skipped) result.outcomes.set(s.index, 'skipped');
  }
  return { validNew, validChanged };
}
