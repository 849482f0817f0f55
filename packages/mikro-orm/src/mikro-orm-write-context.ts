import { BulkWriteError, UnsupportedFeatureError } from '@cohort/core';
import type { InputBatch } from '@cohort/core/adapter';
import {
  ChangeSet,
  ChangeSetType,
  type EntityData,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  type IdentityMap,
  isRaw,
  ReferenceKind,
  Utils,
} from '@mikro-orm/core';
import { assertEntityRow } from './assert-entity-row.js';
import {
  changeSetPayload,
  entityInternals,
  hydrateReturned,
  mapResult,
  prototypeMeta,
  registerManaged,
  setOriginalEntityData,
  syncIdentifier,
} from './mikro-orm-internals.js';
import { prepareEntity } from './prepare-entity.js';

type AnyEntity = object;

/** What one call knows about one of its entities. */
interface RowState {
  /** Where the row is in the input (for errors naming it). */
  readonly index?: number;
  readonly batch?: number;
  initialized: boolean;
  /** The change tracker found its row: it is updated, not inserted. */
  existing: boolean;
  changeSet?: ChangeSet<AnyEntity>;
  /** The INSERT payload sent for it; for an update, the snapshot its UPDATE was built from. */
  sent?: EntityData<AnyEntity>;
  /**
   * `prepareEntity(entity)` as the change tracker last took it: right after `onUpdate` (what flush
   * diffs the before-update hooks' changes against), then after those hooks.
   */
  baseline?: EntityData<AnyEntity>;
  /**
   * The baseline was taken after the before-update hooks: nothing changes the entity between that
   * diff and the write, so it is the write's payload.
   */
  hooked: boolean;
  /** The RETURNING values of its row, by column. */
  row?: Record<string, unknown>;
  /** Columns whose values `onCreate` made in this call: for an insert only (see EntityModel.insertOnly). */
  insertOnly?: string[];
  /**
   * Its UPDATE is one of several of the call: flush writes such a group with one statement that
   * returns every row's key, and merges the key into each change set's payload.
   */
  grouped?: boolean;
  /**
   * Once its INSERT (or an upsert's INSERT … ON CONFLICT) ran: what was sent with the returned values
   * mapped in, a copy taken before the unit of work normalized the snapshot; handed to the first
   * change set made for its after-hooks.
   */
  landed?: EntityData<AnyEntity>;
}

/** A list of a class's properties, worked out once per class (metadata object). */
function perClass(
  filter: (meta: EntityMetadata<AnyEntity>) => EntityProperty<AnyEntity>[],
): (meta: EntityMetadata<AnyEntity>) => EntityProperty<AnyEntity>[] {
  const lists = new WeakMap<EntityMetadata<AnyEntity>, EntityProperty<AnyEntity>[]>();
  return (meta) => {
    let props = lists.get(meta);
    if (!props) {
      props = filter(meta);
      lists.set(meta, props);
    }
    return props;
  };
}

/**
 * The properties `initialize` can change (an `onCreate`, a JS default that is not raw SQL nor a
 * to-one) or must look into (embeddables): the rest it would only read.
 */
const initializedProps = perClass((meta) =>
  meta.hydrateProps.filter(
    (prop) =>
      prop.onCreate !== undefined ||
      (prop.default != null &&
        !isRaw(prop.default) &&
        prop.kind !== ReferenceKind.MANY_TO_ONE &&
        prop.kind !== ReferenceKind.ONE_TO_ONE) ||
      prop.kind === ReferenceKind.EMBEDDED,
  ),
);

function isToOne(prop: EntityProperty<AnyEntity>): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE || prop.kind === ReferenceKind.ONE_TO_ONE;
}

/** The properties that map to columns (have field names). */
const columnProps = perClass((meta) => meta.props.filter((prop) => prop.fieldNames));

/** What the call is: upserts run MikroORM's upsert events around the outcome's own. */
export type WriteKind = 'insert' | 'update' | 'save' | 'upsert';

