/**
 * Every MikroORM API the adapter uses that MikroORM marks `@internal` or keeps private, each behind
 * a small typed signature: what a MikroORM upgrade must be checked against is in this file. Each
 * entry names the releases it was checked on (@mikro-orm/core 7.2.1 and 6.6.16; pg-pool and pg for
 * the pool's private fields, knex for MikroORM 6's transaction). Where the majors differ, the entry
 * gives a path per major, chosen by feature where one shows it and else by `mikroOrmMajor`.
 */
import { UnsupportedFeatureError } from '@cohort/core';
import * as mikroOrmCore from '@mikro-orm/core';
import {
  type ChangeSet,
  type Collection,
  type EntityCtor,
  type EntityData,
  type EntityDictionary,
  type EntityManager,
  type EntityMetadata,
  type EntityName,
  type EntityProperty,
  type FilterQuery,
  helper,
  type IPrimaryKey,
  type Primary,
  RawQueryFragment,
  type RegisterOptions,
  type SessionContext,
  type Transaction,
  TransactionEventBroadcaster,
  Utils,
} from '@mikro-orm/core';

// ---------------------------------------------------------------------------------------------
// The major.

/** The installed MikroORM's major: 6 or 7 (`Utils.getORMVersion()`, public on both). */
export const mikroOrmMajor: number = Number(Utils.getORMVersion().split('.')[0]);

/**
 * How the comparator, driver and factory APIs below name an entity: MikroORM 7 takes its class,
 * 6 its class name (the metadata storage's key there; checked on 6.6.16).
 */
function entityNameOf<E extends object>(meta: EntityMetadata<E>): EntityMetadata<E>['class'] {
  return mikroOrmMajor >= 7 ? meta.class : (meta.className as unknown as EntityMetadata<E>['class']);
}

/** A snapshot, diff or payload: property name → value. */
export type EntityValues = Record<string, unknown>;

/**
 * The part of an entity's wrapper (`helper(entity)`, `wrap(entity, true)`; MikroORM's @internal
 * `IWrappedEntityInternal`) the adapter reads and writes. Checked on MikroORM 7.2.1 and 6.6.16.
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

/** `helper(entity)`: the entity's wrapper with its internal state. Checked on MikroORM 7.2.1 and 6.6.16. */
export function entityInternals<E extends object>(entity: E): EntityInternals<E> {
  return helper(entity);
}

/** The entity's identity-map snapshot (`__originalEntityData`) as plain values. Checked on MikroORM 7.2.1 and 6.6.16. */
export function originalEntityData(entity: object): EntityValues | undefined {
  return helper(entity).__originalEntityData;
}

/** Sets (or clears) the entity's identity-map snapshot (`__originalEntityData`). Checked on MikroORM 7.2.1 and 6.6.16. */
export function setOriginalEntityData(entity: object, data: EntityValues | undefined): void {
  helper(entity).__originalEntityData = data;
}

/**
 * The metadata a discovered class carries on its prototype (`entity.__meta`, what `helper()` reads
 * too); undefined for an object that is no entity. Checked on MikroORM 7.2.1 and 6.6.16.
 */
export function prototypeMeta(entity: object): EntityMetadata<object> | undefined {
  return (entity as { readonly __meta?: EntityMetadata<object> }).__meta;
}

/**
 * The metadata of a many-to-many's pivot entity (`prop.pivotEntity` of the owning side). 7 gives its
 * class, whose prototype carries it (`__meta`; 7.2.1). 6 gives its class name, found in the metadata
 * storage of the EntityFactory that discovery puts on every entity's prototype (`__factory`, its
 * private `metadata`; 6.6.16).
 */
export function pivotEntityMeta(prop: EntityProperty<object>): EntityMetadata<object> | undefined {
  const pivot = prop.pivotEntity as unknown;
  if (mikroOrmMajor >= 7) return typeof pivot === 'function' ? prototypeMeta(pivot.prototype as object) : undefined;
  if (typeof pivot !== 'string') return undefined;
  const prototype = prop.targetMeta?.prototype as
    | { readonly __factory?: { readonly metadata?: { find(name: string): EntityMetadata<object> | undefined } } }
    | undefined;
  return prototype?.__factory?.metadata?.find(pivot);
}

