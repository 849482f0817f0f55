import type { BulkJob, CascadeWrite, LinkHookBatch } from '../../adapter/contract.js';
import { type BoundModel, bindModel } from '../../model/bound-model.js';
import type { RowOrder } from '../batches/key-order.js';
import { runBatches } from '../batches/run-batches.js';
import type { StagedWork } from '../batches/staged-work.js';
import { drawKeysEarly } from '../copy/sequence-keys.js';
import type { BulkResult, InsertOptions, RunningResult } from '../options/bulk-options.js';
import { refuseFrozenRows } from '../rows/frozen-rows.js';
import { afterLinks, type BatchLinks, collectLinks, writeLinks } from '../rows/link-writes.js';
import { changedRelationsOf, noteStateBeforeHooks, refuseUnwrittenRelations } from '../rows/relation-guard.js';
import { prepareRows } from '../rows/row-preparation.js';
import { RelatedUpdates, type UpdateStagesOf } from '../update/related-updates.js';
import { updateStages } from '../update/run-update.js';
import { columnByName, resolveConflict } from '../upsert/conflict-plan.js';
import { cascadeHooks, cascadesOf, insertCascades, LateTrees, type TreeQueue, withOwnCounts } from './cascade-inserts.js';
import { applyRows } from './insert-apply.js';
import { afterInsertPhase, beforeInsertPhase, validateInsertPhase } from './insert-phases.js';
import { type PlannedRows, planRows } from './insert-plan.js';
import { SelfReferenceWrites } from './insert-self-references.js';
import { type SentRows, sendRows } from './insert-send.js';

/** Everything the engine needs to insert entities of one model. */
export type InsertJob<E> = BulkJob<E, InsertOptions>;

/**
 * Inserts `input` batch by batch. Per batch (SPEC §3): before-hooks → validation → one statement →
 * generated values back onto the objects → after-hooks for the rows written.
 */
export async function runInsert<E>(job: InsertJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const model = bindModel(job.model, job.access);
  const result = await runBatches(input, job.options, job.transaction, insertStages(model, job.options, input));
  return withOwnCounts(result, model.name);
}

/**
 * An insert's batch work in stages (see {@link StagedWork}): before-hooks, validation and the
 * statement's values; the statement; values back, outcomes, after-hooks.
 */
