import { type BulkEvent, type BulkSubscriber, type BulkUpdateEvent } from '@cohort/core';
import {
  bulkEventOf,
  bulkSubscriberMethod,
  type HookBatch,
  type LifecycleHooks,
  type LinkHookBatch,
  type LinkRow,
  type RowChange,
  runForBatch,
  runForEach,
  type UpdateHookBatch,
} from '@cohort/core/adapter';
import type { EntityManager, EntityMetadata, EntitySubscriberInterface, ObjectLiteral, QueryRunner } from 'typeorm';
import type { TypeormChange, TypeormChangeTracker } from './typeorm-change-tracker.js';
import {
  type BroadcastResult,
  dataSourceOf,
  type EntityBroadcaster,
  entityBroadcaster,
  newBroadcastResult,
  type UpdateEventChange,
} from './typeorm-internals.js';
import { itemIdentifier, itemKeyObject, itemMetadataOf, itemRelationOf } from './typeorm-inverse-side.js';
import { junctionIdentifier, junctionMetadataOf } from './typeorm-links.js';

type RemoveEventName = 'beforeRemove' | 'afterRemove' | 'beforeSoftRemove' | 'afterSoftRemove';
type EventName = 'beforeInsert' | 'afterInsert' | 'beforeUpdate' | 'afterUpdate' | RemoveEventName;
type ListenerList = `${EventName}Listeners`;

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
 * Runs TypeORM's lifecycle for a batch as save() does, through TypeORM's own Broadcaster: for each
 * entity its listeners, then every subscriber whose listenTo() admits it, all started in order and
 * awaited together (save() uses Promise.all). A subscriber with a batch method (`beforeBulkInsert`…)
 * gets one call per batch instead of the per-entity calls for that event.
 */
export class TypeormLifecycle<E extends ObjectLiteral> implements LifecycleHooks<E> {
  // What remove() hands its remove events per entity: the loaded row and the key map.
  private readonly removing = new WeakMap<object, { databaseEntity?: ObjectLiteral; identifier?: ObjectLiteral }>();

  constructor(
    private readonly queryRunner: QueryRunner,
    private readonly metadata: EntityMetadata,
    /** Loads the rows of a batch being removed, as remove() loads them (for `databaseEntity`). */
    private readonly tracker?: TypeormChangeTracker<E>,
  ) {}

  async beforeInsert(batch: HookBatch<E>) {
    await this.dispatch('beforeInsert', batch);
  }

  async afterInsert(batch: HookBatch<E>) {
    await this.dispatch('afterInsert', batch);
  }

  beforeUpdate(batch: UpdateHookBatch<E>) {
    return this.dispatch('beforeUpdate', batch);
  }

  async afterUpdate(batch: UpdateHookBatch<E>) {
    await this.dispatch('afterUpdate', batch);
  }

  /**
   * As remove(): the stored rows are loaded first (one query per batch; afterLoad fires for them)
   * when a listener or subscriber will see them, then the before-remove events run with each row's
   * `databaseEntity` and key map (`entityId`).
   */
  async beforeRemove(batch: HookBatch<E>) {
    await this.dispatch('beforeRemove', await this.loadRemoved(batch, 'beforeRemove', 'afterRemove'));
    this.rereadKeys(batch);
  }

  async afterRemove(batch: HookBatch<E>) {
    await this.dispatch('afterRemove', batch);
    for (const entity of batch.entities) this.removing.delete(entity);
  }

  /**
   * As softRemove(): the rows loaded as for a remove, and the before-soft-remove events only for the
   * rows found (softRemove() leaves a row it does not find alone, events included).
   */
  async beforeSoftRemove(batch: HookBatch<E>) {
    await this.dispatch('beforeSoftRemove', await this.loadRemoved(batch, 'beforeSoftRemove', 'afterSoftRemove'));
    this.rereadKeys(batch);
  }

  async afterSoftRemove(batch: HookBatch<E>) {
    await this.dispatch('afterSoftRemove', batch);
    for (const entity of batch.entities) this.removing.delete(entity);
  }

