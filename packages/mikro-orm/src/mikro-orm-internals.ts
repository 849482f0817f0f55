/**
 * Every MikroORM API the adapter uses that MikroORM marks `@internal` or keeps private, each behind
 * a small typed signature: what a MikroORM upgrade must be checked against is in this file. Each
 * entry names the release it was checked on (the installed @mikro-orm/core; pg-pool and pg for the
 * pool's private fields).
 */
import {
  type ChangeSet,
  type Collection,
  type EntityData,
  type EntityDictionary,
  type EntityManager,
  type EntityMetadata,
  type FilterQuery,
  helper,
  type IPrimaryKey,
  type Primary,
  type RegisterOptions,
  type SessionContext,
  type Transaction,
} from '@mikro-orm/core';

/** A snapshot, diff or payload: property name → value. */
export type EntityValues = Record<string, unknown>;

/**
 * The part of an entity's wrapper (`helper(entity)`, `wrap(entity, true)`; MikroORM's @internal
 * `IWrappedEntityInternal`) the adapter reads and writes. Checked on MikroORM 7.2.1.
 */
export interface EntityInternals<E extends object = object> {
  readonly __meta: EntityMetadata<E>;
  __managed: boolean;
  __initialized: boolean;
  __schema?: string;
  __em?: EntityManager;
  /** Flush's snapshot of the entity when it was last loaded or flushed (managed entities only). */
  __originalEntityData?: EntityData<E>;
  hasPrimaryKey(): boolean;
  getPrimaryKey(convertCustomTypes?: boolean): Primary<E> | null;
  /** The primary key's values, as flush writes them to a pivot table with `true`. */
  getPrimaryKeys(convertCustomTypes?: boolean): unknown[] | null;
  getSerializedPrimaryKey(): string;
  populated(populated?: boolean): void;
}

/** `helper(entity)`: the entity's wrapper with its internal state. Checked on MikroORM 7.2.1. */
export function entityInternals<E extends object>(entity: E): EntityInternals<E> {
  return helper(entity);
}

/** The entity's identity-map snapshot (`__originalEntityData`) as plain values. Checked on MikroORM 7.2.1. */
export function originalEntityData(entity: object): EntityValues | undefined {
  return helper(entity).__originalEntityData;
}

/** Sets (or clears) the entity's identity-map snapshot (`__originalEntityData`). Checked on MikroORM 7.2.1. */
export function setOriginalEntityData(entity: object, data: EntityValues | undefined): void {
  helper(entity).__originalEntityData = data;
}

/**
 * The metadata a discovered class carries on its prototype (`entity.__meta`, what `helper()` reads
 * too); undefined for an object that is no entity. Checked on MikroORM 7.2.1.
 */
export function prototypeMeta(entity: object): EntityMetadata<object> | undefined {
  return (entity as { readonly __meta?: EntityMetadata<object> }).__meta;
}

/**
 * Sets the entity's identifier (`__identifier`, which references made before it had a key point at)
 * to its primary key, as flush does after an INSERT; a composite key has none. The @internal
 * `EntityIdentifier.setValue` takes any primary key value. Checked on MikroORM 7.2.1.
 */
export function syncIdentifier(entity: object): void {
  const wrapped = helper(entity);
  const identifier = wrapped.__identifier;
  if (identifier && !Array.isArray(identifier)) identifier.setValue(wrapped.getPrimaryKey() as IPrimaryKey);
}

/**
 * `em.getComparator().prepareEntity(entity)` (the @internal EntityComparator): flush's snapshot of
 * the entity, references as keys, custom types converted. Checked on MikroORM 7.2.1.
 */
export function comparatorSnapshot(em: EntityManager, entity: object): EntityValues {
  return em.getComparator().prepareEntity(entity);
}

/**
 * `em.getComparator().diffEntities(class, a, b)`: the properties of `b` that differ from `a`, with
 * `b`'s values — flush's change set payload. Checked on MikroORM 7.2.1.
 */
export function diffSnapshots(em: EntityManager, meta: EntityMetadata<object>, a: EntityValues, b: EntityValues): EntityValues {
  return em.getComparator().diffEntities<object>(meta.class, a, b);
}

/**
 * `em.getComparator().mapResult(meta, row)`: a database row (by column) mapped to properties, as
 * flush maps its RETURNING row. Checked on MikroORM 7.2.1.
 */
export function mapResult(em: EntityManager, meta: EntityMetadata<object>, row: EntityValues): EntityValues {
  return em.getComparator().mapResult<object>(meta, row as EntityDictionary<object>);
}

/**
 * `hydrator.hydrate(entity, meta, data, factory, 'full', newEntity = false, convertCustomTypes =
 * true)`: mapped values (from `mapResult`) set on the entity as flush hydrates a returned row.
 * Checked on MikroORM 7.2.1 (positional arguments).
 */
