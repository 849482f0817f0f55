/**
 * The adapter contract: everything an ORM adapter gives the engine, in one place (the analogue of
 * kysely's Dialect). An adapter describes an entity's table once per class as pure data
 * ({@link EntityModel}), and for each call hands the engine a {@link BulkJob}: the options, how to
 * read and write that call's entities ({@link EntityAccess}), and how to run in the ORM's
 * transaction ({@link TransactionRunner}), which gives the SQL session, the ORM's lifecycle
 * ({@link LifecycleHooks}) and its change detection ({@link ChangeTracker}) bound to it.
 * The engine knows nothing else of the ORM. docs/guide.md ("Writing an adapter") walks through it.
 */
import type { RowOutcome } from '../engine/options/bulk-options.js';
import type { ColumnModel, EntityModel, JunctionTable, RelationWrite, UnwrittenRelation } from '../model/entity-model.js';
import type { CascadeWrite } from './cascade-contract.js';
import type { SelfReference, TreeUpdate } from './tree-update.js';

export type { CascadeGroup, CascadeWrite, ReplacedWrite } from './cascade-contract.js';
export type { SelfReference, TreeUpdate } from './tree-update.js';

/** One batch of input rows, with their indices in the whole input. */
export interface InputBatch<E> {
  readonly number: number;
  readonly entities: E[];
  readonly indices: number[];
  /**
   * Cut from an array in key order (key-order.ts): a later batch may hold rows that come before
   * this batch's in the input. Absent for batches in input order (a stream's, a single batch).
   */
  readonly keyOrdered?: boolean;
  /**
   * No batch of the call comes after this one: the last batch of an array or a Set, or a stream's
   * batch cut at its end. Absent when a later batch may come.
   */
  readonly last?: boolean;
}

/**
 * What the engine needs from a database connection: the adapter binds it to the ORM's running
 * transaction. Structural, so core depends on no driver.
 */
export interface SqlSession {
  /** Runs one statement with bound parameters (`$1`, `$2`…) and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * The raw node-postgres client of the running transaction, when the adapter can reach it.
   * Enables COPY; without it the engine uses `unnest` statements.
   */
  copyClient?(): Promise<CopyCapableClient | undefined>;
  /**
   * A Buffer parameter reaches PostgreSQL in binary form (node-postgres' own client): array
   * parameters of some types are then sent as binary arrays. Otherwise every parameter is text.
   */
  readonly binaryParameters?: boolean;
  /** Reports a statement the engine sent outside `query` (COPY) to the ORM's logger. */
  logStatement?(sql: string): void;
}

/** The part of a node-postgres client that COPY needs (`client.query(copyStream)`). */
export interface CopyCapableClient {
  query(stream: unknown): unknown;
}

/** A batch handed to lifecycle hooks. */
export type HookBatch<E> = InputBatch<E>;

/** A batch of rows being updated: per row, the changed properties and their values before. */
export interface UpdateHookBatch<E> extends HookBatch<E> {
  readonly changes: readonly RowChange[];
}

/** What changed on one row. */
export interface RowChange {
  /** Changed property paths. */
  readonly properties: readonly string[];
  /** Database values of the changed properties before the update (property → value). */
  readonly before: Readonly<Record<string, unknown>>;
  /** Changed database columns (what the UPDATE writes for this row). */
  readonly columns?: readonly string[];
  /** The ORM's own description of the change, for its event objects (e.g. TypeORM's UpdateEvent). */
  readonly native?: unknown;
}

/** A batch after an upsert: the outcome of each row. */
export interface UpsertHookBatch<E> extends HookBatch<E> {
  readonly outcomes: readonly RowOutcome[];
}

/**
 * The ORM's lifecycle, as the adapter runs it. Each method covers one batch: entity listeners,
 * subscribers and batch subscribers, in the ORM's own order. A throwing hook must surface as a
 * {@link BulkHookError} naming the row (see {@link runForEach}).
 */
