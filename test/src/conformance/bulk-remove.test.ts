/// <reference types="@cohort/typeorm/register" />
// bulkRemove against the ORM's own remove (`manager.remove()` / `em.remove()` + `em.flush()`): equal
// rows, object state and hook logs, one DELETE per batch; rows already gone skipped as `missing`;
// stale versions, a throwing hook and a foreign-key violation fail the call with nothing removed;
// relations the ORM's remove would cascade to are refused before anything is sent.
import {
  BulkHookError,
  BulkValidationError,
  ForeignKeyViolationError,
  OptimisticLockError,
  UnsupportedFeatureError,
} from '@cohort/core';
import { BulkEntityRepository, bulkRemove as mikroOrmBulkRemove } from '@cohort/mikro-orm';
import { registerBulkRepository, bulkRemove as typeormBulkRemove } from '@cohort/typeorm';
import { Cascade, type EventSubscriber } from '@mikro-orm/core';
import type { EntitySubscriberInterface, RemoveEvent } from 'typeorm';
import { expect, it } from 'vitest';
import {
  countStatements,
  describeConformance,
  expectSameOutcome,
  FLUSH_EVENTS,
  type OrmUnderTest,
} from '../harness/conformance.js';
import { allMetadata, identityMapEntry } from '../harness/mikro-orm-major.js';

const dates = ['createdAt', 'updatedAt', 'created_at', 'updated_at'];
// TypeORM's remove() loads the rows before it opens its transaction, cohort inside it; MikroORM's
// flush events belong to flush: hook logs are compared apart from those.
const outcome = { mask: dates, ignoreTransactionEvents: true, ignoreEvents: FLUSH_EVENTS };
const deletes = (side: OrmUnderTest, table: string) =>
  countStatements(side.sql, new RegExp(`^(with .*)?delete from "[^"]+"\\."${table}"`, 'is'));
const REMOVE_FAILS = 'remove fails';

async function articles(side: OrmUnderTest, titles: readonly string[]) {
  const entities = titles.map((title) => side.create('Article', { title }));
  await side.ormSave(entities);
  side.resetLogs();
  return entities;
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('the call did not fail');
    },
    (e: unknown) => e,
  );
}

/** A before-remove subscriber that throws for an entity titled REMOVE_FAILS (harmless for others). */
function installFailingHook(side: OrmUnderTest): void {
  const dataSource = side.native.dataSource;
  if (dataSource) {
    if (dataSource.subscribers.some((s) => (s as { failing?: boolean }).failing)) return;
    const subscriber: EntitySubscriberInterface & { failing: boolean } = {
      failing: true,
      beforeRemove(event: RemoveEvent<{ title?: string }>) {
        if (event.entity?.title === REMOVE_FAILS) throw new Error('the remove hook refuses this row');
      },
    };
    dataSource.subscribers.push(subscriber);
    return;
  }
  const events = side.native.orm?.em.getEventManager();
  if (!events || [...events.getSubscribers()].some((s) => (s as { failing?: boolean }).failing)) return;
  const subscriber: EventSubscriber & { failing: boolean } = {
    failing: true,
    beforeDelete(args) {
      if ((args.entity as { title?: string }).title === REMOVE_FAILS) throw new Error('the remove hook refuses this row');
    },
  };
  events.registerSubscriber(subscriber);
}