  /**
   * Before a batch's junction statements: as save() broadcasts a junction row it inserts or deletes
   * (a subject without an entity), every subscriber that admits the junction's class gets
   * beforeInsert / beforeRemove per row, `entity` undefined and `metadata` the junction's. Grouped
   * as save() groups its subjects: inserts, updates (one-to-many items), removes (the orphaned items
   * deleted, then the junction rows), soft removes (the orphaned items soft-deleted).
   */
  async beforeLinks(links: LinkHookBatch<E>) {
    const [deleted, softDeleted] = orphansByAction(links.orphans);
    await this.dispatchLinks('beforeInsert', links.number, links.added);
    await this.dispatchLinks('beforeUpdate', links.number, links.items ?? []);
    await this.dispatchItems('beforeUpdate', links.number, links.items ?? []);
    await this.dispatchLinks('beforeRemove', links.number, deleted);
    await this.dispatchOrphans('beforeRemove', links.number, deleted);
    await this.dispatchLinks('beforeRemove', links.number, links.removed);
    await this.dispatchLinks('beforeSoftRemove', links.number, softDeleted);
    await this.dispatchOrphans('beforeSoftRemove', links.number, softDeleted);
  }

  /** After the batch's after-hooks: afterInsert / afterRemove per junction row, with its key map (`entityId`). */
  async afterLinks(links: LinkHookBatch<E>) {
    const [deleted, softDeleted] = orphansByAction(links.orphans);
    await this.dispatchLinks('afterInsert', links.number, links.added);
    await this.dispatchLinks('afterUpdate', links.number, links.items ?? []);
    await this.dispatchItems('afterUpdate', links.number, links.items ?? []);
    await this.dispatchLinks('afterRemove', links.number, deleted);
    await this.dispatchOrphans('afterRemove', links.number, deleted);
    await this.dispatchLinks('afterRemove', links.number, links.removed);
    await this.dispatchLinks('afterSoftRemove', links.number, softDeleted);
    await this.dispatchOrphans('afterSoftRemove', links.number, softDeleted);
  }

  private async dispatchLinks(event: EventName, number: number, rows: readonly LinkRow<E>[]): Promise<void> {
    const subscribers: EntitySubscriberInterface<unknown>[] = dataSourceOf(this.queryRunner).subscribers;
    if (rows.length === 0 || !subscribers.some((s) => typeof s[event] === 'function')) return;
    // A subscriber with a batch method for the event gets no per-row calls, as for the entity rows.
    const batchWise = new Set(subscribers.filter((s) => bulkSubscriberMethod(s, event)));
    const broadcaster = entityBroadcaster(this.queryRunner, batchWise);
    const batch: HookBatch<E> = { number, entities: rows.map((row) => row.entity), indices: rows.map((row) => row.index) };
    await runForEach(
      event,
      batch,
      (_, position) => {
        const row = rows[position] as LinkRow<E>;
        const result = newBroadcastResult();
        if (event === 'beforeUpdate' || event === 'afterUpdate') {
          // A one-to-many item's foreign key: save() updates it as a subject without an entity,
          // loaded after its database entities, so with no change described either.
          const items = itemMetadataOf(row.links.junction);
          if (!items) return undefined;
          broadcaster[event](result, items, undefined, { updatedColumns: [], updatedRelations: [] });
          return result.promises.length > 0 ? result.wait() : undefined;
        }
        const items = row.links.junction.foreignKey?.orphans && itemMetadataOf(row.links.junction);
        if (items) {
          // An orphaned item save() deletes or soft-deletes: a subject without an entity or a loaded
          // row, known by its key (the event's `entityId`).
          if (event !== 'beforeInsert' && event !== 'afterInsert')
            broadcaster[event](result, items, undefined, undefined, itemIdentifier(items, row.values));
          return result.promises.length > 0 ? result.wait() : undefined;
        }
        const metadata = junctionMetadataOf(row.links.junction);
        if (!metadata) return undefined;
        if (event === 'beforeInsert') broadcaster.beforeInsert(result, metadata, undefined);
        else {
          const identifier = junctionIdentifier(metadata, row.values);
          if (event === 'afterInsert') broadcaster.afterInsert(result, metadata, undefined, identifier);
          else broadcaster[event as RemoveEventName](result, metadata, undefined, undefined, identifier);
        }
        return result.promises.length > 0 ? result.wait() : undefined;
      },
      'concurrent',
    );
  }

