// The tree-update part of the adapter contract (see contract.ts): a row's reference to a new entity
// of its own table, and how the ORM's save fires and writes the follow-up UPDATE that links it.
import type { EntityAccess, RowChange, WriteTarget } from './contract.js';

/**
 * How the ORM's save fires update events for the rows whose join columns it sets after their insert
 * (see {@link EntityAccess.selfReferences}), and what else its UPDATE writes for them. The engine
 * sends one UPDATE per batch (and set of columns written) for them that also moves their version
 * column and update-date columns on, as the ORMs' own UPDATEs do.
 */
export interface TreeUpdate<E> {
  /**
   * The ORM runs before-update events for these rows and then writes what they changed (MikroORM's
   * flush): the engine runs the whole update — before-events, UPDATE, after-events — after the
   * batch's after-insert hooks (with {@link WriteTarget.insertsBeforeUpdates}) and asks
   * {@link hooked}. Otherwise (TypeORM's save()) the UPDATE follows the INSERT and only the
   * after-update events run, after the batch's after-insert hooks.
   */
  readonly before: boolean;
  /**
   * What the row's update events carry; `references`: its references written now. Its `columns`
   * are what the row's UPDATE writes: the references' join columns, and any other column the ORM's
   * UPDATE writes for the row (MikroORM: `onUpdate` values, what an `afterCreate` hook changed),
   * whose values the adapter has put on the entity; the engine reads and encodes them with the
   * model's readers, validates them as an update's changed columns, and writes them with the parent
   * (a named column it may not update is refused, `tree update`). `index`, `batch`: the row's input
   * index and batch number, for a refusal naming the row (an UnsupportedFeatureError, as {@link hooked}).
   */
  change(entity: E, references: readonly SelfReference[], index: number, batch: number): RowChange;
  /**
   * After the before-update events: the row's change with what they changed (more `columns` to
   * write). Throws (an UnsupportedFeatureError naming the row) for a change the UPDATE cannot write.
   */
  hooked?(entity: E, change: RowChange, index: number, batch: number): RowChange;
  /**
   * The UPDATE wrote the row: `returned` holds its new version and update dates (column name →
   * value as the driver parsed it), to put onto the object (and the ORM's snapshot of it, with the
   * other columns `change` named).
   */
  written(entity: E, returned: Readonly<Record<string, unknown>>, change: RowChange): void;
}

/** A row's reference to a new entity of its own table (see {@link EntityAccess.selfReferences}). */
export interface SelfReference {
  /** The relation's property on the row's entity. */
  readonly property: string;
  /** The row's own class, when it is not the model's (single-table inheritance). */
  readonly entityName?: string;
  /** The referred entity, without a key yet, or a row the call has yet to insert (or one an earlier batch of the call inserted; see {@link EntityAccess.selfReferences}). */
  readonly target: object;
  /** The relation's join columns (in the model's columns). */
  readonly columns: readonly string[];
  /** The key columns of the target each join column takes its value from, in `columns` order. */
  readonly referenced: readonly string[];
  /** Called once the follow-up UPDATE wrote the join columns: the row's snapshot holds them now. */
  written?(): void;
  /** Whether the join columns take NULL: a NOT NULL one cannot wait for its parent's key. */
  readonly nullable: boolean;
}