/**
 * Sets the entity's identifier (`__identifier`, which references made before it had a key point at)
 * to its primary key, as flush does after an INSERT; a composite key has none. The @internal
 * `EntityIdentifier.setValue` takes any primary key value. Checked on MikroORM 7.2.1 and 6.6.16.
 */
export function syncIdentifier(entity: object): void {
  const wrapped = helper(entity);
  const identifier = wrapped.__identifier;
  if (identifier && !Array.isArray(identifier)) identifier.setValue(wrapped.getPrimaryKey() as IPrimaryKey);
}

/**
 * The entity the identity map holds in `entity`'s slot (its class root, schema and key), if any:
 * `getByEntity()` on 7 (7.2.1); on 6 (6.6.16), which lacks it, `getByHash()` with the private
 * `getPkHash()` that `store()` and `delete()` use.
 */
export function identityMapEntry(em: EntityManager, entity: object): object | undefined {
  const map = em.getUnitOfWork().getIdentityMap() as unknown as {
    getByEntity?(entity: object): object | undefined;
    getByHash(meta: EntityMetadata<object>, hash: string): object | undefined;
    getPkHash(entity: object): string;
  };
  if (map.getByEntity) return map.getByEntity(entity);
  return map.getByHash(helper(entity).__meta.root, map.getPkHash(entity));
}

/** The identity map's entities of a root class (`getStore`). Checked on MikroORM 7.2.1 and 6.6.16. */
export function identityMapStore(em: EntityManager, meta: EntityMetadata<object>): ReadonlyMap<string, object> {
  const map = em.getUnitOfWork().getIdentityMap() as unknown as { getStore(meta: EntityMetadata<object>): Map<string, object> };
  return map.getStore(meta);
}

/**
 * `em.getComparator().prepareEntity(entity)` (the @internal EntityComparator): flush's snapshot of
 * the entity, references as keys, custom types converted. Checked on MikroORM 7.2.1 and 6.6.16.
 */
export function comparatorSnapshot(em: EntityManager, entity: object): EntityValues {
  return em.getComparator().prepareEntity(entity);
}

/**
 * `em.getComparator().diffEntities(class, a, b)` (the class name on 6): the properties of `b` that
 * differ from `a`, with `b`'s values — flush's change set payload. Checked on MikroORM 7.2.1 and
 * 6.6.16.
 */
export function diffSnapshots(em: EntityManager, meta: EntityMetadata<object>, a: EntityValues, b: EntityValues): EntityValues {
  return em.getComparator().diffEntities<object>(entityNameOf(meta), a, b);
}

/**
 * `em.getComparator().mapResult(meta, row)` (the class name on 6): a database row (by column)
 * mapped to properties, as flush maps its RETURNING row. Checked on MikroORM 7.2.1 and 6.6.16.
 */
export function mapResult(em: EntityManager, meta: EntityMetadata<object>, row: EntityValues): EntityValues {
  const entity = mikroOrmMajor >= 7 ? meta : (meta.className as unknown as EntityMetadata<object>);
  return em.getComparator().mapResult<object>(entity, row as EntityDictionary<object>);
}

/**
 * `hydrator.hydrate(entity, meta, data, factory, 'full', newEntity = false, convertCustomTypes =
 * true)`: mapped values (from `mapResult`) set on the entity as flush hydrates a returned row.
 * Checked on MikroORM 7.2.1 and 6.6.16 (positional arguments).
 */
export function hydrateReturned(em: EntityManager, entity: object, meta: EntityMetadata<object>, data: EntityValues): void {
  em.getHydrator().hydrate(entity, meta, data, em.getEntityFactory(), 'full', false, true);
}

/**
 * `uow.register(entity, data, options)` (@internal): the entity managed, in the identity map, with
 * `data` as its snapshot. Checked on MikroORM 7.2.1 and 6.6.16.
 */
export function registerManaged(em: EntityManager, entity: object, data: EntityValues, options: RegisterOptions): void {
  em.getUnitOfWork().register(entity, data, options);
}

/**
 * `changeSet.payload` as plain values, to merge into as flush does (returned values, the key of a
 * grouped update). Checked on MikroORM 7.2.1 and 6.6.16.
 */
export function changeSetPayload(changeSet: ChangeSet<object>): EntityValues {
  return changeSet.payload;
}

// ---------------------------------------------------------------------------------------------
// Transactions: MikroORM 7 runs them on kysely, 6 on knex.

