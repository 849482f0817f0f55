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

/** A batch being updated: per row, the changed properties and their values before. */
export interface BulkUpdateEvent<E, TMetadata, TManager> extends BulkEvent<E, TMetadata, TManager> {
  readonly changes: readonly RowChange[];
}

/**
 * A batch being removed. With `orphans` set, it is the one-to-many items a save removes because
 * they left a loaded collection (TypeORM's `orphanedRowAction: 'delete'`): the ORM's save loads no
 * entity for them, so each of `entities` is a plain object holding only the item's primary-key
 * properties (`{ id: 7 }`; not an instance of the class), `metadata` is the items' class and
 * `indices` the input index of the row whose collection dropped each item.
 */
export interface BulkRemoveEvent<E, TMetadata, TManager> extends BulkEvent<E, TMetadata, TManager> {
  readonly orphans?: true;
}

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
}

/** The batch method a subscriber implements for a per-entity event, if any. */
export function bulkSubscriberMethod(
  subscriber: object,
  event: 'beforeInsert' | 'afterInsert' | 'beforeUpdate' | 'afterUpdate' | 'beforeUpsert' | 'beforeRemove' | 'afterRemove',
): ((event: never) => unknown) | undefined {
  const name = `${event.slice(0, -6)}Bulk${event.slice(-6)}` as keyof BulkSubscriber;
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
