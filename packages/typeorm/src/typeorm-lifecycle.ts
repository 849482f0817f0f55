import { type BulkEvent, type BulkSubscriber, type BulkUpdateEvent } from '@cohort/core';
import {
  bulkEventOf,
  bulkSubscriberMethod,
  type HookBatch,
  type LifecycleHooks,
  runForBatch,
  runForEach,
  type UpdateHookBatch,
} from '@cohort/core/adapter';
import type { EntityManager, EntityMetadata, EntitySubscriberInterface, ObjectLiteral, QueryRunner } from 'typeorm';
import type { TypeormChange } from './typeorm-change-tracker.js';

type EventName = 'beforeInsert' | 'afterInsert' | 'beforeUpdate' | 'afterUpdate';
type ListenerList = 'beforeInsertListeners' | 'afterInsertListeners' | 'beforeUpdateListeners' | 'afterUpdateListeners';

/** A TypeORM batch event: what batch methods of subscribers receive. */
export type TypeormBulkEvent<E> = BulkEvent<E, EntityMetadata, EntityManager> & { queryRunner: QueryRunner };

/** A TypeORM batch event of an update: per row, the changed properties and their values before. */
export type TypeormBulkUpdateEvent<E> = BulkUpdateEvent<E, EntityMetadata, EntityManager> & { queryRunner: QueryRunner };

/**
 * Batch methods a TypeORM subscriber may add (beside EntitySubscriberInterface): each receives a
 * whole batch once, with the running transaction's manager, instead of per-entity calls.
 *
 * @example
 * ```ts
 * @EventSubscriber()
 * class Audit implements EntitySubscriberInterface<User>, TypeormBulkSubscriber<User> {
 *   listenTo() { return User; }
 *   async afterBulkInsert(e: TypeormBulkEvent<User>) {
 *     await e.manager.insert(AuditRow, e.entities.map((u) => ({ userId: u.id, action: 'insert' })));
 *   }
 * }
 * ```
 */
export type TypeormBulkSubscriber<E> = BulkSubscriber<E, EntityMetadata, EntityManager, { queryRunner: QueryRunner }>;

/**
 * Runs TypeORM's lifecycle for a batch as save() does: for each entity its listeners, then every
 * subscriber whose listenTo() admits it, all started in order and awaited together (save() uses
 * Promise.all). A subscriber with a batch method (`beforeBulkInsert`…) gets one call per batch
 * instead of the per-entity calls for that event.
 */
export class TypeormLifecycle<E extends ObjectLiteral> implements LifecycleHooks<E> {
  constructor(
    private readonly queryRunner: QueryRunner,
    private readonly metadata: EntityMetadata,
  ) {}

  async beforeInsert(batch: HookBatch<E>) {
    await this.dispatch('beforeInsert', 'beforeInsertListeners', batch);
  }

  async afterInsert(batch: HookBatch<E>) {
    await this.dispatch('afterInsert', 'afterInsertListeners', batch);
  }

  beforeUpdate(batch: UpdateHookBatch<E>) {
    return this.dispatch('beforeUpdate', 'beforeUpdateListeners', batch);
  }

  async afterUpdate(batch: UpdateHookBatch<E>) {
    await this.dispatch('afterUpdate', 'afterUpdateListeners', batch);
  }