/**
 * `em.getTransactionSessionContext()` (@internal): the session context a transaction MikroORM opens
 * applies on `begin()`, to pass to `connection.transactional()`. Checked on MikroORM 7.2.1; 6.6.16
 * has no session context (undefined).
 */
export function transactionSessionContext(em: EntityManager): SessionContext | undefined {
  const manager = em as { getTransactionSessionContext?(): SessionContext | undefined };
  return manager.getTransactionSessionContext?.();
}

/**
 * The TransactionEventBroadcaster flush gives the transactions it opens: `new
 * TransactionEventBroadcaster(em)` on 7 (7.2.1); on 6 (6.6.16) it also takes the unit of work, which
 * the events' `args.uow` carry.
 */
export function transactionEventBroadcaster(em: EntityManager): TransactionEventBroadcaster {
  if (mikroOrmMajor >= 7) return new TransactionEventBroadcaster(em);
  const WithUnitOfWork = TransactionEventBroadcaster as unknown as new (
    em: EntityManager,
    uow: ReturnType<EntityManager['getUnitOfWork']>,
  ) => TransactionEventBroadcaster;
  return new WithUnitOfWork(em, em.getUnitOfWork());
}

/** Statements on a MikroORM transaction's own connection, with bind parameters (`$1`…). */
export interface TransactionStatements {
  query<R>(sql: string, params: readonly unknown[]): Promise<R[]>;
  /**
   * The node-postgres client the transaction runs on, where the transaction object holds it:
   * MikroORM 6's knex transaction. Undefined on 7, whose kysely transaction keeps it private.
   */
  ownClient(): Promise<PooledPgClient | undefined>;
}

/** The part of a kysely Transaction the adapter runs statements on (MikroORM 7). */
interface KyselyExecutor {
  executeQuery<R>(query: { readonly sql: string; readonly parameters: readonly unknown[] }): Promise<{ rows: R[] }>;
}

/** The part of a knex transaction the adapter uses (MikroORM 6; knex 3.2.10). */
interface KnexTransaction {
  (...args: never[]): unknown;
  readonly isTransaction: true;
  isCompleted(): boolean;
  /** The transaction's client: `acquireConnection()` resolves to its one connection. */
  readonly client: { acquireConnection(): Promise<unknown> };
}

const isKysely = (trx: object): trx is KyselyExecutor => typeof (trx as Partial<KyselyExecutor>).executeQuery === 'function';
const isKnex = (trx: object): trx is KnexTransaction =>
  typeof trx === 'function' &&
  (trx as Partial<KnexTransaction>).isTransaction === true &&
  typeof (trx as Partial<KnexTransaction>).client?.acquireConnection === 'function';

// kysely is MikroORM 7's (an optional peer of this package): loaded only when a kysely transaction runs.
let compiledQuery: Promise<typeof import('kysely').CompiledQuery> | undefined;

/**
 * Statements on MikroORM's transaction context on PostgreSQL, by its kind:
 * - 7 (checked on 7.2.1 with kysely 0.29): a kysely Transaction (what `em.getKysely()` returns
 *   inside a transaction), given `CompiledQuery.raw(sql, params)`, kysely's public API for a text
 *   with parameters.
 * - 6 (checked on 6.6.16 with knex 3.2.10): a knex transaction, whose client is bound to the
 *   transaction's one node-postgres connection (`client.acquireConnection()` resolves to it, and
 *   knex refuses a query on any other): the statement goes to that client as knex's own pg dialect
 *   sends it (`{ text, values }`), since knex's `raw()` would rewrite `?` in the text.
 */
export function transactionStatements(trx: Transaction): TransactionStatements {
  const handle = trx as object;
  if (isKysely(handle)) {
    return {
      async query<R>(sql: string, params: readonly unknown[]) {
        compiledQuery ??= import('kysely').then((kysely) => kysely.CompiledQuery);
        const { rows } = await handle.executeQuery<R>((await compiledQuery).raw(sql, [...params]));
        return rows;
      },
      ownClient: async () => undefined,
    };
  }
  if (isKnex(handle)) {
    const client = async () => {
      // As knex does for its own queries on a finished transaction.
      if (handle.isCompleted()) throw new Error('cohort: the MikroORM transaction has already completed');
      return (await handle.client.acquireConnection()) as PooledPgClient;
    };
    return {
      async query<R>(sql: string, params: readonly unknown[]) {
        const result = (await (await client()).query({ text: sql, values: [...params] })) as { rows: R[] };
        return result.rows;
      },
      ownClient: client,
    };
  }
  throw new UnsupportedFeatureError(
    'MikroORM transaction context',
    'cohort runs its statements on a MikroORM transaction of kysely (MikroORM 7) or knex (MikroORM 6); this transaction context is neither',
  );
}

