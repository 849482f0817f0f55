import { type BulkEvent, type BulkSubscriber } from '@cohort/core';
import {
  bulkEventOf,
  bulkSubscriberMethod,
  type HookBatch,
  type LifecycleHooks,
  type RowChange,
  runForBatch,
  runForEach,
  type UpdateHookBatch,
} from '@cohort/core/adapter';
import {
  ChangeSet,
  ChangeSetType,
  type EntityCtor,
  type EntityManager,
  type EntityMetadata,
  type EventArgs,
  EventManager,
  type EventSubscriber,
  EventType,
} from '@mikro-orm/core';
import { subscribedEntityKey } from './mikro-orm-internals.js';
import { isTreeUpdate } from './mikro-orm-self-references.js';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';

/**
 * A MikroORM batch event: what batch methods of subscribers (`afterBulkInsert`…) receive. `em` is
 * the EntityManager of the running transaction (the same as `manager`, under MikroORM's own name):
 * what a subscriber writes with it commits or rolls back with the batch. `EM` narrows its type to a
 * driver's EntityManager (`EntityManager` of `@mikro-orm/postgresql`, with `execute` and
 * `createQueryBuilder`), as the EntityManager the call was given is.
 */
export type MikroOrmBulkEvent<E, EM extends EntityManager = EntityManager> = BulkEvent<E, EntityMetadata<E>, EM> & {
  /** The transactional EntityManager, as MikroORM's own events name it (`=== manager`). */
  readonly em: EM;
  /** For update events: per entity, the changed properties, their stored values and MikroORM's change set. */
  readonly changes?: readonly RowChange[];
};

/**
 * A MikroORM subscriber's batch methods, typed with `em` on each event.
 *
 * @example
 * ```ts
 * import type { EntityManager } from '@mikro-orm/postgresql';
 * class Audit implements EventSubscriber<User>, MikroOrmBulkSubscriber<User, EntityManager> {
 *   getSubscribedEntities() { return [User]; }
 *   async afterBulkInsert(e: MikroOrmBulkEvent<User, EntityManager>) {
 *     await e.em.execute('insert into audit (n) values (?)', [e.entities.length]);
 *   }
 * }
 * ```
 */
export type MikroOrmBulkSubscriber<E, EM extends EntityManager = EntityManager> = BulkSubscriber<
  E,
  EntityMetadata<E>,
  EM,
  { readonly em: EM }
>;

type EntityEvent =
  | EventType.beforeCreate
  | EventType.afterCreate
  | EventType.beforeUpdate
  | EventType.afterUpdate
  | EventType.beforeUpsert
  | EventType.afterUpsert
  | EventType.beforeDelete
  | EventType.afterDelete;
type BulkName = 'beforeInsert' | 'afterInsert' | 'beforeUpdate' | 'afterUpdate' | 'beforeUpsert' | 'beforeRemove' | 'afterRemove';

/**
 * Runs MikroORM's lifecycle for a batch as flush does: per entity, one after the other, MikroORM's
 * own `EventManager.dispatchEvent` (its hooks, then the subscribers that admit its class) with the
 * `{ entity, meta, em, changeSet }` flush passes, skipped when `hasListeners` says nobody listens.
 * A subscriber with a batch method (`beforeBulkInsert`…) gets one call per batch instead of the
 * per-entity calls for that event. Upserts run `beforeUpsert` (as `em.upsert()`), then the events of
 * what happened — `afterCreate` for inserted rows, `afterUpdate` for updated ones — and then
 * `afterUpsert` for every row in input order (as `em.upsertMany()`).
 */
export class MikroOrmLifecycle<E extends object> implements LifecycleHooks<E> {
  private readonly written = new WeakMap<readonly string[], Map<EntityMetadata<object>, (name: string) => boolean>>();
  // A removed entity's DELETE change set, the one flush passes to both of its delete events.
  private readonly deletes = new WeakMap<object, ChangeSet<object>>();

  constructor(
    private readonly context: MikroOrmWriteContext,
    private readonly meta: EntityMetadata<E>,
  ) {}

  async beforeInsert(batch: HookBatch<E>): Promise<void> {
    // Flush applies onCreate and JS defaults to every new entity before the first hook runs.
    const states = this.context.initializeAll(batch.entities);
    await this.dispatch(EventType.beforeCreate, 'beforeInsert', batch, (entity, position) =>
      this.context.changeSetOf(entity, ChangeSetType.CREATE, states[position]),
    );
  }

