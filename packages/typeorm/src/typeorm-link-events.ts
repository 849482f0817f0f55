// The events TypeORM's save() broadcasts for the rows of a batch's relations that are not entities
// of the batch: junction rows it inserts or deletes, one-to-many items whose foreign key it sets or
// clears, orphaned items it deletes or soft-deletes — per row to the subscribers, and once per class
// to those with a batch method.
import {
  bulkEventOf,
  bulkSubscriberMethod,
  type HookBatch,
  type LinkHookBatch,
  type LinkRow,
  type RowChange,
  runForBatch,
  runForEach,
} from '@cohort/core/adapter';
import type { EntityMetadata, EntitySubscriberInterface, ObjectLiteral, QueryRunner } from 'typeorm';
import { dataSourceOf, entityBroadcaster, newBroadcastResult } from './typeorm-internals.js';
import { itemIdentifier, itemKeyObject, itemMetadataOf, itemRelationOf } from './typeorm-inverse-side.js';
import type { TypeormBulkEvent, TypeormBulkUpdateEvent } from './typeorm-lifecycle.js';
import { junctionIdentifier, junctionMetadataOf } from './typeorm-links.js';

type LinkEventName = 'beforeInsert' | 'afterInsert' | 'beforeUpdate' | 'afterUpdate' | RemoveEventName;
type RemoveEventName = 'beforeRemove' | 'afterRemove' | 'beforeSoftRemove' | 'afterSoftRemove';

/** The link events of a batch, on the call's query runner (what TypeormLifecycle's `beforeLinks` and `afterLinks` run). */
export class TypeormLinkEvents<E> {
  constructor(private readonly queryRunner: QueryRunner) {}

  /**
   * Before a batch's junction statements: as save() broadcasts a junction row it inserts or deletes
   * (a subject without an entity), every subscriber that admits the junction's class gets
   * beforeInsert / beforeRemove per row, `entity` undefined and `metadata` the junction's. Grouped
   * as save() groups its subjects: inserts, updates (one-to-many items), removes (the orphaned items
   * deleted, then the junction rows), soft removes (the orphaned items soft-deleted).
   */
  async before(links: LinkHookBatch<E>) {
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
  async after(links: LinkHookBatch<E>) {
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

  private async dispatchLinks(event: LinkEventName, number: number, rows: readonly LinkRow<E>[]): Promise<void> {
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