  /**
   * The one-to-many items whose foreign key a batch sets or clears, to the subscribers with a batch
   * method for the event (who get no per-item call for it, see dispatchLinks): one call per items'
   * class, after the per-item calls, one entry per per-item event save() fires (an item moved
   * between two rows of the batch: twice, cleared then set), each item as a plain object with its
   * key properties only, the relation and its join columns as the change, the columns' new values
   * (ForeignKeyUpdateEvent, `foreignKeys`).
   */
  private async dispatchItems(event: 'beforeUpdate' | 'afterUpdate', number: number, rows: readonly LinkRow<E>[]) {
    if (rows.length === 0) return;
    const subscribers: EntitySubscriberInterface<unknown>[] = dataSourceOf(this.queryRunner).subscribers;
    const batchWise = subscribers.filter((s) => bulkSubscriberMethod(s, event));
    if (batchWise.length === 0) return;
    const byClass = new Map<
      EntityMetadata,
      { keys: ObjectLiteral[]; indices: number[]; changes: RowChange[]; values: ObjectLiteral[] }
    >();
    for (const row of rows) {
      const items = itemMetadataOf(row.links.junction);
      const relation = itemRelationOf(row.links.junction);
      if (!items || !relation) continue;
      let group = byClass.get(items);
      if (!group) {
        group = { keys: [], indices: [], changes: [], values: [] };
        byClass.set(items, group);
      }
      const keyColumns = items.primaryColumns.length;
      const columns = row.links.junction.columns.slice(keyColumns);
      group.keys.push(itemKeyObject(items, row.values));
      group.indices.push(row.index);
      group.changes.push({ properties: [relation.propertyPath], before: {}, columns });
      group.values.push(Object.fromEntries(columns.map((column, i) => [column, row.values[keyColumns + i] ?? null])));
    }
    const broadcaster = entityBroadcaster(this.queryRunner, new Set());
    for (const [items, { keys, indices, changes, values }] of byClass) {
      const batch: HookBatch<ObjectLiteral> = { number, entities: keys, indices };
      for (const subscriber of batchWise) {
        if (!broadcaster.listensTo(subscriber, items.target)) continue;
        const method = bulkSubscriberMethod(subscriber, event) as
          | ((e: TypeormBulkUpdateEvent<ObjectLiteral>) => unknown)
          | undefined;
        if (!method) continue;
        const bulkEvent: TypeormBulkUpdateEvent<ObjectLiteral> = {
          ...bulkEventOf(batch, items, this.queryRunner.manager),
          foreignKeys: true,
          changes,
          values,
          queryRunner: this.queryRunner,
        };
        await runForBatch(event, batch, () => method(bulkEvent));
      }
    }
  }