export interface LifecycleHooks<E> {
  beforeInsert(batch: HookBatch<E>): Promise<void>;
  afterInsert(batch: HookBatch<E>): Promise<void>;
  /** Resolves to `false` when no hook ran, so the rows need not be diffed again. */
  // biome-ignore lint/suspicious/noConfusingVoidType: adapters that cannot tell return Promise<void>.
  beforeUpdate?(batch: UpdateHookBatch<E>): Promise<void | boolean>;
  afterUpdate?(batch: UpdateHookBatch<E>): Promise<void>;
  /** Before an upsert statement: what the ORM runs before its own upsert. */
  beforeUpsert?(batch: HookBatch<E>): Promise<void>;
  /**
   * After an upsert, for the rows it found and left as they were (it had nothing of theirs to
   * write): neither inserted nor updated, so only what the ORM runs after any upsert of a row.
   */
  afterUpsertUnchanged?(batch: HookBatch<E>): Promise<void>;
  /**
   * After an upsert's outcome hooks (`afterInsert`, `afterUpdate`, `afterUpsertUnchanged`): every
   * row the statement inserted, updated or found unchanged, in input order — for an ORM event that
   * follows any upsert of a row (MikroORM's `afterUpsert`, which `upsertMany` fires in input order).
   */
  afterUpsert?(batch: HookBatch<E>): Promise<void>;
  /** Before a remove's DELETE, for every row of the batch that has its key. */
  beforeRemove?(batch: HookBatch<E>): Promise<void>;
  /** After a remove's DELETE, for the rows it removed (their objects already look removed: see {@link ChangeTracker.removed}). */
  afterRemove?(batch: HookBatch<E>): Promise<void>;
  /** Before a soft remove's UPDATE, for every row of the batch that has its key. */
  beforeSoftRemove?(batch: HookBatch<E>): Promise<void>;
  /** After a soft remove's UPDATE, for the rows it soft-removed (their new delete date etc. already on the objects). */
  afterSoftRemove?(batch: HookBatch<E>): Promise<void>;
  /**
   * Before a batch's junction statements, with the links they write: what the ORM runs per junction
   * row it inserts or deletes (TypeORM's subscribers get beforeInsert / beforeRemove for each).
   */
  beforeLinks?(links: LinkHookBatch<E>): Promise<void>;
  /** After the batch's after-hooks, for the links its junction statements wrote. */
  afterLinks?(links: LinkHookBatch<E>): Promise<void>;
}

/** The links a batch's junction statements write, for {@link LifecycleHooks.beforeLinks} and `afterLinks`. */
export interface LinkHookBatch<E> {
  readonly number: number;
  readonly added: readonly LinkRow<E>[];
  readonly removed: readonly LinkRow<E>[];
  /**
   * One-to-many items whose foreign key the batch sets or clears (`JunctionTable.foreignKey`), in
   * row order, each row's set ones then its cleared ones: updates of their own table, whose events
   * come between the links added and the links removed (TypeORM's save() groups them so).
   */
  readonly items?: readonly LinkRow<E>[];
  /**
   * One-to-many items removed from their collection whose rows the batch deletes or soft-deletes
   * (`ForeignKeyUpdate.orphans`), in row order: removes of their own table, whose events come after
   * the items' updates and before the links removed (TypeORM's save() groups them so; its
   * soft-removes come after every remove).
   */
  readonly orphans?: readonly LinkRow<E>[];
}

/** One junction row a batch inserts or deletes: its values, the relation, and the input row it belongs to. */
export interface LinkRow<E> {
  readonly links: RowLinks;
  /** In `links.junction.columns` order. */
  readonly values: readonly unknown[];
  readonly entity: E;
  /** The row's index in the whole input. */
  readonly index: number;
}

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
  /**
   * Called after a row was removed, before the after-remove hooks: leave the object as the ORM's own
   * remove leaves it (TypeORM unsets its key; MikroORM takes it out of the identity map). The adapter
   * puts it back if the transaction rolls back.
   */
  removed?(entity: E): void;
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
   * The related entities stored already and changed that the rows of the batch reach through their
   * relations, which the ORM's own save would update with them (`cascade update`): grouped by class,
   * each entity once, to update with the batch (see {@link ChangedRelations}). Entities of the batch
   * itself are not looked at (the call writes them). May query the database (counted in `queries`).
   * Not called for upserts.
   */
  changedRelations?(entities: readonly E[], write: RelationWrite): Promise<ChangedRelations | undefined>;
  /**
   * Called with a batch's rows before the first before-hook of their write runs (when hooks run),
   * for trackers with `changedRelations`: the ORM's save may decide its related entities' events
   * before its hooks (TypeORM: a stored related entity only the rows' hooks changed gets no
   * before-update event), so the tracker may note their state now.
   */
  beforeHooks?(entities: readonly E[]): void;
}