/**
 * The state of one bulk call on an EntityManager: applies `onCreate`/defaults, snapshots each entity
 * as flush's payload, hydrates returned values and registers written entities in the unit of work
 * exactly as flush does — and undoes that registration when the call's transaction rolls back.
 */
export class MikroOrmWriteContext {
  // What to put back, newest last, when the transaction that wrote the entities rolls back.
  private readonly undo: (() => void)[] = [];
  // Rows of the call whose UPDATE hooks ran so far.
  private updates = 0;
  // What the call knows of each entity of its batches in flight (dropped when a batch is done).
  private readonly rows = new Map<AnyEntity, RowState>();

  constructor(
    /** The EntityManager the call runs on (in the transaction while the call runs). */
    readonly em: EntityManager,
    /** The class the call writes: every row is an entity of it (or of a subclass). */
    private readonly target: EntityMetadata<AnyEntity>,
    private readonly schema: string | undefined,
    private readonly managed: boolean,
    readonly kind: WriteKind = 'insert',
  ) {}

  /** Checks that the rows of a batch are entities of the call's class, and takes them on. */
  adopt(batch: InputBatch<AnyEntity>): void {
    const { entities, indices, number } = batch;
    for (let i = 0; i < entities.length; i++)
      assertEntityRow(this.target, entities[i] as AnyEntity, indices[i] as number, number);
    for (let i = 0; i < entities.length; i++) {
      const index = indices[i];
      this.rows.set(entities[i] as AnyEntity, {
        index,
        batch: number,
        initialized: false,
        existing: false,
        hooked: false,
      });
    }
  }

  /**
   * Drops this call's state of entities whose batch is done (their hooks and statements ran), and
   * takes them off the persist stack (`em.persist()`, `em.create()` put them there), as a flush
   * leaves the entities it wrote: one the call skipped, or wrote with `managed: false`, is not
   * written by a later flush after all.
   */
  release(entities: readonly AnyEntity[]): void {
    const uow = this.em.getUnitOfWork();
    const stack = uow.getPersistStack();
    const map = uow.getIdentityMap();
    for (const entity of entities) {
      if (!this.rows.delete(entity)) continue;
      this.unschedule(entity, stack, map);
    }
  }

  /**
   * Takes the entity off the persist stack and, when it is not managed, out of the identity map
   * where `persist` stored it by its key — what `em.insertMany()` does to its input. Undone if the
   * call's transaction rolls back.
   */
  private unschedule(entity: AnyEntity, stack: Set<AnyEntity>, map: IdentityMap): void {
    if (!stack.delete(entity)) return;
    // Only `persist` files an unmanaged entity in the identity map, and it schedules it too.
    const wrapped = entityInternals(entity);
    const mapped = !wrapped.__managed && wrapped.hasPrimaryKey() && map.getByEntity(entity) === entity;
    if (mapped) map.delete(entity);
    this.undo.push(() => {
      stack.add(entity);
      if (mapped) map.store(entity);
    });
  }

  /** The entity's state in this call. */
  private state(entity: AnyEntity): RowState {
    const state = this.rows.get(entity);
    if (state) return state;
    const fresh: RowState = { initialized: false, existing: false, hooked: false };
    this.rows.set(entity, fresh);
    return fresh;
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
    const state = this.state(entity);
    if (state.initialized) return;
    state.initialized = true;
    for (const prop of initializedProps(this.metaOf(entity))) {
      // As `em.upsert()` (getOnCreateGeneratedFields): what onCreate made is not merged into a found row.
      if (this.initializeProperty(entity, prop) && !prop.embedded && !isToOne(prop)) {
        state.insertOnly ??= [];
        state.insertOnly.push(...prop.fieldNames);
      }
    }
  }

