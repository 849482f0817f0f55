import { type BulkEvent } from '@cohort/core';
import {
  bulkEventOf,
  bulkSubscriberMethod,
  type HookBatch,
  isPromiseLike,
  type LifecycleHooks,
  type RowChange,
  runForBatch,
  runForEach,
  type UpdateHookBatch,
} from '@cohort/core/adapter';
import {
  ChangeSet,
  ChangeSetType,
  type EntityManager,
  type EntityMetadata,
  type EventArgs,
  type EventSubscriber,
  EventType,
  Utils,
} from '@mikro-orm/core';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';

/** A MikroORM batch event: what batch methods of subscribers (`afterBulkInsert`…) receive. */
export type MikroOrmBulkEvent<E> = BulkEvent<E, EntityMetadata<E>, EntityManager> & {
  /** For update events: per entity, the changed properties, their stored values and MikroORM's change set. */
  readonly changes?: readonly RowChange[];
};

type EntityEvent =
  | EventType.beforeCreate
  | EventType.afterCreate
  | EventType.beforeUpdate
  | EventType.afterUpdate
  | EventType.beforeUpsert
  | EventType.afterUpsert;
type BulkName = 'beforeInsert' | 'afterInsert' | 'beforeUpdate' | 'afterUpdate' | 'beforeUpsert';

/**
 * Runs MikroORM's lifecycle for a batch as flush does: per entity, one after the other, its own
 * hooks (`@BeforeCreate`…) then every subscriber whose `getSubscribedEntities()` admits its class,
 * in the order of MikroORM's EventManager, with the `{ entity, meta, em, changeSet }` flush passes.
 * A subscriber with a batch method (`beforeBulkInsert`…) gets one call per batch instead of the
 * per-entity calls for that event. Upserts run `beforeUpsert` (as `em.upsert()`), then the events of
 * what happened — `afterCreate` for inserted rows, `afterUpdate` for updated ones — and then
 * `afterUpsert` for every row in input order (as `em.upsertMany()`).
 */
export class MikroOrmLifecycle<E extends object> implements LifecycleHooks<E> {
  private readonly written = new WeakMap<readonly string[], Map<EntityMetadata<object>, (name: string) => boolean>>();

  constructor(
    private readonly context: MikroOrmWriteContext,
    private readonly meta: EntityMetadata<E>,
  ) {}

  async beforeInsert(batch: HookBatch<E>): Promise<void> {
    // Flush applies onCreate and JS defaults to every new entity before the first hook runs.
    for (const entity of batch.entities) this.context.initialize(entity);
    await this.dispatch(EventType.beforeCreate, 'beforeInsert', batch, (entity) => this.context.changeSetOf(entity));
  }

  async afterInsert(batch: HookBatch<E>): Promise<void> {
    await this.dispatch(EventType.afterCreate, 'afterInsert', batch, (entity) => this.context.changeSetOf(entity));
  }

  beforeUpdate(batch: UpdateHookBatch<E>): Promise<void> {
    this.context.noteUpdates(batch.entities);
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
    const events = em.getEventManager();
    const subscribers = [...events.getSubscribers()];
    const batchSubscribers = bulkName ? subscribers.filter((s) => bulkSubscriberMethod(s, bulkName)) : [];
    // The EventManager's listener list depends on the entity's class only: built once per class.
    const lists = new Map<Function, Listener<E>[]>();
    await runForEach(
      event,
      batch,
      (entity, position) => {
        const meta = this.context.metaOf(entity) as unknown as EntityMetadata<E>;
        if (!events.hasListeners(event, meta)) return undefined;
        let listeners = lists.get(entity.constructor);
        if (!listeners) {
          listeners = listenersFor(event, meta, entity, subscribers, batchSubscribers);
          lists.set(entity.constructor, listeners);
        }
        const changeSet = changeSetOf(entity, position);
        const args: EventArgs<E> = changeSet ? { entity, meta, em, changeSet: changeSet as never } : { entity, meta, em };
        return runSerial(listeners, entity, args, 0);
      },
      'sequential',
    );
    for (const subscriber of batchSubscribers) {
      if (!bulkName || !subscribedTo(subscriber, this.meta.class as Function)) continue;
      const method = bulkSubscriberMethod(subscriber, bulkName) as (event: MikroOrmBulkEvent<E>) => unknown;
      const bulkEvent: MikroOrmBulkEvent<E> = bulkEventOf(batch, this.meta, em);
      await runForBatch(event, batch, () => method(bulkEvent));
    }
  }
}

/** One listener of an event: an entity hook (by method or function) or a subscriber's method. */
type Listener<E> = (entity: E, args: EventArgs<E>) => unknown;

/**
 * Calls the listeners one after the other, as the EventManager's `runSerial` does, but waits only
 * for the ones that return a promise: the same order, without a microtask per listener and row.
 */
function runSerial<E>(listeners: readonly Listener<E>[], entity: E, args: EventArgs<E>, from: number): unknown {
  for (let i = from; i < listeners.length; i++) {
    const result = (listeners[i] as Listener<E>)(entity, args);
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(() => runSerial(listeners, entity, args, i + 1));
    }
  }
  return undefined;
}

/** EventManager.dispatchEvent's listener list (entity hooks first, then subscribers), minus `skip`. */
function listenersFor<E extends object>(
  event: EntityEvent,
  meta: EntityMetadata<E>,
  entity: E,
  subscribers: readonly EventSubscriber[],
  skip: readonly EventSubscriber[],
): Listener<E>[] {
  const listeners: Listener<E>[] = [];
  for (const hook of meta.hooks[event] ?? []) {
    listeners.push((target, args) => {
      const handler =
        typeof hook === 'function'
          ? hook
          : ((target as Record<string, unknown>)[hook as string] ?? meta.prototype[hook as keyof E]);
      return (handler as (args: EventArgs<E>) => unknown).call(target, args);
    });
  }
  for (const subscriber of subscribers) {
    const method = subscriber[event] as ((args: EventArgs<E>) => unknown) | undefined;
    if (typeof method !== 'function' || skip.includes(subscriber)) continue;
    if (subscribedTo(subscriber, entity.constructor)) listeners.push((_, args) => method.call(subscriber, args));
  }
  return listeners;
}

/** As the EventManager: no getSubscribedEntities(), or it lists the class itself (by class or name). */
function subscribedTo(subscriber: EventSubscriber, target: Function): boolean {
  const entities = subscriber.getSubscribedEntities?.();
  if (!entities || entities.length === 0) return true;
  return entities.some((e) => {
    const name = Utils.classOrName(e as never);
    return name === target || name === target.name;
  });
}