/** What {@link ChangeTracker.changedRelations} found for a batch. */
export interface ChangedRelations {
  /**
   * The first row reaching a changed related entity (or one the call must refuse): where the engine
   * does not write related updates, or when `refused` is set, the row is refused with it.
   */
  readonly first: { position: number; found: UnwrittenRelation };
  /** Set when that row reaches something cohort cannot write as the ORM's save does: refuse it. */
  readonly refused?: boolean;
  /** The changed related entities, one group per class, classes in the order first reached. */
  readonly groups: readonly RelatedUpdateGroup[];
}

/** The changed related entities of one class that a batch's rows reach, and how to update them. */
export interface RelatedUpdateGroup {
  /** The relation path they are first reached through, from the row's class (for errors: `Post.author.publisher`). */
  readonly entityName: string;
  readonly property: string;
  readonly model: EntityModel;
  readonly access: EntityAccess<unknown>;
  /** Where to update them: the call's session, their class's lifecycle and change tracker (one without `changedRelations`). */
  readonly target: WriteTarget<unknown>;
  readonly entities: readonly unknown[];
  /** For each entity, the position in the batch of the row it was first reached from. */
  readonly positions: readonly number[];
  /**
   * Whether the entity is one the ORM's save does not update (reached only through relations that
   * cascade inserts): only the new entities it holds are written, inserted with the rows. Absent when
   * every entity of the group is updated.
   */
  readonly notUpdated?: (entity: unknown) => boolean;
  /** The relation path the entity is first reached through, where it is not the group's (for errors). */
  readonly reachedVia?: (entity: unknown) => { readonly entityName: string; readonly property: string } | undefined;
}

/**
 * Runs `fn` in a transaction — the caller's when one is open, else a new one that commits when `fn`
 * resolves and rolls back when it throws. Implemented by each adapter with its ORM's transaction
 * machinery, so transaction events fire as they do for the ORM's own save.
 */
export type TransactionRunner<E> = <T>(fn: (target: WriteTarget<E>) => Promise<T>) => Promise<T>;

/**
 * How the engine reads and writes the entities of one call: per call, so an adapter can keep what
 * it needs for the call (MikroORM's unit of work) without finding it through the entities.
 */