  /** EntityModel.insertOnly: the columns `onCreate` filled for the entity in this call. */
  insertOnly(entity: AnyEntity): readonly string[] | undefined {
    return this.state(entity).insertOnly;
  }

  /** Applies `onCreate` or the JS default to one property; true when `onCreate` made its value. */
  private initializeProperty(entity: AnyEntity, prop: EntityProperty<AnyEntity>): boolean {
    const target = entity as Record<string, unknown>;
    const value = target[prop.name];
    const empty = value == null || (Utils.isScalarReference(value) && (value as { unwrap(): unknown }).unwrap() == null);
    let created = false;
    if (prop.onCreate && empty) {
      target[prop.name] = prop.onCreate(entity, this.em);
      created = true;
    } else if (
      prop.default != null &&
      !isRaw(prop.default) &&
      prop.kind !== ReferenceKind.MANY_TO_ONE &&
      prop.kind !== ReferenceKind.ONE_TO_ONE &&
      value === undefined
    ) {
      target[prop.name] = prop.default;
    }
    const embedded = target[prop.name];
    if (prop.kind === ReferenceKind.EMBEDDED && embedded && prop.targetMeta) {
      const items = (prop.array ? embedded : [embedded]) as AnyEntity[];
      const children = initializedProps(prop.targetMeta as EntityMetadata<AnyEntity>);
      for (const item of items) for (const child of children) this.initializeProperty(item, child);
    }
    return created;
  }

