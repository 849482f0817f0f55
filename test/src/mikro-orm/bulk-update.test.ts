// bulkUpdate, bulkSave and bulkUpsert leave the EntityManager as a flush would: entities managed
// with fresh snapshots, so a following flush sends nothing and a later change is an UPDATE of
// only that column; batch subscribers get the changes; rolled-back calls undo what they registered.
import {
  BulkEntityRepository,
  BulkUsageError,
  bulkInsert,
  bulkSave,
  bulkUpdate,
  bulkUpsert,
  type MikroOrmBulkEvent,
  OptimisticLockError,
} from '@cohort/mikro-orm';
import { type EventSubscriber, wrap } from '@mikro-orm/core';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Article, Seed, Unique } from '../fixtures/mikro-orm/index.js';
import { statements } from '../harness/conformance.js';
import { type ManagedOrmUnderTest, openOrmUnderTest } from '../harness/orm-under-test.js';

/** Takes Seed updates per batch and records what each batch changed. */
class SeedBatchSubscriber implements EventSubscriber<Seed> {
  readonly calls: string[] = [];
  getSubscribedEntities() {
    return [Seed];
  }
  beforeBulkUpdate(event: MikroOrmBulkEvent<Seed>) {
    const changed = (event.changes ?? []).map((c) => c.properties.join('+'));
    this.calls.push(`beforeBulkUpdate #${event.batch} [${changed.join(',')}]`);
  }
  afterBulkUpdate(event: MikroOrmBulkEvent<Seed>) {
    const before = (event.changes ?? []).map((c) => JSON.stringify(c.before));
    this.calls.push(`afterBulkUpdate #${event.batch} ${before.join(',')}`);
  }
}

/** Rewrites the label of every updated Seed while `suffix` is set, as an entity hook might. */
class SeedRelabel implements EventSubscriber<Seed> {
  suffix: string | undefined;
  getSubscribedEntities() {
    return [Seed];
  }
  beforeUpdate(args: { entity: Seed }) {
    if (this.suffix) args.entity.label += this.suffix;
  }
}

let side: ManagedOrmUnderTest;
const batches = new SeedBatchSubscriber();
const relabel = new SeedRelabel();
beforeAll(async () => {
  side = await openOrmUnderTest('mikro-orm', inject('databaseUrl'), 'mub');
  side.native.orm!.em.getEventManager().registerSubscriber(batches);
  side.native.orm!.em.getEventManager().registerSubscriber(relabel);
});
beforeEach(async () => {
  await side.reset();
  relabel.suffix = undefined;
  batches.calls.length = 0;
});
afterAll(() => side?.close());

const em = () => side.native.em!;
const seeds = (n: number, from = 0) =>
  Array.from(
    { length: n },
    (_, i) =>
      side.create('Seed', { qty: from + i, label: `s${from + i}`, createdAt: new Date(Date.UTC(2024, 0, i + 1)) }) as Seed,
  );
const updateSql = () => statements(side.sql, /^update/i).map((s) => s.sql);