export function hydrateReturned(em: EntityManager, entity: object, meta: EntityMetadata<object>, data: EntityValues): void {
  em.getHydrator().hydrate(entity, meta, data, em.getEntityFactory(), 'full', false, true);
}

/**
 * `uow.register(entity, data, options)` (@internal): the entity managed, in the identity map, with
 * `data` as its snapshot. Checked on MikroORM 7.2.1.
 */
export function registerManaged(em: EntityManager, entity: object, data: EntityValues, options: RegisterOptions): void {
  em.getUnitOfWork().register(entity, data, options);
}

/**
 * `changeSet.payload` as plain values, to merge into as flush does (returned values, the key of a
 * grouped update). Checked on MikroORM 7.2.1.
 */
export function changeSetPayload(changeSet: ChangeSet<object>): EntityValues {
  return changeSet.payload;
}

/**
 * `em.getTransactionSessionContext()` (@internal): the session context a transaction MikroORM opens
 * applies on `begin()`, to pass to `connection.transactional()`. Checked on MikroORM 7.2.1.
 */
export function transactionSessionContext(em: EntityManager): SessionContext | undefined {
  return em.getTransactionSessionContext();
}

/** The part of a kysely Transaction the adapter runs statements on. */
export interface KyselyExecutor {
  executeQuery<R>(query: { readonly sql: string; readonly parameters: readonly unknown[] }): Promise<{ rows: R[] }>;
}

/**
 * MikroORM's transaction context on PostgreSQL: the kysely Transaction (what `em.getKysely()`
 * returns inside a transaction; the context itself is typed as opaque). Checked on MikroORM 7.2.1
 * with kysely 0.29.
 */
export function kyselyTransaction(trx: Transaction): KyselyExecutor {
  return trx;
}

/**
 * The entity built from a found row in `em` (a scratch EntityManager), with the @internal
 * EntityFactory options a load uses: merged into its identity map and refreshed, custom types
 * converted, in `schema`. Checked on MikroORM 7.2.1.
 */
export function createLoaded<E extends object>(
  em: EntityManager,
  meta: EntityMetadata<E>,
  row: EntityData<E>,
  schema: string | undefined,
): E {
  return em.getEntityFactory().create<E>(meta.class, row, { merge: true, refresh: true, schema, convertCustomTypes: true });
}

/**
 * `driver.find(class, where, { ctx, schema, em })`: rows found on the transaction `ctx`, without
 * `em.find()`'s filters, events and identity map; `em` (@internal option) is the scratch
 * EntityManager the driver resolves relations with. Checked on MikroORM 7.2.1.
 */
export function findRows<E extends object>(
  em: EntityManager,
  meta: EntityMetadata<E>,
  where: EntityValues,
  options: { ctx: Transaction; schema: string | undefined; em: EntityManager },
): Promise<EntityData<E>[]> {
  return em.getDriver().find<E>(meta.class, where as FilterQuery<E>, options);
}

/** The collection state the relation finder reads; `getSnapshot()` is @internal. Checked on MikroORM 7.2.1. */
export interface CollectionState {
  isDirty(): boolean;
  /** The items without the initialization check. */
  getItems(check: false): unknown[];
  /** The items when it was loaded or last flushed; undefined when replaced before it was loaded. */
  getSnapshot(): unknown[] | undefined;
  isInitialized(): boolean;
  /** Marks the collection clean, its items as its snapshot (what flush does after writing it). */
  takeSnapshot(): void;
  /** Adds or removes an item without touching the other side (@internal), marking the collection dirty. */
  addWithoutPropagation(item: unknown): void;
  removeWithoutPropagation(item: unknown): void;
  setDirty(dirty?: boolean): void;
}

/** A collection's state for the relation finder. Checked on MikroORM 7.2.1. */
export function collectionState(collection: Collection<object>): CollectionState {
  return collection;
}

/** The part of a pooled node-postgres client the adapter reads (`_queryable` is private). */
export interface PooledPgClient {
  readonly processID?: number | null;
  /** False once the connection is lost (private in pg 8.23). */
  readonly _queryable?: boolean;
  /** A text with parameters, or a submittable (a COPY stream). */
  query(query: unknown, params?: unknown[]): unknown;
  /** Given back to the pool; with an error, the pool drops it. Throws on a second release. */
  release?(error?: Error): void;
}

/**
 * The private client lists of a node-postgres pool (`_clients`, `_idle`; MikroORM's
 * `getNativeClient()` on PostgreSQL): every client it holds, and the idle ones. Undefined for
 * anything else. Checked on pg-pool 3.14 with pg 8.23.
 */
export function poolClients(pool: unknown): { clients: PooledPgClient[]; idle: Set<unknown> } | undefined {
  if (typeof pool !== 'object' || pool === null || !('_clients' in pool) || !Array.isArray(pool._clients)) return undefined;
  const idle: { client?: unknown }[] = '_idle' in pool && Array.isArray(pool._idle) ? pool._idle : [];
  return { clients: pool._clients, idle: new Set(idle.map((item) => item.client)) };
}