export interface EntityAccess<E> {
  /**
   * The function giving a column's value as the ORM would hand it to its driver (after transformers
   * and the ORM's own serialization); `undefined` means "not set", so the database default applies.
   * `prepared` is what {@link prepare} returned for the entity, when there is a `prepare`. Asked once
   * per column and call; the function runs per row.
   */
  reader(column: ColumnModel): (entity: E, prepared?: unknown) => unknown;
  /** The function putting a value returned by the database (as the driver parsed it) onto an entity. */
  writer(column: ColumnModel): (entity: E, value: unknown) => void;
  /**
   * Converts an entity once before its columns are read (called after the before-hooks); the result
   * is passed to every reader for that row. For ORMs that serialize a whole entity at a time.
   */
  prepare?(entity: E): unknown;
  /**
   * Called for each written entity after returned values are written (the ORM's own clean-up).
   * `upserted`: for an upsert (an insert with `onConflict` update), what happened to the row.
   */
  finishInsert?(entity: E, upserted?: 'inserted' | 'updated' | 'unchanged'): void;
  /**
   * The columns of the entity's row whose values the ORM made for an insert only (an `onCreate`
   * hook filled them): an upsert that finds the row keeps the stored values, as the ORM's upsert
   * does. Called per row of an upsert, after the before-hooks.
   */
  insertOnly?(entity: E): readonly string[] | undefined;
  /**
   * The first relation of a row that the ORM's own save would write and cohort does not, if any;
   * `stored` is what the change tracker loaded for a row being updated. Leave it out when the
   * entity has no relation that needs a look, so such rows cost nothing.
   */
  unwrittenRelation?(entity: E, write: RelationWrite, stored?: unknown): UnwrittenRelation | undefined;
  /**
   * The many-to-many links the ORM's own save would add or remove for a row (nothing for an upsert),
   * asked after {@link unwrittenRelation} let the row through; `stored` as there. Leave it out when
   * the entity has no many-to-many relation.
   */
  links?(entity: E, write: RelationWrite, stored?: unknown): readonly RowLinks[] | undefined;
  /**
   * Whether the ORM's own save looks at a stored row's one-to-many `property` (TypeORM: not when it
   * is undefined on the object). Absent: every row's is looked at.
   */
  holdsRelation?(entity: E, property: string): boolean;
  /**
   * The ORM's own save works out which links a row adds and removes before its before-hooks run
   * (TypeORM builds its junction subjects first: a link a hook adds is not written by that save).
   * Without it the links are worked out after the before-hooks (MikroORM's flush reads collections
   * after its hooks).
   */
  readonly linksBeforeHooks?: boolean;
  /**
   * The new related entities the ORM's own save would insert with the rows of a batch (cascade):
   * asked once per batch of an insert, a save and an update (of the rows found), before its
   * before-hooks, so that
   * {@link unwrittenRelation} lets through the relations they are reached by. Leave it out when the
   * entity has no relation that cascades inserts.
   */
  cascades?(batch: InputBatch<E>): CascadeWrite | undefined;
  /**
   * The row's to-one references to new entities (no key yet) of its own table: a tree's parent in
   * the same call. An insert writes NULL in their join columns and, once the parents have their keys,
   * one follow-up UPDATE per batch (insert-self-references.ts). An adapter whose ORM links such a row
   * with its UPDATE even when the parent went in first (MikroORM's flush of the whole input) also
   * names a parent an earlier batch of the call inserted: the row's INSERT writes its key, and the
   * UPDATE of the row's batch writes it again, with the version and update events the ORM's has. {@link unwrittenRelation} lets these
   * through when the write is an insert. `pending` (when given) says whether an entity is a row the
   * call inserts and has not inserted yet: a reference to it is named whatever key it carries (one
   * left from a failed call, or set by hand), as the key this call gives it is the one to write.
   * Leave it out when the entity has no such relation.
   */
  selfReferences?(entity: E, pending?: (target: object) => boolean): readonly SelfReference[] | undefined;
  /**
   * The update events of a tree's follow-up UPDATE, as the ORM's save fires them for its own one
   * UPDATE per row: what each linked row's events carry, and whether before-update events run.
   * Without it the UPDATE fires no event.
   */
  readonly treeUpdate?: TreeUpdate<E>;
}

/**
 * The links of one row through one many-to-many relation that its write adds and removes, as the
 * ORM's own save works them out. The engine sends the links of a batch together: per junction table
 * one DELETE for the removed ones and one INSERT for the added ones, after the batch's own statements.
 */
export interface RowLinks {
  /** The relation's property on the row's entity (for errors). */
  readonly property: string;
  /** The related entity class (for errors). */
  readonly target: string;
  /** The row's own class, when it is not the model's (single-table inheritance). */
  readonly entityName?: string;
  readonly junction: JunctionTable;
  /**
   * The junction rows to insert, values in `junction.columns` order as the ORM hands them to its
   * driver. Read after the row's own statement, so that a new row's generated key is in them.
   */
  added(): readonly (readonly unknown[])[];
  /** The junction rows to delete (same shape). */
  removed(): readonly (readonly unknown[])[];
  /** Called once the links are written: leave the relation clean, as the ORM's save leaves it. */
  written?(): void;
}

/** Everything the engine needs for one call: the table, the options, the entities' access and the transaction. */
export interface BulkJob<E, O> {
  readonly model: EntityModel;
  readonly access: EntityAccess<E>;
  readonly options: O;
  readonly transaction: TransactionRunner<E>;
}