describe('identity map after bulkUpdate', () => {
  it('a following flush sends nothing; a later change is an UPDATE of only that column', async () => {
    const rows = seeds(3);
    await bulkInsert(em(), Seed, rows);
    rows[0]!.qty = 100;
    rows[2]!.label = 'changed';
    const result = await bulkUpdate(em(), Seed, rows);
    expect(result).toMatchObject({ updated: 2, unchanged: 1 });
    side.resetLogs();
    await em().flush();
    expect(side.sql).toEqual([]);
    rows[1]!.label = 'later';
    await em().flush();
    // Flush's placeholders as MikroORM logs them: `?` on 7, `$1` on 6.
    expect(updateSql()).toEqual([
      expect.stringMatching(/^update "[^"]+"\."seed" set "label" = (?:\?|\$\d+) where "id" = (?:\?|\$\d+)$/),
    ]);
    expect((await side.rows('seed')).map((r) => [r.qty, r.label])).toEqual([
      [100, 's0'],
      [1, 'later'],
      [2, 'changed'],
    ]);
  });

  it('what a before-update hook changes is written and in the snapshot: a following flush sends nothing', async () => {
    const rows = seeds(2);
    await bulkInsert(em(), Seed, rows);
    rows[0]!.qty = 100;
    rows[1]!.qty = 200;
    relabel.suffix = '+hooked';
    await bulkUpdate(em(), Seed, rows);
    relabel.suffix = undefined;
    side.resetLogs();
    await em().flush();
    expect(side.sql).toEqual([]);
    expect(wrap(rows[0]!, true).__originalEntityData).toMatchObject({ qty: 100, label: 's0+hooked' });
    rows[1]!.qty = 201;
    await em().flush();
    // Flush's placeholders as MikroORM logs them: `?` on 7, `$1` on 6.
    expect(updateSql()).toEqual([
      expect.stringMatching(/^update "[^"]+"\."seed" set "qty" = (?:\?|\$\d+) where "id" = (?:\?|\$\d+)$/),
    ]);
    expect((await side.rows('seed')).map((r) => [r.qty, r.label])).toEqual([
      [100, 's0+hooked'],
      [201, 's1+hooked'],
    ]);
  });

  it('versions and onUpdate values are written and come back as a flush would leave them', async () => {
    const flushed = side.create('Article', { title: 'Flushed' }) as Article;
    const bulk = side.create('Article', { title: 'Bulk' }) as Article;
    await side.ormSave([flushed, bulk]);
    const stampedAt = bulk.updatedAt;
    bulk.title = 'Bulk 2';
    await bulkUpdate(em(), Article, [bulk]);
    expect(bulk.version).toBe(2);
    expect(bulk.updatedAt.getTime()).toBeGreaterThanOrEqual(stampedAt.getTime());
    expect(bulk.stamp).toBe('updated');
    flushed.title = 'Flushed 2';
    await em().flush();
    // Both entities are now at version 2 with equal snapshots: a change of each flushes alike.
    side.resetLogs();
    flushed.title = 'Flushed 3';
    bulk.title = 'Bulk 3';
    await em().flush();
    expect(updateSql()).toHaveLength(1);
    expect([flushed.version, bulk.version]).toEqual([3, 3]);
    expect((await side.rows('article')).map((r) => [r.title, r.version])).toEqual([
      ['Flushed 3', 3],
      ['Bulk 3', 3],
    ]);
  });

  it('an entity the EntityManager does not manage is looked up once and managed afterwards', async () => {
    await bulkInsert(em(), Seed, seeds(2), { managed: false });
    side.resetLogs();
    // Partial objects: what they leave undefined is not a change.
    const detached = [1, 2].map((id) => Object.assign(new Seed(), { id, qty: id * 10 }));
    const result = await bulkUpdate(em(), Seed, detached);
    expect(result.updated).toBe(2);
    expect(statements(side.sql, /^select/i)).toHaveLength(1);
    expect((await side.rows('seed')).map((r) => [r.qty, r.label])).toEqual([
      [10, 's0'],
      [20, 's1'],
    ]);
    expect(em().getUnitOfWork().getById(Seed, 2)).toBe(detached[1]);
    side.resetLogs();
    await em().flush();
    expect(side.sql).toEqual([]);
  });

  it('batch subscribers get one call per batch with the changes', async () => {
    const rows = seeds(3);
    await bulkInsert(em(), Seed, rows);
    rows[0]!.qty = 7;
    rows[1]!.label = 'x';
    rows[2]!.qty = 9;
    await bulkUpdate(em(), Seed, rows, { batchSize: 2 });
    // Batch #1 is prepared while batch #0's UPDATE is in flight.
    expect(batches.calls).toEqual([
      'beforeBulkUpdate #0 [qty,label]',
      'beforeBulkUpdate #1 [qty]',
      'afterBulkUpdate #0 {"qty":0},{"label":"s1"}',
      'afterBulkUpdate #1 {"qty":2}',
    ]);
  });

  it('an entity given in two batches is refused naming both rows; nothing is written, the identity map is as before', async () => {
    const rows = seeds(3);
    await bulkInsert(em(), Seed, rows);
    rows[0]!.qty = 7;
    rows[2]!.qty = 9;
    const error = await bulkUpdate(em(), Seed, [rows[0]!, rows[1]!, rows[2]!, rows[0]!], { batchSize: 2 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkUsageError);
    expect(error).toMatchObject({ indices: [0, 3], index: 3, entity: rows[0] });
    expect((await side.rows('seed')).map((r) => r.qty)).toEqual([0, 1, 2]);
    // The snapshots are those of before the call: a flush writes the two changes.
    side.resetLogs();
    await em().flush();
    expect((await side.rows('seed')).map((r) => r.qty)).toEqual([7, 1, 9]);
  });
});

describe('bulkSave and bulkUpsert', () => {
  it('after bulkSave every entity is managed and a flush sends nothing', async () => {
    const stored = seeds(2);
    await side.ormSave(stored);
    stored[0]!.qty = 50;
    const fresh = seeds(2, 10);
    const result = await bulkSave(em(), Seed, [...stored, ...fresh]);
    expect(result).toMatchObject({ inserted: 2, updated: 1, unchanged: 1 });
    for (const entity of [...stored, ...fresh]) expect(em().getUnitOfWork().getById(Seed, entity.id)).toBe(entity);
    side.resetLogs();
    await em().flush();
    expect(side.sql).toEqual([]);
  });

  it('bulkSave writes what a before-update hook changes, and a flush after it sends nothing', async () => {
    const stored = seeds(2);
    await side.ormSave(stored);
    stored[1]!.qty = 70;
    const fresh = seeds(1, 10);
    relabel.suffix = '+saved';
    const result = await bulkSave(em(), Seed, [...stored, ...fresh]);
    relabel.suffix = undefined;
    expect(result).toMatchObject({ inserted: 1, updated: 1, unchanged: 1 });
    side.resetLogs();
    await em().flush();
    expect(side.sql).toEqual([]);
    expect((await side.rows('seed')).map((r) => [r.qty, r.label])).toEqual([
      [0, 's0'],
      [70, 's1+saved'],
      [10, 's10'],
    ]);
  });

  it('upserted rows are managed; beforeUpsert, then afterCreate or afterUpdate, then afterUpsert', async () => {
    await bulkInsert(em(), Unique, [side.create('Unique', { email: 'old@x', name: 'old' })]);
    side.resetLogs();
    const rows = [
      side.create('Unique', { email: 'new@x', name: 'new' }) as Unique,
      side.create('Unique', { email: 'old@x', name: 'renamed' }) as Unique,
    ];
    const result = await bulkUpsert(em(), Unique, rows);
    expect(result.outcomes).toEqual(['inserted', 'updated']);
    expect(rows.map((r) => r.id)).toEqual([2, 1]);
    const events = side.hooks.filter((h) => h.source === 'subscriber' && h.entity).map((h) => `${h.event}:${h.key}`);
    expect(events).toEqual([
      'beforeUpsert:new@x',
      'beforeUpsert:old@x',
      'afterCreate:new@x',
      'afterUpdate:old@x',
      // afterUpsert for every row in input order, after the outcome events (as em.upsertMany).
      'afterUpsert:new@x',
      'afterUpsert:old@x',
    ]);
    expect(em().getUnitOfWork().getById(Unique, 1)).toBe(rows[1]);
    side.resetLogs();
    await em().flush();
    expect(side.sql).toEqual([]);
    rows[0]!.name = 'later';
    await em().flush();
    // Flush's placeholders as MikroORM logs them: `?` on 7, `$1` on 6.
    expect(updateSql()).toEqual([expect.stringMatching(/set "name" = (?:\?|\$\d+) where "id" = (?:\?|\$\d+)$/)]);
  });

  it('BulkEntityRepository has bulkUpdate, bulkSave and bulkUpsert', async () => {
    const repo = new BulkEntityRepository<Seed>(em(), Seed);
    const rows = seeds(2);
    await repo.bulkSave(rows);
    rows[1]!.qty = 42;
    expect((await repo.bulkUpdate(rows)).updated).toBe(1);
    const again = Object.assign(new Seed(), { id: 1, qty: 5, label: 'up', createdAt: new Date(0) });
    expect((await repo.bulkUpsert([again], { target: ['id'] })).outcomes).toEqual(['updated']);
    expect((await side.rows('seed')).map((r) => r.qty)).toEqual([5, 42]);
  });
});

describe('transactions', () => {
  it('inside em.transactional, a rollback leaves the rows as they were', async () => {
    const rows = seeds(2);
    await bulkInsert(em(), Seed, rows);
    const before = await side.rows('seed');
    const failure = await em()
      .transactional(async (tem) => {
        for (const row of rows) row.qty += 1;
        await bulkUpdate(tem, Seed, rows);
        await bulkSave(tem, Seed, seeds(1, 5));
        throw new Error('abort');
      })
      .catch((e: unknown) => e);
    expect((failure as Error).message).toBe('abort');
    expect(await side.rows('seed')).toEqual(before);
  });

  it('a call that fails gives the entities of its earlier batches their state back', async () => {
    const articles = ['a', 'b'].map((title) => side.create('Article', { title }) as Article);
    await side.ormSave(articles);
    await side.query(`UPDATE article SET version = version + 1 WHERE title = 'b'`);
    const snapshot = wrap(articles[0]!, true).__originalEntityData;
    for (const a of articles) a.title = `${a.title}!`;
    const error = await bulkUpdate(em(), Article, articles, { batchSize: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptimisticLockError);
    expect(articles[0]!.version).toBe(1);
    expect(wrap(articles[0]!, true).__originalEntityData).toBe(snapshot);
    expect((await side.rows('article')).map((r) => r.title)).toEqual(['a', 'b']);
  });
});
