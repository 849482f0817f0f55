// Rows of docs/differences.md ("Both adapters") that no other scenario pins: each scenario shows the
// ORM's own save on the same input next to cohort's call.
import { BulkValidationError, OptimisticLockError } from '@cohort/core';
import { expect, it } from 'vitest';
import { countStatements, describeConformance, type OrmUnderTest, statements } from '../harness/conformance.js';

/** The entity listeners' calls, in order: `before t0`, `after t0`… (any before-/after-event). */
const listenerLog = (side: OrmUnderTest) =>
  side.hooks.filter((h) => h.source === 'listener').map((h) => `${h.event.startsWith('before') ? 'before' : 'after'} ${h.key}`);

/** The subscriber's insert and upsert calls for articles: MikroORM's `afterUpsert` left out (it follows `afterCreate`). */
const upsertLog = (side: OrmUnderTest) =>
  side.hooks
    .filter((h) => h.source === 'subscriber' && h.entity === 'Article' && h.event !== 'afterUpsert')
    .map((h) => `${h.event.startsWith('before') ? 'before' : 'after'} ${h.key}`);

/** Batch n+1's before-hooks run before batch n's after-hooks (batchSize 2, five rows t0…t4). */
const OVERLAPPING = [
  'before t0',
  'before t1',
  'before t2',
  'before t3',
  'after t0',
  'after t1',
  'before t4',
  'after t2',
  'after t3',
  'after t4',
];
const BATCH_BY_BATCH = [
  'before t0',
  'before t1',
  'after t0',
  'after t1',
  'before t2',
  'before t3',
  'after t2',
  'after t3',
  'before t4',
  'after t4',
];

describeConformance('differences', ({ subject, reference }) => {
  const articles = async (side: OrmUnderTest) => {
    const rows = [0, 1, 2, 3, 4].map((i) => side.create('Article', { title: `t${i}` }));
    await side.ormSave(rows);
    side.resetLogs();
    return rows as { title: string; id: number }[];
  };

  it("differences: hook order across batches — the ORM's save runs every before-hook, then every after-hook; cohort per batch, updates and upserts overlapping, bulkSave batch by batch", async () => {
    // The ORM's own update of five rows: one group.
    const own = await articles(reference());
    for (const a of own) (a as { slug?: string }).slug = 'changed';
    await reference().ormSave(own);
    expect(listenerLog(reference())).toEqual([...own.map((a) => `before ${a.title}`), ...own.map((a) => `after ${a.title}`)]);

    const rows = await articles(subject());
    for (const a of rows) (a as { slug?: string }).slug = 'changed';
    expect(await subject().bulkUpdate(rows, { batchSize: 2 })).toMatchObject({ updated: 5, batches: 3 });
    expect(listenerLog(subject())).toEqual(OVERLAPPING);

    subject().resetLogs();
    for (const a of rows) (a as { slug?: string }).slug = 'again';
    expect(await subject().bulkSave(rows, { batchSize: 2 })).toMatchObject({ updated: 5, batches: 3 });
    expect(listenerLog(subject())).toEqual(BATCH_BY_BATCH);

    subject().resetLogs();
    const upserted = [0, 1, 2, 3, 4].map((i) => subject().create('Article', { id: 10 + i, title: `t${i}` }));
    expect(await subject().bulkUpsert(upserted, { batchSize: 2 })).toMatchObject({ inserted: 5, batches: 3 });
    expect(upsertLog(subject())).toEqual(OVERLAPPING);
  });

  it('differences: version columns — stale rows fail the UPDATE itself, every stale row listed, nothing written', async () => {
    // The ORM's own save of a copy read before another caller's update.
    const own = await articles(reference());
    await reference().query(`UPDATE article SET version = version + 1 WHERE title IN ('t1', 't3')`);
    for (const a of own) a.title = `${a.title}!`;
    const saved = await reference()
      .ormSave(own)
      .then(
        () => 'written',
        (e: unknown) => e,
      );
    if (reference().orm === 'typeorm') {
      // TypeORM increments the version and never checks it: the stale copies overwrite the rows.
      expect(saved).toBe('written');
      expect((await reference().rows('article', 'id')).map((r) => r.title)).toEqual(['t0!', 't1!', 't2!', 't3!', 't4!']);
    } else {
      // MikroORM checks several changed entities with a SELECT before the UPDATE, and names the first stale one.
      expect((saved as Error).name).toBe('OptimisticLockError');
      expect(countStatements(reference().sql, /^select\b.*"article"/is)).toBe(1);
      expect(countStatements(reference().sql, /^update\b/i)).toBe(0);
    }

    const rows = await articles(subject());
    await subject().query(`UPDATE article SET version = version + 1 WHERE title IN ('t1', 't3')`);
    const before = await subject().rows('article', 'id');
    for (const a of rows) a.title = `${a.title}!`;
    subject().resetLogs();
    const error = await subject()
      .bulkUpdate(rows)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptimisticLockError);
    expect(error).toMatchObject({ indices: [1, 3] });
    expect(await subject().rows('article', 'id')).toEqual(before);
    // The UPDATE itself compares each row's version: one statement, no SELECT of versions ahead of it.
    const updates = statements(subject().sql, /\bupdate "[^"]+"\."article"/i);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.sql).toMatch(/\bwhere\b.*t\."version" = u\."ver"/is);
  });

  it('differences: validation — every row checked before anything is sent, all failures in one error', async () => {
    // The ORM sends the INSERT; PostgreSQL refuses the first bad value it meets.
    const own = [reference().create('Kitchen', { name: 'x'.repeat(30) }), reference().create('Kitchen', { name: 'fine' })];
    const refused = await reference()
      .ormSave(own)
      .catch((e: unknown) => e);
    expect(String(refused)).toMatch(/value too long/);
    expect(countStatements(reference().sql, /^insert into/i)).toBeGreaterThan(0);

    const rows = [
      subject().create('Kitchen', { name: 'x'.repeat(30) }),
      subject().create('Kitchen', { name: 'fine' }),
      subject().create('Kitchen', { name: 'y'.repeat(40), smallInt: 1.5 }),
    ];
    const error = await subject()
      .bulkInsert(rows)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    expect((error as BulkValidationError).failures.map(({ index, property }) => `${index}.${property}`)).toEqual([
      '0.name',
      '2.name',
      '2.smallInt',
    ]);
    expect(countStatements(subject().sql, /^((with .*)?insert into|copy)\b/is)).toBe(0);
    expect(await subject().rows('kitchen')).toEqual([]);
  });
});