  /**
   * The orphaned items a batch deletes, to the subscribers with a batch method for the event (who
   * get no per-item call for it, see dispatchLinks): one call per items' class, after the per-item
   * calls, each item as a plain object with its key properties only (save() loads no entity for it)
   * and the input index of the row that dropped it (BulkRemoveEvent's `orphans`).
   */
  private async dispatchOrphans(event: RemoveEventName, number: number, rows: readonly LinkRow<E>[]) {
    if (rows.length === 0) return;
    const subscribers: EntitySubscriberInterface<unknown>[] = dataSourceOf(this.queryRunner).subscribers;
    const batchWise = subscribers.filter((s) => bulkSubscriberMethod(s, event));
    if (batchWise.length === 0) return;
    const byClass = new Map<EntityMetadata, { keys: Map<string, ObjectLiteral>; indices: number[] }>();
    for (const row of rows) {
      const items = itemMetadataOf(row.links.junction);
      if (!items) continue;
      let group = byClass.get(items);
      if (!group) {
        group = { keys: new Map(), indices: [] };
        byClass.set(items, group);
      }
      const keys = row.values.slice(0, items.primaryColumns.length);
      const text = JSON.stringify(keys.map(String));
      // An item two rows of the batch name is deleted once (link-writes.ts): one entry.
      if (group.keys.has(text)) continue;
      group.keys.set(text, itemKeyObject(items, row.values));
      group.indices.push(row.index);
    }
    const broadcaster = entityBroadcaster(this.queryRunner, new Set());
    for (const [items, { keys, indices }] of byClass) {
      const batch: HookBatch<ObjectLiteral> = { number, entities: [...keys.values()], indices };
      for (const subscriber of batchWise) {
        if (!broadcaster.listensTo(subscriber, items.target)) continue;
        const method = bulkSubscriberMethod(subscriber, event) as ((e: TypeormBulkEvent<ObjectLiteral>) => unknown) | undefined;
        if (!method) continue;
        const bulkEvent = {
          ...bulkEventOf(batch, items, this.queryRunner.manager),
          orphans: true as const,
          queryRunner: this.queryRunner,
        };
        await runForBatch(event, batch, () => method(bulkEvent));
      }
    }
  }

  /**
   * Loads the stored rows when a listener or subscriber will see them, and keeps each row's
   * `databaseEntity` and key map for the events. Returns the rows the before-events are for: a soft
   * remove's found rows only, a remove's all.
   */
  private async loadRemoved(batch: HookBatch<E>, before: RemoveEventName, after: RemoveEventName): Promise<HookBatch<E>> {
    const subscribers: EntitySubscriberInterface<unknown>[] = dataSourceOf(this.queryRunner).subscribers;
    const none = new Set<object>();
    const loads =
      this.anyoneListens(before, subscribers, none) ||
      this.anyoneListens(after, subscribers, none) ||
      this.metadata.afterLoadListeners.length > 0 ||
      subscribers.some((s) => typeof s.afterLoad === 'function') ||
      // A soft remove's batch method gets the rows found only, as the per-entity event.
      (before === 'beforeSoftRemove' && subscribers.some((s) => bulkSubscriberMethod(s, before)));
    const stored = loads && this.tracker ? await this.tracker.load(batch) : [];
    batch.entities.forEach((entity, position) => {
      const metadata = this.metadata.findInheritanceMetadata(entity);
      this.removing.set(entity, {
        databaseEntity: stored[position] as ObjectLiteral | undefined,
        identifier: metadata.getEntityIdMap(entity),
      });
    });
    if (before !== 'beforeSoftRemove' || !loads || !this.tracker) return batch;
    const found: HookBatch<E> = { number: batch.number, entities: [], indices: [] };
    batch.entities.forEach((entity, position) => {
      if (stored[position] === undefined) return;
      found.entities.push(entity);
      found.indices.push(batch.indices[position] as number);
    });
    return found;
  }

  /** remove() computes the key map again after its before-hooks: the after-remove events carry that one. */
  private rereadKeys(batch: HookBatch<E>): void {
    for (const entity of batch.entities) {
      const row = this.removing.get(entity);
      if (row) row.identifier = this.metadata.findInheritanceMetadata(entity).getEntityIdMap(entity);
    }
  }

