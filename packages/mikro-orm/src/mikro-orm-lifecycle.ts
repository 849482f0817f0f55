import { type BulkEvent, bulkSubscriberMethod, type HookBatch, type LifecycleHooks, runForBatch, runForEach } from '@cohort/core';
import { type EntityManager, type EntityMetadata, type EventArgs, type EventSubscriber, EventType, Utils } from '@mikro-orm/core';
import type { MikroOrmInsertContext } from './mikro-orm-insert-context.js';

/** A MikroORM batch event: what batch methods of subscribers (`afterBulkInsert`…) receive. */
export type MikroOrmBulkEvent<E> = BulkEvent<E, EntityMetadata<E>, EntityManager>;

type EntityEvent = EventType.beforeCreate | EventType.afterCreate;
type BulkName = 'beforeInsert' | 'afterInsert';

/**
 * Runs MikroORM's lifecycle for a batch as flush does for new entities: per entity, one after the
 * other, its own hooks (`@BeforeCreate`…) then every subscriber whose `getSubscribedEntities()`
 * admits its class, through MikroORM's own EventManager, with the `{ entity, meta, em, changeSet }`
 * flush passes. A subscriber with a batch method (`beforeBulkInsert`…) gets one call per batch
 * instead of the per-entity calls for that event.
 */
export class MikroOrmLifecycle<E extends object> implements LifecycleHooks<E> {
  constructor(
    private readonly context: MikroOrmInsertContext,
    private readonly meta: EntityMetadata<E>,
  ) {}

  async beforeInsert(batch: HookBatch<E>): Promise<void> {
    // Flush applies onCreate and JS defaults to every new entity before the first hook runs.
    for (const entity of batch.entities) this.context.initialize(entity);
    await this.dispatch(EventType.beforeCreate, 'beforeInsert', batch);
  }

  afterInsert(batch: HookBatch<E>): Promise<void> {
    return this.dispatch(EventType.afterCreate, 'afterInsert', batch);
  }

  private async dispatch(event: EntityEvent, bulkName: BulkName, batch: HookBatch<E>): Promise<void> {
    const em = this.context.em;
    const events = em.getEventManager();
    const subscribers = [...events.getSubscribers()];
    const batchSubscribers = subscribers.filter((s) => bulkSubscriberMethod(s, bulkName));
    await runForEach(
      event,
      batch,
      async (entity) => {
        const meta = this.context.metaOf(entity) as unknown as EntityMetadata<E>;
        if (!events.hasListeners(event, meta)) return;
        const args: EventArgs<E> = { entity, meta, em, changeSet: this.context.changeSetOf(entity) as never };
        if (batchSubscribers.length === 0) {
          await events.dispatchEvent(event, args, meta);
          return;
        }
        // Some subscribers take this event per batch: run the rest as the EventManager would.
        for (const listener of listenersFor(event, meta, entity, subscribers, batchSubscribers)) await listener(args);
      },
      'sequential',
    );
    for (const subscriber of batchSubscribers) {
      if (!subscribedTo(subscriber, this.meta.class as Function)) continue;
      const method = bulkSubscriberMethod(subscriber, bulkName) as (event: MikroOrmBulkEvent<E>) => unknown;
      const bulkEvent: MikroOrmBulkEvent<E> = {
        entities: batch.entities,
        indices: batch.indices,
        batch: batch.number,
        metadata: this.meta,
        manager: em,
      };
      await runForBatch(event, batch, () => method(bulkEvent));
    }
  }
}

/** EventManager.dispatchEvent's listener list (entity hooks first, then subscribers), minus `skip`. */
function listenersFor<E extends object>(
  event: EntityEvent,
  meta: EntityMetadata<E>,
  entity: E,
  subscribers: readonly EventSubscriber[],
  skip: readonly EventSubscriber[],
): ((args: EventArgs<E>) => unknown)[] {
  const listeners: ((args: EventArgs<E>) => unknown)[] = [];
  for (const hook of meta.hooks[event] ?? []) {
    const handler =
      typeof hook === 'function'
        ? hook
        : ((entity as Record<string, unknown>)[hook as string] ?? meta.prototype[hook as keyof E]);
    listeners.push((handler as (args: EventArgs<E>) => unknown).bind(entity));
  }
  for (const subscriber of subscribers) {
    const method = subscriber[event] as ((args: EventArgs<E>) => unknown) | undefined;
    if (typeof method !== 'function' || skip.includes(subscriber)) continue;
    if (subscribedTo(subscriber, entity.constructor)) listeners.push(method.bind(subscriber));
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