/**
 * The write connection's node-postgres pool (`connection.getNativeClient()`, MikroORM 7.2.1), where
 * `poolClients` finds the transaction's client. Undefined on 6, whose connections live in knex's pool
 * (which also drops a connection knex saw fail, on its own).
 */
export async function writePool(em: EntityManager): Promise<unknown> {
  const connection = em.getConnection('write') as { getNativeClient?(): Promise<unknown> };
  return connection.getNativeClient?.();
}

/**
 * A raw SQL fragment (`raw()`, `sql```): `isRaw()` on 7 (which also knows fragments of another copy
 * of MikroORM), an instance of RawQueryFragment on 6 (6.6.16 exports no `isRaw`).
 */
export function isRawFragment(value: unknown): boolean {
  const isRaw = (mikroOrmCore as { readonly isRaw?: (value: unknown) => boolean }).isRaw;
  return isRaw ? isRaw(value) : value instanceof RawQueryFragment;
}

/**
 * How the EventManager keys an entity a subscriber lists (`getSubscribedEntities()`): by class, or
 * name for a name, on 7 (`Utils.classOrName`, 7.2.1); by class name on 6 (`Utils.className`, 6.6.16).
 */
export function subscribedEntityKey(entity: EntityName<object>): EntityCtor<object> | string {
  if (mikroOrmMajor >= 7) return Utils.classOrName<object>(entity);
  return (Utils as unknown as { className(entity: EntityName<object>): string }).className(entity);
}

// ---------------------------------------------------------------------------------------------
// Reads on the transaction.

/**
 * The entity built from a found row in `em` (a scratch EntityManager), with the @internal
 * EntityFactory options a load uses: merged into its identity map and refreshed, custom types
 * converted, in `schema`. Checked on MikroORM 7.2.1 and 6.6.16.
 */
export function createLoaded<E extends object>(
  em: EntityManager,
  meta: EntityMetadata<E>,
  row: EntityData<E>,
  schema: string | undefined,
): E {
  return em
    .getEntityFactory()
    .create<E>(entityNameOf(meta), row, { merge: true, refresh: true, schema, convertCustomTypes: true });
}

/**
 * `driver.find(class, where, { ctx, schema, em })` (the class name on 6): rows found on the
 * transaction `ctx`, without `em.find()`'s filters, events and identity map; `em` (@internal
 * option) is the scratch EntityManager the driver resolves relations with. Checked on MikroORM
 * 7.2.1 and 6.6.16.
 */
export function findRows<E extends object>(
  em: EntityManager,
  meta: EntityMetadata<E>,
  where: EntityValues,
  options: { ctx: Transaction; schema: string | undefined; em: EntityManager },
): Promise<EntityData<E>[]> {
  return em.getDriver().find<E>(entityNameOf(meta), where as FilterQuery<E>, options);
}

/** The collection state the relation finder reads; `getSnapshot()` is @internal. Checked on MikroORM 7.2.1 and 6.6.16. */
export interface CollectionState {
  isDirty(): boolean;
  /** The items without the initialization check. */
  getItems(check: false): unknown[];
  /** The items when it was loaded or last flushed; undefined when replaced before it was loaded. */
  getSnapshot(): unknown[] | undefined;
  isInitialized(): boolean;
  /** Whether it holds the item (a set lookup), without the initialization check. */
  contains(item: object, check: false): boolean;
  /** Marks the collection clean, its items as its snapshot (what flush does after writing it). */
  takeSnapshot(): void;
  /** Adds or removes an item without touching the other side (@internal), marking the collection dirty. */
  addWithoutPropagation(item: unknown): void;
  removeWithoutPropagation(item: unknown): void;
  setDirty(dirty?: boolean): void;
}

/** A collection's state for the relation finder. Checked on MikroORM 7.2.1 and 6.6.16. */
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