  /** Resolves to whether any listener or subscriber was called. */
  private async dispatch(event: EventName, batch: HookBatch<E>): Promise<boolean> {
    const subscribers: EntitySubscriberInterface<unknown>[] = dataSourceOf(this.queryRunner).subscribers;
    const batchWise = new Set(subscribers.filter((s) => bulkSubscriberMethod(s, event)));
    const broadcaster = entityBroadcaster(this.queryRunner, batchWise);
    let called = false;
    if (this.anyoneListens(event, subscribers, batchWise)) {
      await runForEach(
        event,
        batch,
        (entity, position) => {
          const result = newBroadcastResult();
          this.broadcast(broadcaster, result, event, entity, batch, position);
          if (result.count > 0) called = true;
          return result.promises.length > 0 ? result.wait() : undefined;
        },
        'concurrent',
      );
    }
    for (const subscriber of batchWise) {
      if (!broadcaster.listensTo(subscriber, this.metadata.target)) continue;
      // Core types a batch method's event as `never`: its shape is each adapter's (here TypeormBulkEvent).
      const method = bulkSubscriberMethod(subscriber, event) as ((e: TypeormBulkEvent<E>) => unknown) | undefined;
      if (!method) continue;
      const bulkEvent: TypeormBulkEvent<E> = {
        ...bulkEventOf(batch, this.metadata, this.queryRunner.manager),
        queryRunner: this.queryRunner,
      };
      called = true;
      await runForBatch(event, batch, () => method(bulkEvent));
    }
    return called;
  }

  /** Whether a listener of the class (or of a class of its table) or a per-entity subscriber has the event. */
  private anyoneListens(
    event: EventName,
    subscribers: readonly EntitySubscriberInterface<unknown>[],
    batchWise: ReadonlySet<object>,
  ): boolean {
    const listeners: ListenerList = `${event}Listeners`;
    return (
      this.metadata[listeners].length > 0 ||
      this.metadata.childEntityMetadatas.some((m) => m[listeners].length > 0) ||
      subscribers.some((s) => typeof s[event] === 'function' && !batchWise.has(s))
    );
  }

  /** One entity's broadcast, with the arguments save()'s SubjectExecutor gives it. */
  private broadcast(
    broadcaster: EntityBroadcaster,
    result: BroadcastResult,
    event: EventName,
    entity: E,
    batch: HookBatch<E>,
    position: number,
  ): void {
    const metadata = this.metadata.findInheritanceMetadata(entity);
    if (event === 'beforeInsert') broadcaster.beforeInsert(result, metadata, entity);
    else if (event === 'afterInsert') broadcaster.afterInsert(result, metadata, entity, metadata.getEntityIdMap(entity));
    else if (event === 'beforeRemove' || event === 'afterRemove' || event === 'beforeSoftRemove' || event === 'afterSoftRemove') {
      const row = this.removing.get(entity);
      broadcaster[event](result, metadata, entity, row?.databaseEntity, row?.identifier);
    } else broadcaster[event](result, metadata, entity, updateChange(metadata, batch as UpdateHookBatch<E>, position));
  }
}

/** A batch's orphaned items, those deleted and those soft-deleted. */
function orphansByAction<E>(orphans: readonly LinkRow<E>[] | undefined): [LinkRow<E>[], LinkRow<E>[]] {
  const deleted: LinkRow<E>[] = [];
  const softDeleted: LinkRow<E>[] = [];
  for (const row of orphans ?? []) {
    if (row.links.junction.foreignKey?.orphans?.action === 'soft-delete') softDeleted.push(row);
    else deleted.push(row);
  }
  return [deleted, softDeleted];
}

/** What the UpdateEvent of the row at `position` carries. */
function updateChange<E>(metadata: EntityMetadata, batch: UpdateHookBatch<E>, position: number): UpdateEventChange {
  const row = batch.changes[position];
  const change = row?.native as TypeormChange | undefined;
  if (change) return change;
  // Rows an upsert updated carry no loaded entity: the event lists the columns it set.
  return { updatedColumns: updatedColumnsOf(metadata, row?.columns), updatedRelations: [] };
}

function updatedColumnsOf(metadata: EntityMetadata, names: readonly string[] | undefined) {
  return (names ?? []).map((name) => metadata.findColumnWithDatabaseName(name)).filter((c) => c !== undefined);
}
