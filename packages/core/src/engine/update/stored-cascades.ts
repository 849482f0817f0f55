// New related entities of stored rows (cascade), as the ORM's save inserts them with the rows'
// UPDATE: the to-one targets before it (the UPDATE writes their keys), the new items of a one-to-many
// with the row's key. Shared by bulkSave (its stored rows, with its new ones) and bulkUpdate.
import type { CascadeWrite, InputBatch, WriteTarget } from '../../adapter/contract.js';
import type { BoundModel } from '../../model/bound-model.js';
import type { BatchContext } from '../batches/batch-context.js';
import { cascadeHooks, cascadesOf, insertCascades, LateTrees } from '../insert/cascade-inserts.js';
import { insertStagesOf } from '../insert/run-insert.js';
import type { InsertOptions } from '../options/bulk-options.js';
import { refuseUnwrittenRelations } from '../rows/relation-guard.js';

/** A batch's stored rows: as the change tracker found them, with their stored state by row. */
export interface StoredRows<E> {
  readonly existing: InputBatch<E>;
  readonly states: readonly unknown[];
}

/**
 * The new related entities the rows of `batch` reach (see `cascadesOf`), found before any hook of
 * the batch runs; with them, the stored rows' relations the call does not write are refused before
 * any related entity goes in (the relation finders let through a reference to an entity the cascade
 * inserts before the rows, so they look once the graph is known). A new entity held by a stored
 * related entity is left to the check after the target's `changedRelations` look-up, when it has
 * one: that look-up finds the changed stored entities, whose updates insert what they hold (a row
 * reaching both a new related entity and a changed one holding new ones is written as save() does).
 */
export function storedCascadesOf<E>(
  model: BoundModel<E>,
  batch: InputBatch<E>,
  options: InsertOptions,
  { existing, states }: StoredRows<E>,
  target: WriteTarget<E>,
): CascadeWrite | undefined {
  const cascade = cascadesOf(model, batch, options);
  const looksLater = target.changes?.changedRelations !== undefined;
  if (cascade && existing.entities.length > 0) refuseUnwrittenRelations(model, existing, 'update', states, looksLater);
  return cascade;
}

/**
 * The steps that write the new related entities of a batch of stored rows only (bulkUpdate's), in
 * the order bulkSave writes them for such a batch (its stored rows take the same steps between its
 * new rows' ones), which is the order of the ORM's own save:
 * - inserts before updates (MikroORM's flush, `WriteTarget.insertsBeforeUpdates`): every class's
 *   inserts, each with its own hooks, then the rows diffed (a reference to a new entity now has its
 *   key), their before-update hooks, UPDATE and after-update hooks;
 * - the graph's hook order (TypeORM's save(), `CascadeWrite.hookOrder`): every before-insert event
 *   of the graph, the rows' before-update events, the inserts before the UPDATE, the UPDATE, the
 *   inserts after it, every after-insert event (the entities before the rows first), then the
 *   rows' after-update events;
 * - otherwise each class with its own hooks around the rows' whole update: the entities the rows
 *   refer to before it, the others after it.
 */
export class StoredCascades {
  // The related classes' trees (`author.mentor`, both new): their update events after the batch's last insert event.
  private readonly trees: LateTrees;

  private constructor(
    private readonly found: CascadeWrite,
    private readonly number: number,
    private readonly order: 'inserts first' | 'graph' | 'around',
    hooks: boolean | undefined,
  ) {
    this.trees = new LateTrees(hooks);
  }

  /** The batch's related entities to insert, or undefined (see {@link storedCascadesOf}). */
  static of<E>(
    model: BoundModel<E>,
    stored: StoredRows<E>,
    options: InsertOptions,
    target: WriteTarget<E>,
  ): StoredCascades | undefined {
    const found = storedCascadesOf(model, stored.existing, options, stored, target);
    if (!found) return undefined;
    const order = target.insertsBeforeUpdates ? 'inserts first' : found.hookOrder === 'graph' ? 'graph' : 'around';
    return new StoredCascades(found, stored.existing.number, order, options.hooks);
  }

  /** Whether every hook of the graph runs around every statement of the batch (TypeORM's save()). */
  get graphHooks(): boolean {
    return this.order === 'graph';
  }

  /** Whether some of them go in after the rows' statement (they take the rows' keys). */
  get after(): boolean {
    return this.found.groups.some((group) => group.side === 'after');
  }

  /** Inserts first: every class inserted before the rows are diffed. */
  async beforeDiff<E>(context: BatchContext<E, InsertOptions>): Promise<void> {
    if (this.order !== 'inserts first') return;
    await this.insert('before', context);
    await this.insert('after', context);
    this.found.written?.();
  }

  /** Before the rows' before-update hooks: the graph's before-insert events, or the entities the rows refer to. */
  async beforeHooks<E>(context: BatchContext<E, InsertOptions>): Promise<void> {
    if (this.order === 'graph') await cascadeHooks(this.found, 'before', this.number, context.options);
    else if (this.order === 'around') await this.insert('before', context);
  }

  /** The graph's order: the entities the rows refer to, inserted (without hooks) before the rows' UPDATE. */
  async beforeStatement<E>(context: BatchContext<E, InsertOptions>): Promise<void> {
    if (this.order === 'graph') await this.insert('before', context);
  }

  /** The graph's order: the entities that refer to the rows, inserted (without hooks) after their UPDATE. */
  async afterStatement<E>(context: BatchContext<E, InsertOptions>): Promise<void> {
    if (this.order === 'graph') await this.insert('after', context);
  }

  /** The graph's order: the after-insert events of the entities inserted on one side of the rows' UPDATE. */
  async afterHooks(options: InsertOptions, side: 'before' | 'after'): Promise<void> {
    if (this.order === 'graph') await cascadeHooks(this.found, 'after', this.number, options, side);
  }

  /**
   * The graph's order, after the rows' after-update events: the related trees' update events (save()
   * fires every afterUpdate, the rows' first, before the one-to-many items' and any afterRemove).
   */
  async afterUpdates(): Promise<void> {
    if (this.order === 'graph') await this.trees.run();
  }

  /**
   * After the rows' after-update hooks: the entities that refer to the rows (around); the relations
   * left clean; then the related trees' late work (as flush's extra updates, after its updates).
   */
  async done<E>(context: BatchContext<E, InsertOptions>): Promise<void> {
    if (this.order !== 'inserts first') {
      if (this.order === 'around') await this.insert('after', context);
      this.found.written?.();
    }
    await this.trees.run();
  }

  private insert<E>(side: 'before' | 'after', context: BatchContext<E, InsertOptions>): Promise<void> {
    return insertCascades(this.found, side, this.number, context, insertStagesOf, this.trees);
  }
}
