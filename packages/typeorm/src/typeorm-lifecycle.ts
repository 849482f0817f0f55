import { type BulkEvent, type BulkSubscriber, type BulkUpdateEvent } from '@cohort/core';
import {
  bulkEventOf,
  bulkSubscriberMethod,
  type HookBatch,
  type LifecycleHooks,
  type LinkHookBatch,
  type RowChange,
  runForBatch,
  runForEach,
  type UpdateHookBatch,
} from '@cohort/core/adapter';
import type { EntityManager, EntityMetadata, EntitySubscriberInterface, ObjectLiteral, QueryRunner } from 'typeorm';
import { rowChange, type TypeormChange, type TypeormChangeTracker } from './typeorm-change-tracker.js';
import {
  type BroadcastResult,
  dataSourceOf,
  type EntityBroadcaster,
  entityBroadcaster,
  newBroadcastResult,
  type UpdateEventChange,
} from './typeorm-internals.js';
import { TypeormLinkEvents } from './typeorm-link-events.js';

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

  async beforeUpdate(batch: UpdateHookBatch<E>) {
    // A related class's entities the rows' hooks may have changed: broadcast as save() decided
    // before those hooks; diffed again after these (save() recomputes once any hook ran).
    const before = this.tracker && beforeEventBatch(batch, this.tracker);
    if (!before) return this.dispatch('beforeUpdate', batch);
    if (before.entities.length > 0) await this.dispatch('beforeUpdate', before);
    return true;
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

  /** Before a batch's junction statements: see {@link TypeormLinkEvents.before}. */
  async beforeLinks(links: LinkHookBatch<E>) {
    await new TypeormLinkEvents<E>(this.queryRunner).before(links);
  }

  /** After the batch's after-hooks: see {@link TypeormLinkEvents.after}. */
  async afterLinks(links: LinkHookBatch<E>) {
    await new TypeormLinkEvents<E>(this.queryRunner).after(links);
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

/**
 * A related class's batch as save() broadcasts its before-update events: without the entities it
 * broadcasts none for, the others with their diff before the rows' hooks. Undefined when no entity
 * of the batch had its state noted then (the batch is broadcast as it is).
 */
function beforeEventBatch<E extends ObjectLiteral>(
  batch: UpdateHookBatch<E>,
  tracker: TypeormChangeTracker<E>,
): UpdateHookBatch<E> | undefined {
  if (!batch.entities.some((e) => tracker.beforeEventOf(e) !== undefined)) return undefined;
  const out = { ...batch, entities: [] as E[], indices: [] as number[], changes: [] as RowChange[] };
  batch.entities.forEach((entity, position) => {
    const event = tracker.beforeEventOf(entity);
    const change = batch.changes[position] as RowChange;
    if (event === null) return;
    out.entities.push(entity);
    out.indices.push(batch.indices[position] as number);
    // Its event's diff is the one before the rows' hooks; the columns written stay those after them.
    const noted = event && rowChange(event.databaseEntity, event.updatedColumns, event.updatedRelations, []);
    out.changes.push(noted ? { ...noted, columns: change.columns } : change);
  });
  return out;
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
