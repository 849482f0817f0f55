import type { InputBatch } from '@cohort/core/adapter';
import {
  ChangeSet,
  ChangeSetType,
  type EntityData,
  type EntityManager,
  type EntityMetadata,
  type Transaction,
} from '@mikro-orm/core';
import { currentPayload, flushPayload, refuseKeyChange } from './flush-payload.js';
import { initializeEntity } from './initialize-entity.js';
import { entityInternals, prototypeMeta } from './mikro-orm-internals.js';
import { type RowState, RowStates } from './row-states.js';
import { UndoLog } from './undo-log.js';
import { UnitOfWorkEntries } from './unit-of-work-entries.js';
import { WriteFinisher } from './write-finisher.js';

type AnyEntity = object;

/** What the call is: upserts run MikroORM's upsert events around the outcome's own. */
export type WriteKind = 'insert' | 'update' | 'save' | 'upsert';

/**
 * The state of one bulk call on an EntityManager: applies `onCreate`/defaults, snapshots each entity
 * as flush's payload, hydrates returned values and registers written entities in the unit of work
 * exactly as flush does — and undoes that registration when the call's transaction rolls back.
 */
export class MikroOrmWriteContext {
  // Rows of the call whose UPDATE hooks ran so far.
  private updates = 0;
  // What the call knows of each entity of its batches in flight (dropped when a batch is done).
  private readonly rows = new RowStates();
  private readonly entries: UnitOfWorkEntries;
  private readonly finisher: WriteFinisher;
  /** The transaction the call's statements run in (set when it starts; a nested call of the call joins it). */
  transaction?: Transaction;

  constructor(
    /** The EntityManager the call runs on (in the transaction while the call runs). */
    readonly em: EntityManager,
    /** The class the call writes: every row is an entity of it (or of a subclass). */
    private readonly target: EntityMetadata<AnyEntity>,
    schema: string | undefined,
    /** The written entities are managed afterwards (`managed` option; a stream's default is false). */
    readonly managed: boolean,
    readonly kind: WriteKind = 'insert',
    /**
     * What to put back, newest last, when the transaction that wrote the entities rolls back (shared
     * with the contexts of the related classes the call inserts with its rows).
     */
    readonly undo: UndoLog = new UndoLog(),
  ) {
    this.entries = new UnitOfWorkEntries(em, this.undo);
    this.finisher = new WriteFinisher(em, schema, managed, this.entries, this.undo);
  }

  /** Checks that the rows of a batch are entities of the call's class, and takes them on. */
  adopt(batch: InputBatch<AnyEntity>): void {
    this.rows.adopt(this.target, batch);
  }

  /**
   * Drops this call's state of entities whose batch is done (their hooks and statements ran), and
   * takes them off the persist stack (`em.persist()`, `em.create()` put them there), as a flush
   * leaves the entities it wrote: one the call skipped, or wrote with `managed: false`, is not
   * written by a later flush after all. Undone if the call's transaction rolls back.
   */
  release(entities: readonly AnyEntity[]): void {
    this.entries.unschedule(entities.filter((entity) => this.rows.drop(entity)));
  }

  metaOf(entity: AnyEntity): EntityMetadata<AnyEntity> {
    // Discovered classes carry their metadata on the prototype; the helper reads it from there too.
    return prototypeMeta(entity) ?? entityInternals(entity).__meta;
  }

  /**
   * `onCreate` for null/undefined values, else the JS `default` for undefined ones, recursing into
   * embeddables: what flush's ChangeSetComputer does for a new entity before any hook runs.
   */
  initialize(entity: AnyEntity): void {
    this.initializeState(entity, this.rows.of(entity));
  }

  /**
   * {@link initialize} for each entity of a batch; returns their states by position, for the
   * change sets of the hooks that follow (one look-up per entity for both).
   */
  initializeAll(entities: readonly AnyEntity[]): readonly RowState[] {
    const states: RowState[] = new Array(entities.length);
    for (let i = 0; i < entities.length; i++) {
      const entity = entities[i] as AnyEntity;
      const state = this.rows.of(entity);
      this.initializeState(entity, state);
      states[i] = state;
    }
    return states;
  }

  private initializeState(entity: AnyEntity, state: RowState): void {
    if (state.initialized) return;
    state.initialized = true;
    const insertOnly = initializeEntity(this.em, this.metaOf(entity), entity);
    if (insertOnly) {
      state.insertOnly ??= [];
      state.insertOnly.push(...insertOnly);
    }
  }

  /** EntityAccess.insertOnly: the columns `onCreate` filled for the entity in this call. */
  insertOnly(entity: AnyEntity): readonly string[] | undefined {
    return this.rows.of(entity).insertOnly;
  }