  async afterInsert(batch: HookBatch<E>): Promise<void> {
    await this.dispatch(EventType.afterCreate, 'afterInsert', batch, (entity) => this.context.changeSetOf(entity));
  }

  beforeUpdate(batch: UpdateHookBatch<E>): Promise<void> {
    // A tree's follow-up UPDATE is not one of the call's updates (flush sends it apart, row by row).
    if (!isTreeUpdate(batch.changes)) this.context.noteUpdates(batch.entities);
    return this.dispatch(EventType.beforeUpdate, 'beforeUpdate', batch, (entity, position) =>
      this.updateChangeSet(batch, entity, position),
    );
  }

  async afterUpdate(batch: UpdateHookBatch<E>): Promise<void> {
    await this.dispatch(EventType.afterUpdate, 'afterUpdate', batch, (entity, position) =>
      this.updateChangeSet(batch, entity, position),
    );
  }

  /**
   * After the outcome events of an upsert's batch (`afterCreate`, `afterUpdate`): `afterUpsert` for
   * every row it inserted, updated or found unchanged, in input order, as `em.upsertMany()` fires it.
   */
  async afterUpsert(batch: HookBatch<E>): Promise<void> {
    if (this.context.kind !== 'upsert') return;
    await this.dispatch(EventType.afterUpsert, undefined, batch, () => undefined);
  }

  /** `beforeDelete` with the DELETE change set flush passes (an empty payload). */
  async beforeRemove(batch: HookBatch<E>): Promise<void> {
    await this.dispatch(EventType.beforeDelete, 'beforeRemove', batch, (entity) => this.deleteChangeSet(entity));
  }

  /** `afterDelete` for the removed rows, once they left the identity map (as flush fires it). */
  async afterRemove(batch: HookBatch<E>): Promise<void> {
    await this.dispatch(EventType.afterDelete, 'afterRemove', batch, (entity) => this.deleteChangeSet(entity));
    for (const entity of batch.entities) this.deletes.delete(entity);
  }

  private deleteChangeSet(entity: E): ChangeSet<object> {
    let changeSet = this.deletes.get(entity);
    if (!changeSet) {
      changeSet = new ChangeSet<object>(entity, ChangeSetType.DELETE, {}, this.context.metaOf(entity));
      this.deletes.set(entity, changeSet);
    }
    return changeSet;
  }

  async beforeUpsert(batch: HookBatch<E>): Promise<void> {
    // The row may be inserted: onCreate and JS defaults apply first, as `em.upsert()` assigns them.
    for (const entity of batch.entities) this.context.initialize(entity);
    // `em.upsert()` passes no change set to its upsert events.
    await this.dispatch(EventType.beforeUpsert, 'beforeUpsert', batch, () => undefined);
  }

  /**
   * The change tracker's change set; for a row an upsert updated, one whose payload holds what the
   * upsert wrote (the columns of its `update` list), as a flush's UPDATE change set would.
   */
  private updateChangeSet(batch: UpdateHookBatch<E>, entity: E, position: number): ChangeSet<object> {
    const row = batch.changes[position];
    if (row?.native instanceof ChangeSet) return row.native;
    if (!row?.columns?.length) return this.context.changeSetOf(entity, ChangeSetType.UPDATE);
    const meta = this.context.metaOf(entity);
    const isWritten = this.writtenBy(row.columns, meta);
    const full = this.context.writtenPayload(entity) as Record<string, unknown>;
    const payload: Record<string, unknown> = {};
    for (const name of Object.keys(full)) if (isWritten(name)) payload[name] = full[name];
    return new ChangeSet(entity, ChangeSetType.UPDATE, payload, meta);
  }

  /**
   * Whether a payload property is one of `columns` (what an upsert's update wrote), worked out once
   * per property: the rows of a batch share one columns list.
   */
  private writtenBy(columns: readonly string[], meta: EntityMetadata<object>): (name: string) => boolean {
    let byMeta = this.written.get(columns);
    if (!byMeta) {
      byMeta = new Map();
      this.written.set(columns, byMeta);
    }
    let isWritten = byMeta.get(meta);
    if (!isWritten) {
      const written = new Set(columns);
      const properties = meta.properties as Record<string, { fieldNames?: string[] } | undefined>;
      const known = new Map<string, boolean>();
      isWritten = (name) => {
        let answer = known.get(name);
        if (answer === undefined) {
          answer = (properties[name]?.fieldNames ?? [name]).some((field) => written.has(field));
          known.set(name, answer);
        }
        return answer;
      };
      byMeta.set(meta, isWritten);
    }
    return isWritten;
  }

