// New related entities inserted with a batch's rows (cascade), as the ORM's own save inserts them:
// per class, one group with the ordinary insert phases of that class — its before-hooks, validation,
// one statement, values back, after-hooks — before the batch's own statement (the entities the rows
// refer to) or after it (the entities that refer to the rows), in the call's transaction.
import type { CascadeGroup, CascadeWrite, InputBatch, WriteTarget } from '../../adapter/contract.js';
import { BulkWriteError, type GraphLocation } from '../../errors/bulk-write-error.js';
import { rewritePosition } from '../../errors/message-positions.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import { type BoundModel, bindModel } from '../../model/bound-model.js';
import type { StagedWork } from '../batches/staged-work.js';
import { emptyResult, type InsertOptions, type RunningResult } from '../options/bulk-options.js';
import { resolveConflict } from '../upsert/conflict-plan.js';
import type { LateTree } from './insert-self-references.js';

/** An insert's staged work for a model (run-insert's insertStages, handed in to keep imports one-way). */
export type InsertStagesOf = <N>(
  model: BoundModel<N>,
  options: InsertOptions,
  trees?: TreeQueue,
) => StagedWork<N, unknown, unknown>;

/**
 * Where a batch's inserts leave the work of their trees that waits for the batch's every insert
 * event: the late UPDATE (MikroORM's extra updates) and the update events of the linked rows. Both
 * ORMs' saves fire them after every insert of the graph, in the order the classes went in — the
 * related classes' trees (`author.mentor`, both new) as the rows' own.
 */
export interface TreeQueue {
  /** Whether the trees' update events run: the call's `hooks` (a cascade group may run without its own). */
  readonly hooks: boolean | undefined;
  add(tree: LateTree): void;
  /** The queue of a cascade group: its failures name the relation its entities were reached through. */
  via(relation: GraphLocation): TreeQueue;
}

/** A batch's {@link TreeQueue}: filled while its classes go in, run after its last insert event. */
export class LateTrees implements TreeQueue {
  readonly #trees: LateTree[] = [];

  constructor(readonly hooks: boolean | undefined) {}

  add(tree: LateTree): void {
    this.#trees.push(tree);
  }

  via(relation: GraphLocation): TreeQueue {
    return relatedTrees(this, relation);
  }

  /** Each phase for every tree, in the order their classes went in, before the next phase. */
  async run(): Promise<void> {
    const trees = this.#trees.splice(0);
    for (const tree of trees) await tree.before();
    for (const tree of trees) await tree.write();
    for (const tree of trees) await tree.after();
  }
}

function relatedTrees(parent: TreeQueue, relation: GraphLocation): TreeQueue {
  const locate =
    (phase: () => Promise<void>): (() => Promise<void>) =>
    async () => {
      try {
        await phase();
      } catch (error) {
        throw located(error, relation);
      }
    };
  const queue: TreeQueue = {
    hooks: parent.hooks,
    add: (tree) => parent.add({ before: locate(tree.before), write: locate(tree.write), after: locate(tree.after) }),
    via: (inner) => relatedTrees(queue, inner),
  };
  return queue;
}

/**
 * The related entities the rows of `batch` bring to insert with them (see `EntityAccess.cascades`),
 * or undefined. Refused (before anything of the batch runs) with options that would leave some rows
 * unwritten while their related entities are: `onInvalid: 'skip'` and `onConflict`.
 */
export function cascadesOf<E>(model: BoundModel<E>, batch: InputBatch<E>, options: InsertOptions): CascadeWrite | undefined {
  if (!model.cascades || batch.entities.length === 0) return undefined;
  const found = model.cascades(batch);
  const first = found?.groups[0];
  if (!found || !first) return undefined;
  const option =
    options.onInvalid === 'skip'
      ? "onInvalid: 'skip'"
      : resolveConflict(model, options.onConflict).kind !== 'error'
        ? 'onConflict'
        : undefined;
  if (option) {
    const position = batch.indices.indexOf(first.indices[0] as number);
    throw new UnsupportedFeatureError(
      'cascade insert',
      `${first.entityName}.${first.property} at row ${first.indices[0]} holds new ${first.model.name} entities that the ORM's own save would insert with the row; cohort inserts them, but not with ${option}, which may leave the row unwritten. Nothing was written: leave ${option} out, or write the related entities first.`,
      {
        option,
        entityName: first.entityName,
        property: first.property,
        index: first.indices[0],
        entity: batch.entities[Math.max(position, 0)],
        batch: batch.number,
      },
    );
  }
  return found;
}

/**
 * Inserts the groups of one side, in order, each with its class's own insert phases on the batch's
 * session. Their outcomes count in `result.byEntity`; a failure names the input row the entity was
 * reached from and the relation (`error.relation`), and fails the call (its transaction rolls back).
 * What their trees do after the batch's insert events waits in `trees`.
 */