  /** Resolves to whether any listener or subscriber was called. */
  private async dispatch(event: EventName, listeners: ListenerList, batch: HookBatch<E>): Promise<boolean> {
    let called = false;
    const qr = this.queryRunner;
    const subscribers = qr.connection.subscribers as EntitySubscriberInterface<E>[];
    const perEntity = subscribers.filter((s) => typeof s[event] === 'function' && !bulkSubscriberMethod(s, event));
    const hasListeners =
      this.metadata[listeners].length > 0 || this.metadata.childEntityMetadatas.some((m) => m[listeners].length > 0);
    if (hasListeners || perEntity.length > 0) {
      await runForEach(
        event,
        batch,
        (entity, position) => {
          const metadata = this.metadata.findInheritanceMetadata(entity);
          // As TypeORM's broadcaster: every handler is called now; returned promises are awaited together.
          let pending: unknown[] | undefined;
          const track = (result: unknown) => {
            if (!(result instanceof Promise)) return;
            if (pending) pending.push(result);
            else pending = [result];
          };
          for (const listener of metadata[listeners]) {
            if (!listener.isAllowed(entity)) continue;
            called = true;
            track(listener.execute(entity));
          }
          for (const subscriber of perEntity) {
            if (!admits(subscriber, metadata.target)) continue;
            called = true;
            track(
              (subscriber[event] as (e: unknown) => unknown).call(
                subscriber,
                this.eventFor(event, metadata, entity, batch, position),
              ),
            );
          }
          return pending && Promise.all(pending);
        },
        'concurrent',
      );
    }
    for (const subscriber of subscribers) {
      const method = bulkSubscriberMethod(subscriber, event);
      if (!method || !admits(subscriber, this.metadata.target)) continue;
      const bulkEvent: TypeormBulkEvent<E> = { ...bulkEventOf(batch, this.metadata, qr.manager), queryRunner: qr };
      called = true;
      await runForBatch(event, batch, () => method(bulkEvent as never));
    }
    return called;
  }

  private eventFor(event: EventName, metadata: EntityMetadata, entity: E, batch: HookBatch<E>, position: number) {
    // Each shape is built in one literal: this runs once per row and subscriber.
    const queryRunner = this.queryRunner;
    const dataSource = queryRunner.connection;
    const manager = queryRunner.manager;
    if (event === 'afterInsert') {
      return {
        dataSource,
        connection: dataSource,
        queryRunner,
        manager,
        entity,
        metadata,
        entityId: entityIdOf(metadata, entity),
      };
    }
    if (event === 'beforeInsert') return { dataSource, connection: dataSource, queryRunner, manager, entity, metadata };
    const row = (batch as UpdateHookBatch<E>).changes[position];
    const change = row?.native as TypeormChange | undefined;
    return {
      dataSource,
      connection: dataSource,
      queryRunner,
      manager,
      entity,
      metadata,
      databaseEntity: change?.databaseEntity,
      // Rows an upsert updated carry no loaded entity: the event lists the columns it set.
      updatedColumns: change?.updatedColumns ?? updatedColumnsOf(metadata, row?.columns),
      updatedRelations: change?.updatedRelations ?? [],
    };
  }
}

function updatedColumnsOf(metadata: EntityMetadata, names: readonly string[] | undefined) {
  return (names ?? []).map((name) => metadata.findColumnWithDatabaseName(name)).filter((c) => c !== undefined);
}

/**
 * The `entityId` save() gives afterInsert: `getEntityIdMixedMap(getEntityIdMap(entity))`, which for a
 * single plain key is just its value (computed directly: it is called once per row).
 */
function entityIdOf(metadata: EntityMetadata, entity: ObjectLiteral): unknown {
  const [key, ...more] = metadata.primaryColumns;
  if (key && more.length === 0 && !key.relationMetadata && !key.embeddedMetadata && !key.transformer) {
    const value = entity[key.propertyName];
    if (value !== undefined && value !== null) return value;
  }
  return metadata.getEntityIdMixedMap(metadata.getEntityIdMap(entity));
}

/** As TypeORM's broadcaster: no listenTo, Object, the class itself or one of its parents. */
function admits(subscriber: EntitySubscriberInterface<unknown>, target: EntityMetadata['target']): boolean {
  const listenTo = subscriber.listenTo?.();
  if (!listenTo || listenTo === Object || listenTo === target) return true;
  return typeof listenTo === 'function' && typeof target === 'function' && Object.prototype.isPrototypeOf.call(listenTo, target);
}
