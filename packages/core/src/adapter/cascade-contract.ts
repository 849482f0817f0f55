// The cascade part of the adapter contract (see contract.ts): the new related entities a batch's rows
// reach, inserted with them in the order the ORM's save inserts them, and what that save writes first.
import type { EntityModel } from '../model/entity-model.js';
import type { EntityAccess, InputBatch, LifecycleHooks } from './contract.js';

/**
 * The new related entities of a batch, grouped by class in the order the ORM's save inserts them:
 * the groups `before` the batch's own statement (entities the rows refer to) and `after` it
 * (entities that refer to the rows). The engine inserts each group with the ordinary insert phases
 * of its class (before-hooks, validation, one statement, values back, after-hooks), in the call's
 * transaction.
 */
export interface CascadeWrite {
  readonly groups: readonly CascadeGroup[];
  /**
   * When the hooks run: `'class'` (the default) — each class's before-hooks, statement and
   * after-hooks in turn (MikroORM's flush); `'graph'` — every before-hook of the batch's graph (the
   * rows' first) before its first statement and every after-hook after its last (TypeORM's save()),
   * so a hook changing another entity of the graph is written, and an after-hook changes nothing
   * written.
   */
  readonly hookOrder?: 'class' | 'graph';
  /** Called once every group of the batch is written: leave the relations clean, as the ORM's save leaves them. */
  written?(): void;
}

/** The new entities of one class a batch's rows reach, and how to write them. */
export interface CascadeGroup {
  readonly side: 'before' | 'after';
  /** The relation they are first reached through, for errors (`Order.lines`). */
  readonly entityName: string;
  readonly property: string;
  readonly model: EntityModel;
  readonly access: EntityAccess<unknown>;
  /** The lifecycle of their class, on the call's transaction. */
  readonly hooks: LifecycleHooks<unknown>;
  readonly entities: readonly unknown[];
  /** For each entity, the index of the input row it was reached from. */
  readonly indices: readonly number[];
  /** As {@link WriteTarget.batchStarted} and `batchDone`, for the group's batch. */
  batchStarted?(batch: InputBatch<unknown>): void;
  batchDone?(batch: InputBatch<unknown>): void;
  /**
   * Writes, on the call's transaction, what the ORM's save writes before the group's insert: the
   * stored entities its new entities replace (MikroORM: a stored row's previous inverse one-to-one
   * target, whose reference flush clears — or which it deletes, with orphanRemoval — in an early step
   * of its own). Called before the group's before-insert hooks; the entities it updated are counted
   * in `byEntity`, its statements in `statements`. A failure it throws is told at the input row whose
   * new entity replaced the failing one (`located(error, relation, 'updated' | 'removed', row)`).
   */
  writeReplaced?(batch: InputBatch<unknown>): Promise<ReplacedWrite | undefined>;
}

/** What {@link CascadeGroup.writeReplaced} wrote. */
export interface ReplacedWrite {
  /** The class of the replaced entities (counted in `byEntity` as updated ones). */
  readonly entityName: string;
  readonly updated: number;
  /** Replaced entities deleted (not counted in the rows' `removed`). */
  readonly removed: number;
  /** Statements sent (added to the result's `statements`). */
  readonly statements: number;
}
