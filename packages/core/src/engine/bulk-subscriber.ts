import type { HookBatch, RowChange, UpdateHookBatch } from '../adapter/contract.js';
import type { RowOutcome } from './options/bulk-options.js';

/**
 * What a batch-level subscriber method receives: the whole batch once, with the ORM's metadata and
 * the manager of the running transaction (what it writes commits or rolls back with the data).
 */
export interface BulkEvent<E, TMetadata, TManager> {
  readonly entities: readonly E[];
  /** Input index of each entity. */
  readonly indices: readonly number[];
  /** Number of the batch in the call. */
  readonly batch: number;
  readonly metadata: TMetadata;
  readonly manager: TManager;
}

/**
 * A row known by its key only: a plain object holding its primary-key properties (`{ id: 7 }`,
 * `{ shelf: 1, place: 2 }`), not an instance of the class — what the ORM's save has of a one-to-many
 * item it updates or removes without loading it.
 */
export type ItemKey = Readonly<Record<string, unknown>>;

/** A batch of the rows themselves being updated: per row, the changed properties and their values before. */
export interface EntityUpdateEvent<E, TMetadata, TManager> extends BulkEvent<E, TMetadata, TManager> {
  readonly changes: readonly RowChange[];
  readonly foreignKeys?: undefined;
}

/**
 * The one-to-many items whose foreign key a save sets or clears because a row's loaded collection
 * took or dropped them (TypeORM's save(): an UPDATE of the item known by its key, no entity loaded).
 * `metadata` is the items' class; each of `entities` an {@link ItemKey}; `indices` the input index of
 * the row whose collection took or dropped the item; per item, `changes` names the relation property
 * (`properties`) and its join columns (`columns`), `before` empty (the stored value is not read), and
 * `values` the join columns' new values (`{ holderId: 3 }`, or null for an item dropped).
 */
export interface ForeignKeyUpdateEvent<TMetadata, TManager> extends BulkEvent<ItemKey, TMetadata, TManager> {
  readonly foreignKeys: true;
  readonly changes: readonly RowChange[];
  readonly values: readonly Readonly<Record<string, unknown>>[];
}

/**
 * A batch being updated: the rows themselves, or (`foreignKeys: true`) one-to-many items known by
 * their key (see {@link ForeignKeyUpdateEvent}). Check `event.foreignKeys` before reading anything
 * but the key.
 */
export type BulkUpdateEvent<E, TMetadata, TManager> =
  | EntityUpdateEvent<E, TMetadata, TManager>
  | ForeignKeyUpdateEvent<TMetadata, TManager>;

/** A batch of the rows themselves being removed. */
export interface EntityRemoveEvent<E, TMetadata, TManager> extends BulkEvent<E, TMetadata, TManager> {
  readonly orphans?: undefined;
}

/**
 * The one-to-many items a save removes because they left a loaded collection (TypeORM's
 * `orphanedRowAction: 'delete'`): the ORM's save loads no entity for them, so each of `entities` is an
 * {@link ItemKey}, `metadata` is the items' class and `indices` the input index of the row whose
 * collection dropped each item.
 */
export interface OrphanRemoveEvent<TMetadata, TManager> extends BulkEvent<ItemKey, TMetadata, TManager> {
  readonly orphans: true;
}

/**
 * A batch being removed: the rows themselves, or (`orphans: true`) one-to-many items known by their
 * key (see {@link OrphanRemoveEvent}). Check `event.orphans` before reading anything but the key.
 */
export type BulkRemoveEvent<E, TMetadata, TManager> =
  | EntityRemoveEvent<E, TMetadata, TManager>
  | OrphanRemoveEvent<TMetadata, TManager>;

/** A batch after an upsert: the outcome of each row. */
export interface BulkUpsertEvent<E, TMetadata, TManager> extends BulkEvent<E, TMetadata, TManager> {
  readonly outcomes: readonly RowOutcome[];
}

/**
 * Batch-level subscriber methods, the same for every adapter. A subscriber that implements the
 * method for an event receives it once per batch instead of the per-entity call for that event.
 */
export interface BulkSubscriber<E = any, TMetadata = any, TManager = any, TExtra = {}> {
  beforeBulkInsert?(event: BulkEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
  afterBulkInsert?(event: BulkEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
  beforeBulkUpdate?(event: BulkUpdateEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
  afterBulkUpdate?(event: BulkUpdateEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
  beforeBulkUpsert?(event: BulkEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
  beforeBulkRemove?(event: BulkRemoveEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
  afterBulkRemove?(event: BulkRemoveEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
  /**
   * A soft remove (TypeORM: bulkSoftRemove's batch of the rows found; with `orphans: true`, the
   * one-to-many items a save soft-deletes, `orphanedRowAction: 'soft-delete'`), in place of the
   * per-entity `beforeSoftRemove` / `afterSoftRemove`.
   */
  beforeBulkSoftRemove?(event: BulkRemoveEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
  afterBulkSoftRemove?(event: BulkRemoveEvent<E, TMetadata, TManager> & TExtra): Promise<void> | void;
}

/** The batch method a subscriber implements for a per-entity event, if any. */
export function bulkSubscriberMethod(
  subscriber: object,
  event:
    | 'beforeInsert'
    | 'afterInsert'
    | 'beforeUpdate'
    | 'afterUpdate'
    | 'beforeUpsert'
    | 'beforeRemove'
    | 'afterRemove'
    | 'beforeSoftRemove'
    | 'afterSoftRemove',
): ((event: never) => unknown) | undefined {
  const name = event.replace(/^(before|after)/, '$1Bulk') as keyof BulkSubscriber;
  const method = (subscriber as BulkSubscriber)[name];
  return typeof method === 'function' ? (method.bind(subscriber) as (event: never) => unknown) : undefined;
}

/**
 * The event a batch method receives for `batch`: the same shape in every adapter (with `changes`
 * for update batches).
 */
export function bulkEventOf<E, TMetadata, TManager>(
  batch: HookBatch<E>,
  metadata: TMetadata,
  manager: TManager,
): BulkEvent<E, TMetadata, TManager> & { changes?: readonly RowChange[] } {
  const event = { entities: batch.entities, indices: batch.indices, batch: batch.number, metadata, manager };
  return 'changes' in batch ? { ...event, changes: (batch as UpdateHookBatch<E>).changes } : event;
}