export async function insertCascades<E>(
  found: CascadeWrite | undefined,
  side: CascadeGroup['side'],
  number: number,
  call: { readonly target: WriteTarget<E>; readonly result: RunningResult<E>; readonly options: InsertOptions },
  stagesOf: InsertStagesOf,
  trees: TreeQueue,
): Promise<void> {
  if (!found) return;
  const { target, result, options } = call;
  for (const group of found.groups) {
    if (group.side !== side || group.entities.length === 0) continue;
    const model = bindModel(group.model, group.access);
    const own: WriteTarget<unknown> = {
      session: target.session,
      hooks: group.hooks,
      inCallerTransaction: target.inCallerTransaction,
    };
    const batch: InputBatch<unknown> = { number, entities: [...group.entities], indices: [...group.indices] };
    const counts = emptyResult<unknown>();
    // Plain inserts: the options that tell how to write (strategy, hooks, validation) carry over;
    // in the graph's hook order, cascadeHooks runs the hooks around every statement of the batch.
    const hooks = found.hookOrder === 'graph' ? false : options.hooks;
    const relation = { entityName: group.entityName, property: group.property, target: group.model.name };
    const work = stagesOf(model, { ...options, hooks, onConflict: undefined, onInvalid: 'error' }, trees.via(relation));
    group.batchStarted?.(batch);
    try {
      // What the ORM writes before the group's insert (MikroORM: a replaced target's early update).
      const replaced = await group.writeReplaced?.(batch);
      if (replaced) {
        if (replaced.updated > 0) countRelated(result, replaced.entityName, { updated: replaced.updated });
        result.statements += replaced.statements;
      }
      const prepared = await work.prepare(batch, own, counts);
      await work.finish(await work.send(prepared, own), own, counts);
    } catch (error) {
      throw located(error, relation);
    } finally {
      group.batchDone?.(batch);
    }
    countRelated(result, group.model.name, { inserted: counts.inserted });
  }
}

/**
 * With the graph's hook order (`CascadeWrite.hookOrder`), the before- or after-hooks of every
 * related class of the batch (or of one `side`), in group order: the before-hooks after the rows'
 * own and before the first statement, the after-hooks after the last statement. A cascade insert is a plain insert, so
 * every entity of a group is inserted and gets its after-hooks.
 */
export async function cascadeHooks(
  found: CascadeWrite | undefined,
  when: 'before' | 'after',
  number: number,
  options: InsertOptions,
  side?: CascadeGroup['side'],
): Promise<void> {
  if (found?.hookOrder !== 'graph' || options.hooks === false) return;
  for (const group of found.groups) {
    if (group.entities.length === 0 || (side && group.side !== side)) continue;
    const batch: InputBatch<unknown> = { number, entities: [...group.entities], indices: [...group.indices] };
    try {
      if (when === 'before') await group.hooks.beforeInsert(batch);
      else await group.hooks.afterInsert(batch);
    } catch (error) {
      throw located(error, { entityName: group.entityName, property: group.property, target: group.model.name });
    }
  }
}

/**
 * The error of a related entity, naming the relation it was reached through (the innermost one) and
 * what the call did with it (`inserted`: cascade inserts; `updated`: a changed stored one; `updated`
 * or `removed`: a replaced one, CascadeGroup.writeReplaced). `row`: the input row it was reached from,
 * where the error tells another position (a call of its own's list).
 */
export function located(
  error: unknown,
  relation: GraphLocation,
  how: 'inserted' | 'updated' | 'removed' | 'holding new entities' = 'inserted',
  row?: number,
): unknown {
  if (!(error instanceof BulkWriteError) || error.relation) return error;
  Object.defineProperty(error, 'relation', { value: relation, enumerable: true, configurable: true });
  if (row !== undefined && error.index !== row) {
    // A call of its own (a replaced target's early write) told its own list's position: the input row's instead.
    // The text cohort wrote where it kept it (a hook's or PostgreSQL's own words may name a row too),
    // else the first `row N` of a message that is cohort's own throughout.
    if (!rewritePosition(error, 'row', `row ${row}`) && error.index !== undefined)
      error.message = error.message.replace(new RegExp(`\\brow ${error.index}\\b`), `row ${row}`);
    Object.defineProperty(error, 'index', { value: row, enumerable: true, configurable: true, writable: false });
  }
  // A stored entity the ORM's save does not update: only the new entities it holds go in with the row.
  const what =
    how === 'holding new entities' ? 'not updated, the new entities it holds inserted with the row' : `${how} with the row`;
  const message = error.message;
  error.message = `${relation.target} reached through ${relation.entityName}.${relation.property} (${what}): ${message}`;
  return error;
}

/** Adds a related class's counts to the call's `byEntity`. */
export function countRelated(
  result: { byEntity?: Record<string, { inserted: number; updated: number }> },
  name: string,
  counts: { inserted?: number; updated?: number },
): void {
  result.byEntity ??= {};
  const entry = result.byEntity[name] ?? { inserted: 0, updated: 0 };
  entry.inserted += counts.inserted ?? 0;
  entry.updated += counts.updated ?? 0;
  result.byEntity[name] = entry;
}

/** The given class's counts next to the related classes', once the call inserted related entities. */
export function withOwnCounts<R extends { byEntity?: Record<string, { inserted: number; updated: number }> }>(
  result: R & { inserted: number; updated: number },
  name: string,
): R {
  if (!result.byEntity) return result;
  // Related entities of the given class itself (a changed manager of the rows' own table) add to its rows'.
  const { [name]: related, ...others } = result.byEntity;
  const own = { inserted: result.inserted + (related?.inserted ?? 0), updated: result.updated + (related?.updated ?? 0) };
  result.byEntity = { [name]: own, ...others };
  return result;
}