  private async dispatch(
    event: EntityEvent,
    bulkName: BulkName | undefined,
    batch: HookBatch<E>,
    changeSetOf: (entity: E, position: number) => ChangeSet<object> | undefined,
  ): Promise<void> {
    const em = this.context.em;
    const { events, batchMethods } = dispatcherOf(em.getEventManager(), bulkName);
    await runForEach(
      event,
      batch,
      (entity, position) => {
        const meta = this.context.metaOf(entity);
        if (!events.hasListeners(event, meta)) return undefined;
        const changeSet = changeSetOf(entity, position);
        const args: EventArgs<object> = changeSet ? { entity, meta, em, changeSet } : { entity, meta, em };
        return events.dispatchEvent(event, args, meta);
      },
      'sequential',
    );
    for (const { method, entities } of batchMethods) {
      if (!subscribedTo(entities, this.meta.class)) continue;
      const bulkEvent: MikroOrmBulkEvent<E> = { ...bulkEventOf(batch, this.meta, em), em };
      const call = method as (event: MikroOrmBulkEvent<E>) => unknown;
      await runForBatch(event, batch, () => call(bulkEvent));
    }
  }
}

/** A subscriber's batch method for an event, with the entities it subscribes to (by class or name). */
interface BatchMethod {
  /** Takes the MikroOrmBulkEvent of the batch's entity type. */
  readonly method: (event: never) => unknown;
  readonly entities: ReadonlySet<EntityCtor<object> | string>;
}

/** What an event of a batch is dispatched with: an EventManager and the batch methods. */
interface Dispatcher {
  /** How many subscribers the EventManager had (it only ever gains some). */
  readonly subscribers: number;
  readonly events: EventManager;
  readonly batchMethods: readonly BatchMethod[];
}

const dispatchers = new WeakMap<EventManager, Map<BulkName, Dispatcher>>();

/**
 * The EventManager to dispatch a per-entity event with: the EntityManager's own; or, when some
 * subscribers have a batch method for the event, one of MikroORM's own class holding the other
 * subscribers — dispatchEvent cannot leave a subscriber out, and the batch method replaces its
 * per-entity calls. Worked out once per EventManager and event, again when a subscriber is added.
 */
function dispatcherOf(events: EventManager, bulkName: BulkName | undefined): Pick<Dispatcher, 'events' | 'batchMethods'> {
  if (!bulkName) return { events, batchMethods: [] };
  const subscribers = events.getSubscribers();
  let byName = dispatchers.get(events);
  if (!byName) {
    byName = new Map();
    dispatchers.set(events, byName);
  }
  let dispatcher = byName.get(bulkName);
  if (!dispatcher || dispatcher.subscribers !== subscribers.size) {
    const perEntity: EventSubscriber[] = [];
    const batchMethods: BatchMethod[] = [];
    for (const subscriber of subscribers) {
      const method = bulkSubscriberMethod(subscriber, bulkName);
      if (!method) perEntity.push(subscriber);
      else batchMethods.push({ method, entities: subscribedEntities(subscriber) });
    }
    const own = batchMethods.length === 0 ? events : new EventManager(perEntity);
    dispatcher = { subscribers: subscribers.size, events: own, batchMethods };
    byName.set(bulkName, dispatcher);
  }
  return dispatcher;
}

/** As the EventManager reads them when a subscriber is registered: its entities by class or name. */
function subscribedEntities(subscriber: EventSubscriber): ReadonlySet<EntityCtor<object> | string> {
  return new Set((subscriber.getSubscribedEntities?.() ?? []).map(subscribedEntityKey));
}

/** As the EventManager: a subscriber listing no entity gets every one, else the class itself (by class or name). */
function subscribedTo(entities: ReadonlySet<EntityCtor<object> | string>, target: EntityCtor<object>): boolean {
  return entities.size === 0 || entities.has(target) || entities.has(target.name);
}