  /**
   * The change set the hooks of this entity see (`args.changeSet`), made as flush makes it: for a
   * new entity its INSERT payload; for an updated one what the change tracker found (or, for a row an
   * upsert updated, the values it sent).
   */
  changeSetOf(entity: AnyEntity, type: ChangeSetType = ChangeSetType.CREATE): ChangeSet<AnyEntity> {
    const state = this.state(entity);
    let changeSet = state.changeSet;
    if (!changeSet || changeSet.type !== type) {
      changeSet = new ChangeSet(entity, type, this.currentPayload(entity, state), this.metaOf(entity));
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
    return this.currentPayload(entity, this.state(entity));
  }

  private currentPayload(entity: AnyEntity, state: RowState): EntityData<AnyEntity> {
    const landed = state.landed;
    if (landed) {
      state.landed = undefined;
      return landed;
    }
    try {
      return prepareEntity(this.em, entity);
    } catch (error) {
      if (error instanceof BulkWriteError) throw error;
      // A value flush cannot convert (a circular JSON object, a scalar for an array): the row is
      // refused by validation after its hooks, naming the property (EntityModel.prepare throws
      // again there). Its hooks see an empty payload meanwhile.
      return {};
    }
  }

  /** Records the change set the change tracker computed for an existing entity. */
  useChangeSet(entity: AnyEntity, changeSet: ChangeSet<AnyEntity>): void {
    this.state(entity).changeSet = changeSet;
  }

  /** The entity's `prepareEntity` as the change tracker last took it (undefined: not diffed yet). */
  baselineOf(entity: AnyEntity): EntityData<AnyEntity> | undefined {
    return this.state(entity).baseline;
  }

  /** Records what the change tracker took; `hooked`: after the before-update hooks. */
  setBaseline(entity: AnyEntity, data: EntityData<AnyEntity>, hooked: boolean): void {
    const state = this.state(entity);
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
    for (const entity of entities) this.state(entity).grouped = grouped;
  }

  /** The change tracker found the entity's row: it is updated, not inserted. */
  markExisting(entity: AnyEntity): void {
    this.state(entity).existing = true;
  }

  /**
   * EntityModel.prepare: flush's payload for the entity (after its before-hooks). For an update it
   * also carries the version the entity was read with, the one the UPDATE expects.
   */
  prepare(entity: AnyEntity): EntityData<AnyEntity> {
    const state = this.state(entity);
    if (state.existing) {
      const data = (state.hooked ? state.baseline : prepareEntity(this.em, entity)) as Record<string, unknown>;
      state.baseline = undefined;
      state.hooked = false;
      this.refuseRaw(entity, state, data);
      const version = this.metaOf(entity).versionProperty;
      if (version) data[version] = (entity as Record<string, unknown>)[version];
      state.sent = data as EntityData<AnyEntity>;
      return data as EntityData<AnyEntity>;
    }
    this.initialize(entity);
    const data = prepareEntity(this.em, entity);
    this.refuseRaw(entity, state, data as Record<string, unknown>);
    state.sent = data;
    if (state.changeSet) Object.assign(state.changeSet.payload, data);
    return data;
  }

  /**
   * Refuses a raw SQL fragment (`raw('n + 1')`) as a value. Flush splices each one into that row's
   * own statement; cohort's statement is one per batch, with values as parameters.
   */
  private refuseRaw(entity: AnyEntity, state: RowState, data: Record<string, unknown>): void {
    for (const property in data) {
      const value = data[property];
      if (typeof value !== 'object' || value === null || !isRaw(value)) continue;
      const entityName = this.metaOf(entity).className;
      const row = state.index === undefined ? '' : ` of row ${state.index}`;
      throw new UnsupportedFeatureError(
        'raw SQL value',
        `${entityName}.${property}${row} is a raw SQL fragment (${(value as { sql: string }).sql}); cohort sends values as ` +
          'parameters, one statement per batch, and does not evaluate SQL per row: set the value itself, or ' +
          '(bulkUpdate, bulkSave) give the column an `expressions` entry',
        { entityName, property, index: state.index, batch: state.batch, entity },
      );
    }
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
    const property = meta.primaryKeys.find((key) => key in payload);
    if (property === undefined) return;
    const state = this.state(entity);
    const row = state.index === undefined ? '' : ` of row ${state.index}`;
    throw new UnsupportedFeatureError(
      'primary key change',
      `${meta.className}.${property}${row} was changed on a managed entity (from ${String(snapshot[property])} to ` +
        `${String(payload[property])}); cohort updates rows by their primary key and does not rewrite it ` +
        '(flush would): change the key with em.flush() or a query',
      { entityName: meta.className, property, index: state.index, batch: state.batch, entity },
    );
  }

  /** ColumnModel.write: one RETURNING value of the entity's row. */
  returned(entity: AnyEntity, field: string, value: unknown): void {
    const state = this.state(entity);
    state.row ??= {};
    state.row[field] = value;
  }

  /**
   * EntityModel.finishInsert: hydrates the values the database generated (as flush maps its
   * RETURNING row), then marks the entity persisted and registers it in the identity map with
   * flush's snapshot, so a later flush sends nothing for it and a change becomes an UPDATE. A row an
   * upsert found gets every returned value, the stored key included, as `em.upsert()` hydrates it.
   */
  finishInsert(entity: AnyEntity, upserted?: 'inserted' | 'updated' | 'unchanged'): void {
    const meta = this.metaOf(entity);
    const wrapped = entityInternals(entity);
    const state = this.state(entity);
    const sent = (state.sent ?? {}) as Record<string, unknown>;
    const row = state.row ?? {};
    state.row = undefined;
    // Flush reads back only what it did not send: values the application set stay as they are.
    // A found row returns what it holds now, which is what the object must say.
    const found = upserted === 'updated' || upserted === 'unchanged';
    const generated: Record<string, unknown> = {};
    for (const prop of columnProps(meta)) {
      if (!found && sent[prop.name] !== undefined && !prop.version) continue;
      for (const field of prop.fieldNames) if (field in row) generated[field] = row[field];
    }
    const em = this.em;
    const mapped = mapResult(em, meta, generated);
    hydrateReturned(em, entity, meta, mapped);
    syncIdentifier(entity);
    wrapped.__schema = this.schema;
    wrapped.__initialized = true;
    const changeSet = state.changeSet;
    if (changeSet) {
      Object.assign(changeSet.payload, mapped);
      changeSet.persisted = true;
    }
    if (state.sent && !changeSet) {
      // No change set before the write (an upsert, or no before-hook): the after-hooks' one starts
      // from what was sent, as flush's own payload would.
      Object.assign(state.sent, mapped);
      state.landed = { ...state.sent };
    }
    if (em.config.get('populateAfterFlush')) wrapped.populated();
    if (!this.managed) return;
    // Flush's snapshot of a new entity is its payload with the returned values mapped in (a full
    // snapshot for TPT, whose payloads are per table).
    const payload = changeSet?.payload ?? state.sent;
    this.register(entity, meta.inheritanceType === 'tpt' ? undefined : payload);
  }

  /**
   * ChangeTracker.updated: hydrates what the UPDATE returned (version, expression results), then
   * refreshes the snapshot as flush does after an update — an entity that was not managed becomes
   * managed, as if it had been loaded — so a later flush sends nothing for it.
   */
  finishUpdate(entity: AnyEntity): void {
    const meta = this.metaOf(entity);
    const wrapped = entityInternals(entity);
    const state = this.state(entity);
    const row = state.row;
    const sent = state.sent;
    state.row = undefined;
    state.sent = undefined;
    const em = this.em;
    const target = entity as Record<string, unknown>;
    let previous: Record<string, unknown> | undefined;
    let mapped: Record<string, unknown> | undefined;
    if (row && Object.keys(row).length > 0) {
      mapped = mapResult(em, meta, row);
      previous = Object.fromEntries(Object.keys(mapped).map((key) => [key, target[key]]));
      hydrateReturned(em, entity, meta, mapped);
    }
    const changeSet = state.changeSet;
    if (changeSet?.type === ChangeSetType.UPDATE && (mapped || state.grouped)) {
      // Flush merges its RETURNING row into the payload: the new version (and values it returns),
      // and, for a group of updates, the key of every row.
      if (state.grouped) {
        const prepared = prepareEntity(em, entity) as Record<string, unknown>;
        const payload = changeSetPayload(changeSet);
        for (const key of meta.primaryKeys) payload[key] = prepared[key];
      }
      if (mapped) Object.assign(changeSet.payload, mapped);
      changeSet.persisted = true;
    }
    const snapshot = wrapped.__originalEntityData;
    const managed = wrapped.__managed && snapshot !== undefined;
    this.undo.push(() => {
      if (previous) Object.assign(target, previous);
      if (managed) wrapped.__originalEntityData = snapshot;
    });
    // With nothing returned the entity is as its UPDATE was built from it: that payload is the snapshot.
    const current = previous === undefined && sent !== undefined && !meta.versionProperty ? sent : undefined;
    if (managed) {
      wrapped.__originalEntityData = current ?? prepareEntity(em, entity);
    } else if (this.managed) {
      wrapped.__schema = this.schema;
      wrapped.__initialized = true;
      this.register(entity, current);
    }
  }

  /** Registers the entity in the unit of work with flush's snapshot of it (`data`, or taken now). */
  private register(entity: AnyEntity, data?: EntityData<AnyEntity>): void {
    const uow = this.em.getUnitOfWork();
    registerManaged(this.em, entity, data ?? prepareEntity(this.em, entity), { refresh: true });
    this.undo.push(() => {
      uow.unsetIdentity(entity);
      const wrapped = entityInternals(entity);
      wrapped.__managed = false;
      setOriginalEntityData(entity, undefined);
      wrapped.__em = undefined;
    });
  }

  /** A point to roll registrations back to (the start of a transaction). */
  mark(): number {
    return this.undo.length;
  }

  /**
   * After a rolled-back transaction: the entities it registered leave the identity map again, and
   * the ones it updated get back their snapshot and the values the UPDATE returned onto them.
   */
  forgetSince(mark: number): void {
    for (const step of this.undo.splice(mark).reverse()) step();
  }
}
