import type { SqlSession } from '../adapter/sql-session.js';
import type { EntityModel, RelationWrite, UnwrittenRelation } from '../model/entity-model.js';
import type { InputBatch } from './batches.js';
import type { LifecycleHooks, RowChange } from './lifecycle.js';

/** Where one transaction's work goes: its SQL session and the ORM lifecycle bound to it. */
export interface WriteTarget<E> {
  readonly session: SqlSession;
  readonly hooks: LifecycleHooks<E>;
  /** The transaction is the caller's: cohort guards its own work with a savepoint. */
  readonly inCallerTransaction: boolean;
  /** How the ORM knows what is stored and what changed (needed by updates and saves). */
  readonly changes?: ChangeTracker<E>;
  /**
   * The ORM's save finishes its inserts, after-hooks included, before it starts its updates
   * (MikroORM's flush commits change-set groups in order). Default: all before-hooks, then both
   * statements, then all after-hooks (TypeORM's save()).
   */
  readonly insertsBeforeUpdates?: boolean;
  /**
   * The engine starts a batch (before any hook or statement of it): the adapter can tag its rows
   * with the call, without wrapping the input in a generator of its own.
   */
  batchStarted?(batch: InputBatch<E>): void;
  /**
   * The engine is done with a batch (its statements and hooks ran): the adapter can drop what it
   * keeps per row, so that a long stream holds only the batch in flight.
   */
  batchDone?(batch: InputBatch<E>): void;
}

/**
 * The ORM's change detection, as the adapter runs it on the transaction: TypeORM loads the database
 * entities like save() does; MikroORM uses its identity-map snapshots.
 */
export interface ChangeTracker<E> {
  /**
   * What the database holds for each row of the batch (one query for the batch at most), or
   * `undefined` for rows that are new: no key, or no row with that key.
   */
  load(batch: InputBatch<E>): Promise<(unknown | undefined)[]>;
  /**
   * What changed on `entity` since `loaded` (empty `columns` when nothing is to be written).
   * `previous` is the row's diff before the before-update hooks ran, when this is the diff after them.
   */
  diff(entity: E, loaded: unknown, previous?: RowChange): RowChange;
  /**
   * The property of the entity's primary key that has no value (undefined or null), or undefined
   * when the key is complete: a row `load` found nothing for because there is nothing to look up.
   */
  missingKey?(entity: E): string | undefined;
  /** Called after a row was updated, with its new state written back (e.g. refresh a snapshot). */
  updated?(entity: E): void;
  /** Statements `load` has sent so far (counted in the result's `statements`). */
  readonly queries?: number;
  /**
   * For trackers whose `load` queries the database by key: the key of an entity. The engine then
   * starts a batch's look-up before the previous batch's statement (PostgreSQL answers it first and
   * the rows are read while that statement runs), unless the two batches share a key. Undefined for
   * an entity without a (complete) key.
   */
  keyOf?(entity: E): string | undefined;
  /**
   * The first row of the batch that reaches, through its relations, a related entity that is stored
   * already and was changed, which the ORM's own save would update with it (`cascade update`) — its
   * position in `entities` and what was found. Entities of the batch itself are not looked at (the
   * call writes them). May query the database (counted in `queries`). Not called for upserts.
   */
  changedRelation?(
    entities: readonly E[],
    write: RelationWrite,
  ): Promise<{ position: number; found: UnwrittenRelation } | undefined>;
}

/**
 * Runs `fn` in a transaction — the caller's when one is open, else a new one that commits when `fn`
 * resolves and rolls back when it throws. Implemented by each adapter with its ORM's transaction
 * machinery, so transaction events fire as they do for the ORM's own save.
 */
export type TransactionRunner<E> = <T>(fn: (target: WriteTarget<E>) => Promise<T>) => Promise<T>;

/** Everything the engine needs for one call: the entity's model, the options, and the transaction. */
export interface BulkJob<E, O> {
  readonly model: EntityModel<E>;
  readonly options: O;
  readonly transaction: TransactionRunner<E>;
}