  /**
   * The change set the hooks of this entity see (`args.changeSet`), made as flush makes it: for a
   * new entity its INSERT payload; for an updated one what the change tracker found (or, for a row an
   * upsert updated, the values it sent).
   */
  changeSetOf(
    entity: AnyEntity,
    type: ChangeSetType = ChangeSetType.CREATE,
    state: RowState = this.rows.of(entity),
  ): ChangeSet<AnyEntity> {
    let changeSet = state.changeSet;
    if (!changeSet || changeSet.type !== type) {
      changeSet = new ChangeSet(entity, type, currentPayload(this.em, entity, state), this.metaOf(entity));
      state.changeSet = changeSet;
    }
    return changeSet;
  }

  /**
   * The payload of the entity's change set: once its row has landed, what was sent with the returned
   * values mapped in — flush's own payload after its INSERT (returned values as the driver gives
   * them), and what the insert path's change sets hold; before that, `prepareEntity` now. Like those,
   * it is a shallow copy: nested values (Dates, object embeddables) are the snapshot's own.
   */
  writtenPayload(entity: AnyEntity): EntityData<AnyEntity> {
    return currentPayload(this.em, entity, this.rows.of(entity));
  }

  /** Records the change set the change tracker computed for an existing entity. */
  useChangeSet(entity: AnyEntity, changeSet: ChangeSet<AnyEntity>): void {
    this.rows.of(entity).changeSet = changeSet;
  }

  /** The entity's `prepareEntity` as the change tracker last took it (undefined: not diffed yet). */
  baselineOf(entity: AnyEntity): EntityData<AnyEntity> | undefined {
    return this.rows.of(entity).baseline;
  }

  /** Records what the change tracker took; `hooked`: after the before-update hooks. */
  setBaseline(entity: AnyEntity, data: EntityData<AnyEntity>, hooked: boolean): void {
    const state = this.rows.of(entity);
    state.baseline = data;
    state.hooked = hooked;
  }

  /**
   * The batch's changed rows are about to be updated. Flush updates a class's change sets with one
   * statement per group when there are several (`useBatchUpdates`), one each otherwise; what
   * differs is the key in the after-hooks' payload. The rows of a call count as one group, as far
   * as they are known when a batch's rows are.
   */
  noteUpdates(entities: readonly AnyEntity[]): void {
    this.updates += entities.length;
    const platform = this.em.getPlatform();
    const grouped = this.updates > 1 && this.em.config.get('useBatchUpdates', platform.usesBatchUpdates());
    for (const entity of entities) this.rows.of(entity).grouped = grouped;
  }

  /** The change tracker found the entity's row: it is updated, not inserted. */
  markExisting(entity: AnyEntity): void {
    this.rows.of(entity).existing = true;
  }

  /**
   * EntityAccess.prepare: flush's payload for the entity (after its before-hooks). For an update it
   * also carries the version the entity was read with, the one the UPDATE expects.
   */
  prepare(entity: AnyEntity): EntityData<AnyEntity> {
    const state = this.rows.of(entity);
    if (!state.existing) this.initializeState(entity, state);
    return flushPayload(this.em, this.metaOf(entity), entity, state);
  }

  /**
   * Refuses a change of a managed entity's primary key (in `payload`, its diff against the
   * snapshot): flush rewrites the key (`UPDATE … SET id = new WHERE id = old`); cohort finds each
   * row by the key the entity has now and would report it missing or stale instead.
   */
  refuseKeyChange(
    entity: AnyEntity,
    meta: EntityMetadata<AnyEntity>,
    payload: Record<string, unknown>,
    snapshot: Record<string, unknown>,
  ): void {
    refuseKeyChange(meta, entity, this.rows.of(entity), payload, snapshot);
  }

  /** ColumnModel.write: one RETURNING value of the entity's row. */
  returned(entity: AnyEntity, field: string, value: unknown): void {
    const state = this.rows.of(entity);
    state.row ??= {};
    state.row[field] = value;
  }

  /** EntityAccess.finishInsert: hydrates the returned values and registers the entity (see WriteFinisher.inserted). */
  finishInsert(entity: AnyEntity, upserted?: 'inserted' | 'updated' | 'unchanged'): void {
    this.finisher.inserted(this.metaOf(entity), entity, this.rows.of(entity), upserted);
  }

  /** ChangeTracker.updated: hydrates what the UPDATE returned and refreshes the snapshot (see WriteFinisher.updated). */
  finishUpdate(entity: AnyEntity): void {
    this.finisher.updated(this.metaOf(entity), entity, this.rows.of(entity));
  }

  /** Records how to undo a change to an entity (or a collection) the call made, should its transaction roll back. */
  undoOnRollBack<S>(step: (subject: S) => void, subject?: S): void {
    this.undo.push(step, subject);
  }

  /** A point to roll registrations back to (the start of a transaction). */
  mark(): number {
    return this.undo.mark();
  }

  /**
   * After a rolled-back transaction: the entities it registered leave the identity map again, and
   * the ones it updated get back their snapshot and the values the UPDATE returned onto them.
   */
  forgetSince(mark: number): void {
    this.undo.rollBack(mark);
  }
}