export function insertStages<E>(
  model: BoundModel<E>,
  options: InsertOptions,
  input?: unknown,
  trees?: TreeQueue,
): StagedWork<E, PlannedRows<E>, SentRows<E>> {
  // Links the ORM works out before its before-hooks, by batch number, until the batch is written.
  const early = new Map<number, BatchLinks<E>>();
  // New related entities of a batch (cascade), from its before-hooks until it is written.
  const related = new Map<number, CascadeWrite>();
  // Changed stored related entities of a batch (cascade update), from its look until they are written.
  const updates = new Map<number, RelatedUpdates>();
  // Rows whose parent is a new entity of their own table (a tree), until its key is written.
  // `trees`: the related entities of another call's batch (a cascade group), whose trees wait for
  // that batch's insert events; else the batch's own queue, by batch number, from its first insert.
  const selfReferences = new SelfReferenceWrites(model, trees ? { ...options, hooks: trees.hooks } : options, input, true);
  const queues = new Map<number, LateTrees>();
  const queueOf = (number: number): TreeQueue => {
    if (trees) return trees;
    const queue = queues.get(number) ?? new LateTrees(options.hooks);
    queues.set(number, queue);
    return queue;
  };
  // The changed stored related entities' after-update phase (cascade update), once the batch's
  // insert events have run.
  const finishRelatedUpdates = async (number: number, result: RunningResult<E>): Promise<void> => {
    const relatedUpdates = updates.get(number);
    updates.delete(number);
    await relatedUpdates?.finish(result);
  };
  const runQueue = async (number: number): Promise<void> => {
    const queue = queues.get(number);
    queues.delete(number);
    await queue?.run();
  };
  return {
    overlap: options.pipeline !== false && !model.refersToItself,
    order: lockOrder(model, options),
    // A batch whose related entities go in after its statement is finished before the next one is
    // prepared: the next one could reach one of them, which must have its key by then.
    waitFor: (_next, inFlight) =>
      (related.get(inFlight.number)?.groups.some((g) => g.side === 'after') ?? false) || updates.has(inFlight.number),
    async prepare(batch, target, result) {
      const context = { model, options, target, result };
      refuseFrozenRows(model, batch, 'insert');
      const { drawn } = await drawKeysEarly(model, options, batch.entities, target.session);
      const write = relationWriteOf(model, options);
      const found = write === 'insert' && model.linksBeforeHooks ? await collectLinks(model, batch, 'insert') : undefined;
      if (found) early.set(batch.number, found);
      // The ORM's save finds the whole graph first; the entities the rows refer to go in before them.
      const cascade = write === 'insert' ? cascadesOf(model, batch, options) : undefined;
      if (cascade) related.set(batch.number, cascade);
      const graphHooks = cascade?.hookOrder === 'graph';
      let changed: Awaited<ReturnType<typeof changedRelationsOf>>;
      if (write === 'insert') noteStateBeforeHooks(batch, target, options.hooks);
      if (graphHooks) {
        // TypeORM's save(): every before-hook of the graph, the rows' first, then the statements —
        // after the look at the stored entities the graph reaches (a new related entity's too).
        await beforeInsertPhase(context, batch);
        await cascadeHooks(cascade, 'before', batch.number, options);
        changed = await changedRelationsOf(model, batch, write, target);
        await insertCascades(cascade, 'before', batch.number, context, insertStagesOf, queueOf(batch.number));
      } else {
        await insertCascades(cascade, 'before', batch.number, context, insertStagesOf, queueOf(batch.number));
        await beforeInsertPhase(context, batch);
      }
      // The join columns its INSERT sends as NULL (a parent of the call, whatever key it carries).
      const detached = write === 'insert' ? selfReferences.collect(batch) : undefined;
      // The changed stored related entities save() updates with the rows (cascade update): each
      // class's before-update hooks after the rows' before-insert hooks, its UPDATE after their INSERT;
      // found before the rows' relations are checked (the new entities they hold go in with them).
      if (!graphHooks) changed = await changedRelationsOf(model, batch, write, target);
      refuseUnwrittenRelations(model, batch, write);
      const relatedUpdates = RelatedUpdates.of(changed, batch, target, options, updateStages as UpdateStagesOf);
      if (relatedUpdates) {
        updates.set(batch.number, relatedUpdates);
        await relatedUpdates.prepare();
      }
      const prepared = prepareRows(model, batch.entities);
      const valid = await validateInsertPhase(context, batch, prepared);
      return planRows(context, { ...valid, drawn, detached }, prepared);
    },
    async send(planned, target, onSent) {
      const sent = await sendRows({ options, target }, planned, onSent);
      // save()'s order: its inserts, then its updates (one UPDATE per related class).
      await updates.get(planned.rows.number)?.send();
      return sent;
    },
    async finish(sent, target, result) {
      const context = { model, options, target, result };
      const written = applyRows(context, sent);
      // The keys are on the objects: the rows waiting for these parents get their join columns —
      // right away as TypeORM's save(), or after the after-insert hooks as MikroORM's extra updates.
      await selfReferences.afterStatement(target, sent.planned.rows.number);
      queueOf(sent.planned.rows.number).add(selfReferences.afterInserts(target, sent.planned.rows.number));
      // An upsert writes the rows' own columns only; an insert, their many-to-many links too.
      const write = relationWriteOf(model, options);
      const number = sent.planned.rows.number;
      const found = early.get(number);
      early.delete(number);
      let links: LinkHookBatch<E> | undefined;
      if (write === 'insert' && model.linksBeforeHooks) {
        // Found before the hooks for the whole batch: the rows inserted write theirs.
        const inserted = new Set(written.inserted.indices);
        links = await writeLinks(model, target, found, options, (index) => inserted.has(index));
      } else if (write === 'insert') {
        links = await writeLinks(model, target, await collectLinks(model, written.inserted, 'insert'), options);
      }
      const cascade = related.get(number);
      related.delete(number);
      const graph = cascade?.hookOrder === 'graph';
      if (graph) {
        // TypeORM's save(): every statement of the graph, then every after-hook.
        await insertCascades(cascade, 'after', number, context, insertStagesOf, queueOf(number));
        await cascadeHooks(cascade, 'after', number, options, 'before');
      }
      await afterInsertPhase(context, written);
      if (graph || !cascade) {
        await afterLinks(target, links, options, 'added');
        await cascadeHooks(cascade, 'after', number, options, 'after');
        await finishRelatedUpdates(number, result);
        cascade?.written?.();
        // The ORMs fire the update events of the trees' UPDATEs after every insert event, and
        // TypeORM's save() every afterUpdate before any afterRemove, in subject order: the trees'
        // linked rows (the rows', then the related classes') before the one-to-many items the rows
        // took (the links' `items`, with the removed ones).
        await runQueue(number);
        await afterLinks(target, links, options, 'removed');
        return;
      }
      await afterLinks(target, links, options);
      // Then the new entities that refer to the rows, which now have their keys; their trees' update
      // events after them (a cascade group's wait for its holder's batch).
      await insertCascades(cascade, 'after', number, context, insertStagesOf, queueOf(number));
      await finishRelatedUpdates(number, result);
      cascade.written?.();
      await runQueue(number);
    },
  };
}

/** {@link insertStages} for the related entities of a batch. */
export const insertStagesOf = <N>(model: BoundModel<N>, options: InsertOptions, trees?: TreeQueue) =>
  insertStages(model, options, undefined, trees) as StagedWork<N, unknown, unknown>;

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

/** An upsert writes only the row's own columns (as the ORMs' upserts do); an insert, its relations too. */
function relationWriteOf<E>(model: BoundModel<E>, options: InsertOptions): 'insert' | 'upsert' {
  return resolveConflict(model, options.onConflict).kind === 'update' ? 'upsert' : 'insert';
}
