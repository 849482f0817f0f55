import {
  ChangeSet,
  ChangeSetType,
  type EntityData,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  isRaw,
  ReferenceKind,
  Utils,
  wrap,
} from '@mikro-orm/core';

type AnyEntity = object;

// The engine's model is cached per entity class (its table catalog is read once per model), while
// the EntityManager and options belong to one call: each input entity is tagged with its call.
const contexts = new WeakMap<AnyEntity, MikroOrmInsertContext>();

/** The call an entity is being inserted by. */
export function insertContextOf(entity: AnyEntity): MikroOrmInsertContext {
  const context = contexts.get(entity);
  if (!context) throw new Error(`cohort: ${entity.constructor.name} entity is not part of a running bulkInsert`);
  return context;
}

/**
 * The state of one bulkInsert call on an EntityManager: applies `onCreate`/defaults, snapshots each
 * entity as flush's payload, hydrates returned values and registers the inserted entities in the
 * unit of work exactly as flush does.
 */
export class MikroOrmInsertContext {
  private readonly initialized = new WeakSet<AnyEntity>();
  private readonly changeSets = new WeakMap<AnyEntity, ChangeSet<AnyEntity>>();
  private readonly sent = new WeakMap<AnyEntity, EntityData<AnyEntity>>();
  private readonly rows = new WeakMap<AnyEntity, Record<string, unknown>>();
  private readonly registered: AnyEntity[] = [];

  constructor(
    /** The EntityManager the call runs on (in the transaction while the call runs). */
    readonly em: EntityManager,
    private readonly schema: string | undefined,
    private readonly managed: boolean,
  ) {}

  /** Tags an input entity as belonging to this call. */
  adopt<E extends object>(entity: E): E {
    contexts.set(entity, this);
    return entity;
  }

  metaOf(entity: AnyEntity): EntityMetadata<AnyEntity> {
    return wrap(entity, true).__meta as EntityMetadata<AnyEntity>;
  }

  /**
   * `onCreate` for null/undefined values, else the JS `default` for undefined ones, recursing into
   * embeddables: what flush's ChangeSetComputer does for a new entity before any hook runs.
   */
  initialize(entity: AnyEntity): void {
    if (this.initialized.has(entity)) return;
    this.initialized.add(entity);
    for (const prop of this.metaOf(entity).hydrateProps) this.initializeProperty(entity, prop);
  }

  private initializeProperty(entity: AnyEntity, prop: EntityProperty<AnyEntity>): void {
    const target = entity as Record<string, unknown>;
    const value = target[prop.name];
    const empty = value == null || (Utils.isScalarReference(value) && (value as { unwrap(): unknown }).unwrap() == null);
    if (prop.onCreate && empty) {
      target[prop.name] = prop.onCreate(entity, this.em);
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
      for (const item of items) {
        for (const child of prop.targetMeta.hydrateProps) this.initializeProperty(item, child as EntityProperty<AnyEntity>);
      }
    }
  }

  /** The change set the hooks of this entity see (`args.changeSet`), made as flush makes it. */
  changeSetOf(entity: AnyEntity): ChangeSet<AnyEntity> {
    let changeSet = this.changeSets.get(entity);
    if (!changeSet) {
      const payload = this.em.getComparator().prepareEntity(entity);
      changeSet = new ChangeSet(entity, ChangeSetType.CREATE, payload, this.metaOf(entity));
      this.changeSets.set(entity, changeSet);
    }
    return changeSet;
  }

  /** EntityModel.prepare: flush's INSERT payload for the entity (after its before-hooks). */
  prepare(entity: AnyEntity): EntityData<AnyEntity> {
    this.initialize(entity);
    const data = this.em.getComparator().prepareEntity(entity);
    this.sent.set(entity, data);
    const changeSet = this.changeSets.get(entity);
    if (changeSet) Object.assign(changeSet.payload, data);
    return data;
  }

  /** ColumnModel.write: one RETURNING value of the entity's row. */
  returned(entity: AnyEntity, field: string, value: unknown): void {
    let row = this.rows.get(entity);
    if (!row) {
      row = {};
      this.rows.set(entity, row);
    }
    row[field] = value;
  }

  /**
   * EntityModel.finishInsert: hydrates the values the database generated (as flush maps its
   * RETURNING row), then marks the entity persisted and registers it in the identity map with
   * flush's snapshot, so a later flush sends nothing for it and a change becomes an UPDATE.
   */
  finishInsert(entity: AnyEntity): void {
    const meta = this.metaOf(entity);
    const wrapped = wrap(entity, true);
    const sent = (this.sent.get(entity) ?? {}) as Record<string, unknown>;
    const row = this.rows.get(entity) ?? {};
    this.rows.delete(entity);
    // Flush reads back only what it did not send: values the application set stay as they are.
    const generated: Record<string, unknown> = {};
    for (const prop of meta.props) {
      if (!prop.fieldNames || (sent[prop.name] !== undefined && !prop.version)) continue;
      for (const field of prop.fieldNames) if (field in row) generated[field] = row[field];
    }
    const em = this.em;
    const mapped = em.getComparator().mapResult(meta, generated as never);
    em.getHydrator().hydrate(entity, meta, mapped, em.getEntityFactory(), 'full', false, true);
    const identifier = wrapped.__identifier;
    if (identifier && !Array.isArray(identifier)) identifier.setValue(wrapped.getPrimaryKey() as never);
    wrapped.__schema = this.schema;
    wrapped.__initialized = true;
    const changeSet = this.changeSets.get(entity);
    if (changeSet) {
      Object.assign(changeSet.payload, mapped);
      changeSet.persisted = true;
    }
    if (em.config.get('populateAfterFlush')) wrapped.populated();
    if (!this.managed) return;
    em.getUnitOfWork().register(entity, em.getComparator().prepareEntity(entity), { refresh: true });
    this.registered.push(entity);
  }

  /** A point to roll registrations back to (the start of a transaction). */
  mark(): number {
    return this.registered.length;
  }

  /** After a rolled-back transaction: the entities it registered leave the identity map again. */
  forgetSince(mark: number): void {
    const uow = this.em.getUnitOfWork();
    for (const entity of this.registered.splice(mark)) {
      uow.unsetIdentity(entity);
      const wrapped = wrap(entity, true);
      wrapped.__managed = false;
      wrapped.__originalEntityData = undefined;
      wrapped.__em = undefined;
    }
  }
}