describeConformance('bulkRemove', ({ subject, reference }) => {
  it("removes like the ORM's remove: rows, objects, hooks equal; one DELETE for the batch", async () => {
    const titles = ['one', 'two', 'three', 'four'];
    const ref = reference();
    const entitiesRef = await articles(ref, titles);
    await ref.ormRemove(entitiesRef);
    const sub = subject();
    const entitiesSub = await articles(sub, titles);
    const result = await sub.bulkRemove(entitiesSub);

    await expectSameOutcome(ref, sub, { tables: ['article'], entitiesRef, entitiesSub, ...outcome });
    expect(result).toMatchObject({
      inserted: 0,
      updated: 0,
      removed: 4,
      skipped: [],
      outcomes: ['removed', 'removed', 'removed', 'removed'],
      batches: 1,
    });
    expect(await sub.rows('article')).toEqual([]);
    expect(deletes(sub, 'article')).toBe(1);
    const removeEvents = sub.orm === 'typeorm' ? ['beforeRemove', 'afterRemove'] : ['beforeDelete', 'afterDelete'];
    for (const event of removeEvents) expect(sub.hooks.filter((h) => h.event === event).length).toBeGreaterThanOrEqual(4);
    if (sub.orm === 'typeorm') {
      // As remove(): the key is unset, and the events carried it as entityId.
      for (const entity of entitiesSub) expect(entity.id).toBeUndefined();
    } else {
      // As flush: the entities left the identity map, and a later flush sends nothing for them.
      const em = sub.native.em;
      for (const entity of entitiesSub) expect(identityMapEntry(em, entity)).toBeUndefined();
      sub.resetLogs();
      await em?.flush();
      expect(sub.sql).toEqual([]);
    }
  });

  it("TypeORM: remove events carry remove()'s databaseEntity (the stored row) and entityId", async () => {
    const seen = (side: OrmUnderTest) => {
      const events: string[] = [];
      const dataSource = side.native.dataSource;
      if (!dataSource) return undefined;
      const recorder: EntitySubscriberInterface = {
        beforeRemove: (e: RemoveEvent<{ title?: string }>) => {
          events.push(`before ${e.entity?.title} db:${e.databaseEntity?.title} id:${JSON.stringify(e.entityId)}`);
        },
        afterRemove: (e: RemoveEvent<{ title?: string }>) => {
          events.push(`after ${e.entity?.title} db:${e.databaseEntity?.title} id:${JSON.stringify(e.entityId)}`);
        },
      };
      dataSource.subscribers.push(recorder);
      return { events, uninstall: () => dataSource.subscribers.splice(dataSource.subscribers.indexOf(recorder), 1) };
    };
    const ref = reference();
    const sub = subject();
    const refSeen = seen(ref);
    const subSeen = seen(sub);
    if (!refSeen || !subSeen) return;
    try {
      // The title changed since the row was stored: databaseEntity holds the stored one.
      const refEntities = await articles(ref, ['stored one', 'stored two']);
      const subEntities = await articles(sub, ['stored one', 'stored two']);
      for (const e of [...refEntities, ...subEntities]) e.title = `${e.title} (edited)`;
      await ref.ormRemove(refEntities);
      await sub.bulkRemove(subEntities);
    } finally {
      refSeen.uninstall();
      subSeen.uninstall();
    }
    expect(subSeen.events).toEqual(refSeen.events);
    expect(subSeen.events[0]).toMatch(/^before stored one \(edited\) db:stored one id:\d+$/);
  });

  it('batches: one DELETE per batch; progress counts removed rows; outcomes in input order', async () => {
    const titles = ['a', 'b', 'c', 'd', 'e'];
    const ref = reference();
    const entitiesRef = await articles(ref, titles);
    await ref.ormRemove(entitiesRef);
    const sub = subject();
    const entitiesSub = await articles(sub, titles);
    const progress: number[] = [];
    const result = await sub.bulkRemove(entitiesSub, { batchSize: 2, onProgress: (p) => progress.push(p.pending + p.committed) });
    // Batch by batch, each batch's events run before the next one's; the ORM's one remove runs each
    // kind of event for every entity at once: the same events, in another order.
    const { ignoreEvents: _flush, ...rowsAndObjects } = outcome;
    const every = [...new Set([...ref.hooks, ...sub.hooks].map((h) => h.event))];
    await expectSameOutcome(ref, sub, { tables: ['article'], entitiesRef, entitiesSub, ...rowsAndObjects, ignoreEvents: every });
    const sorted = (side: OrmUnderTest) =>
      side.hooks
        .filter((h) => h.entity !== null && !FLUSH_EVENTS.includes(h.event))
        .map((h) => JSON.stringify(h))
        .sort();
    expect(sorted(sub)).toEqual(sorted(ref));
    expect(result).toMatchObject({ removed: 5, batches: 3 });
    // After each batch (pending), then once committed.
    expect(progress).toEqual([2, 4, 5, 5]);
    expect(deletes(sub, 'article')).toBe(3);
  });

  it('hooks: false runs no remove hook and still leaves the objects as removed', async () => {
    const sub = subject();
    const entities = await articles(sub, ['x', 'y']);
    const result = await sub.bulkRemove(entities, { hooks: false });
    expect(result.removed).toBe(2);
    expect(sub.hooks.filter((h) => h.entity !== null)).toEqual([]);
    if (sub.orm === 'typeorm') for (const e of entities) expect(e.id).toBeUndefined();
  });

  it('a row already gone is skipped as missing and not counted; its object is left as it was', async () => {
    const sub = subject();
    const entities = await articles(sub, ['kept', 'gone', 'also kept']);
    await sub.query('DELETE FROM article WHERE title = $1', ['gone']);
    const goneId = entities[1].id;
    const result = await sub.bulkRemove(entities);
    expect(result).toMatchObject({
      removed: 2,
      outcomes: ['removed', 'skipped', 'removed'],
      skipped: [{ index: 1, reason: 'missing', entity: entities[1] }],
    });
    expect(entities[1].id).toBe(goneId);
    expect(await sub.rows('article')).toEqual([]);
    const after = sub.orm === 'typeorm' ? 'afterRemove' : 'afterDelete';
    const afterKeys = (side: OrmUnderTest) => side.hooks.filter((h) => h.event === after).map((h) => h.key);
    expect(afterKeys(sub)).not.toContain('gone');
    // The ORM's own remove of a row already gone: the after-remove hooks run for it too, and the
    // object is left as removed (docs/differences.md, "Remove of a row already gone").
    const ref = reference();
    const refEntities = await articles(ref, ['kept', 'gone', 'also kept']);
    await ref.query('DELETE FROM article WHERE title = $1', ['gone']);
    await ref.ormRemove(refEntities);
    expect(afterKeys(ref)).toContain('gone');
    if (ref.orm === 'typeorm') expect(refEntities[1].id).toBeUndefined();
    else expect(identityMapEntry(ref.native.em, refEntities[1])).toBeUndefined();
  });

  it('a stale version fails the call naming every stale row; nothing is removed and the objects keep their keys', async () => {
    const sub = subject();
    const entities = await articles(sub, ['fresh', 'stale one', 'fresh too', 'stale two']);
    await sub.query('UPDATE article SET version = version + 1 WHERE title LIKE $1', ['stale%']);
    const ids = entities.map((e) => e.id);
    const error = await failure(sub.bulkRemove(entities));
    expect(error).toBeInstanceOf(OptimisticLockError);
    expect(error).toMatchObject({ indices: [1, 3], entities: [entities[1], entities[3]] });
    expect((await sub.rows('article')).length).toBe(4);
    expect(entities.map((e) => e.id)).toEqual(ids);
    if (sub.orm === 'mikro-orm') {
      for (const entity of entities) expect(identityMapEntry(sub.native.em, entity)).toBe(entity);
    }
    // checkVersion: false removes them whatever their version.
    expect((await sub.bulkRemove(entities, { checkVersion: false })).removed).toBe(4);
    // The ORM's own remove deletes by key only: the stale rows go too (docs/differences.md).
    const ref = reference();
    const refEntities = await articles(ref, ['fresh', 'stale one']);
    await ref.query('UPDATE article SET version = version + 1 WHERE title LIKE $1', ['stale%']);
    await ref.ormRemove(refEntities);
    expect(await ref.rows('article')).toEqual([]);
  });

  it('a hook that throws at row k fails the call naming the row; nothing is removed', async () => {
    const sub = subject();
    installFailingHook(sub);
    const entities = await articles(sub, ['first', 'second', REMOVE_FAILS, 'fourth']);
    const ids = entities.map((e) => e.id);
    const error = await failure(sub.bulkRemove(entities, { batchSize: 2 }));
    expect(error).toBeInstanceOf(BulkHookError);
    expect(error).toMatchObject({ index: 2, batch: 1, entity: entities[2] });
    expect((await sub.rows('article')).length).toBe(4);
    expect(entities.map((e) => e.id)).toEqual(ids);
  });

  it('a foreign-key violation at row k names the row; nothing is removed', async () => {
    const sub = subject();
    const authors = ['free', 'has a book', 'free too'].map((name) => sub.create('Author', { name, profile: null }));
    await sub.ormSave(authors);
    await sub.ormSave([sub.create('Book', { title: 'keeps its author', author: authors[1] })]);
    const ids = authors.map((a) => a.id);
    const error = await failure(sub.bulkRemove(authors));
    expect(error).toBeInstanceOf(ForeignKeyViolationError);
    expect(error).toMatchObject({ index: 1, entity: authors[1] });
    expect((await sub.rows('author')).length).toBe(3);
    expect(authors.map((a) => a.id)).toEqual(ids);
  });

  it('an entity without its key is invalid (nothing sent); two objects of one row are refused', async () => {
    const sub = subject();
    const [saved] = await articles(sub, ['saved']);
    const error = await failure(sub.bulkRemove([saved, sub.create('Article', { title: 'never saved' })]));
    expect(error).toBeInstanceOf(BulkValidationError);
    expect(error).toMatchObject({ failures: [{ index: 1, property: 'id', constraint: 'required' }] });
    expect(deletes(sub, 'article')).toBe(0);
    const twin = sub.create('Article', { title: 'twin', id: saved.id, version: saved.version });
    await expect(sub.bulkRemove([saved, twin])).rejects.toMatchObject({ name: 'DuplicateKeyInBatchError', indices: [0, 1] });
    expect((await sub.rows('article')).length).toBe(1);
  });

  it('a relation the ORM would cascade removes to is refused, naming it, before anything is sent', async () => {
    const sub = subject();
    const [book] = [sub.create('Book', { title: 'cascading', author: sub.create('Author', { name: 'a', profile: null }) })];
    const restore = cascadeRemoves(sub);
    try {
      sub.resetLogs();
      const error = await failure(sub.bulkRemove([book]));
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'cascade remove', property: 'author' });
      expect((error as Error).message).toContain('"author"');
      expect(sub.sql).toEqual([]);
    } finally {
      restore();
    }
  });

  it('batch subscribers: beforeBulkRemove / afterBulkRemove once per batch, instead of their per-entity calls', async () => {
    const sub = subject();
    const calls: string[] = [];
    const record =
      (name: string) => (event: { batch: number; entities: readonly { title?: string }[]; indices: readonly number[] }) => {
        calls.push(`${name} ${event.batch}: ${event.entities.map((e) => e.title).join(',')} @${event.indices.join(',')}`);
      };
    const perEntity = () => {
      calls.push('per-entity call');
    };
    const entities = await articles(sub, ['p', 'q', 'r']);
    const Article = entities[0].constructor;
    const subscriber = {
      beforeBulkRemove: record('before'),
      afterBulkRemove: record('after'),
    };
    const dataSource = sub.native.dataSource;
    let uninstall: () => void;
    if (dataSource) {
      const own = { ...subscriber, listenTo: () => Article, beforeRemove: perEntity, afterRemove: perEntity };
      dataSource.subscribers.push(own as EntitySubscriberInterface);
      uninstall = () => dataSource.subscribers.splice(dataSource.subscribers.indexOf(own as EntitySubscriberInterface), 1);
    } else {
      const events = sub.native.orm?.em.getEventManager();
      if (!events) throw new Error('no EventManager');
      const own = { ...subscriber, getSubscribedEntities: () => [Article], beforeDelete: perEntity, afterDelete: perEntity };
      events.registerSubscriber(own as EventSubscriber);
      uninstall = () => (events.getSubscribers() as Set<EventSubscriber>).delete(own as EventSubscriber);
    }
    try {
      await sub.bulkRemove(entities, { batchSize: 2 });
    } finally {
      uninstall();
    }
    expect(calls).toEqual(['before 0: p,q @0,1', 'after 0: p,q @0,1', 'before 1: r @2', 'after 1: r @2']);
  });

  it('atomic: false commits batch by batch: a failure in batch 1 reports batch 0 as landed; its objects stay removed, the others keep their keys', async () => {
    const sub = subject();
    installFailingHook(sub);
    const entities = await articles(sub, ['a', 'b', REMOVE_FAILS, 'd']);
    const ids = entities.map((e) => e.id);
    const error = await failure(sub.bulkRemove(entities, { batchSize: 2, atomic: false }));
    expect(error).toMatchObject({ name: 'PartialImportError', landedBatches: [0], resumeFrom: 2 });
    expect((await sub.rows('article')).map((r) => r.title)).toEqual([REMOVE_FAILS, 'd']);
    if (sub.orm === 'typeorm') expect(entities.map((e) => e.id)).toEqual([undefined, undefined, ids[2], ids[3]]);
  });

  it("in the caller's transaction: the caller's rollback removes nothing; an async iterable is removed batch by batch", async () => {
    const sub = subject();
    const entities = await articles(sub, ['s1', 's2', 's3']);
    async function* stream() {
      yield* entities;
    }
    const dataSource = sub.native.dataSource;
    const rollback = new Error('the caller rolls back');
    const inCaller = dataSource
      ? dataSource.transaction((manager) =>
          typeormBulkRemove(manager, entities[0].constructor, stream(), { batchSize: 2 }).then(() => {
            throw rollback;
          }),
        )
      : sub.native.em?.transactional((em) =>
          mikroOrmBulkRemove(em, entities[0].constructor, stream(), { batchSize: 2 }).then(() => {
            throw rollback;
          }),
        );
    expect(await failure(inCaller as Promise<unknown>)).toBe(rollback);
    expect((await sub.rows('article')).length).toBe(3);
    if (dataSource) {
      // As remove() in a transaction its caller rolls back: the keys stay unset.
      for (const entity of entities) expect(entity.id).toBeUndefined();
      const ref = reference();
      const refEntities = await articles(ref, ['s1']);
      await failure(
        (ref.native.dataSource as NonNullable<typeof dataSource>).transaction((manager) =>
          manager.remove(refEntities).then(() => {
            throw rollback;
          }),
        ),
      );
      expect(refEntities[0].id).toBeUndefined();
    }
    const result = await sub.bulkRemove(dataSource ? await sub.find('Article') : entities, { batchSize: 2 });
    expect(result).toMatchObject({ removed: 3, batches: 2 });
    expect(await sub.rows('article')).toEqual([]);
  });

  it('repository methods: Repository.bulkRemove / BulkEntityRepository.bulkRemove', async () => {
    const sub = subject();
    const entities = await articles(sub, ['by repository']);
    let removed: number;
    if (sub.orm === 'typeorm') {
      const unregister = registerBulkRepository();
      try {
        const repository = sub.native.dataSource?.getRepository(entities[0].constructor);
        removed = (await repository?.bulkRemove(entities))?.removed ?? 0;
      } finally {
        unregister();
      }
    } else {
      const em = sub.native.em;
      if (!em) throw new Error('no em');
      const repository = new BulkEntityRepository<object>(em, entities[0].constructor);
      removed = (await repository.bulkRemove(entities)).removed;
    }
    expect(removed).toBe(1);
    expect(await sub.rows('article')).toEqual([]);
  });
});

/** Makes Book.author cascade removes for the test (TypeORM `cascade: ['remove']`, MikroORM `Cascade.REMOVE`). */
function cascadeRemoves(side: OrmUnderTest): () => void {
  const dataSource = side.native.dataSource;
  if (dataSource) {
    const relation = dataSource.getMetadata('Book').findRelationWithPropertyPath('author');
    if (!relation) throw new Error('no Book.author');
    relation.isCascadeRemove = true;
    return () => {
      relation.isCascadeRemove = false;
    };
  }
  const orm = side.native.orm;
  const book = orm && allMetadata(orm).find((meta) => meta.className === 'Book');
  const prop = book?.properties.author;
  if (!prop) throw new Error('no Book.author');
  const before = prop.cascade;
  prop.cascade = [...before, Cascade.REMOVE];
  return () => {
    prop.cascade = before;
  };
}
