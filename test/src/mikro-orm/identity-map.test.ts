// After bulkInsert the entities are managed as after a flush.
import { bulkInsert } from '@cohort/mikro-orm';
import { wrap } from '@mikro-orm/core';
import { afterAll, beforeAll, beforeEach, expect, inject, it } from 'vitest';
import { Article, Seed } from '../fixtures/mikro-orm/index.js';
import { countStatements, statements } from '../harness/conformance.js';
import { type ManagedOrmUnderTest, openOrmUnderTest } from '../harness/orm-under-test.js';

let side: ManagedOrmUnderTest;
beforeAll(async () => {
  side = await openOrmUnderTest('mikro-orm', inject('databaseUrl'), 'mim');
});
beforeEach(() => side.reset());
afterAll(() => side?.close());

const seeds = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => side.create('Seed', { qty: i, label: `s${i}`, createdAt: new Date(Date.UTC(2024, 0, i + 1)) }) as Seed,
  );

it('a following flush sends nothing for the inserted entities', async () => {
  const em = side.native.em!;
  const rows = seeds(3);
  await bulkInsert(em, Seed, rows);
  side.resetLogs();
  await em.flush();
  expect(side.sql).toEqual([]);
});

it('findOne returns the same instance; a loaded one is not queried again', async () => {
  const em = side.native.em!;
  const rows = seeds(2);
  await bulkInsert(em, Seed, rows);
  side.resetLogs();
  const found = await em.findOne(Seed, rows[1]!.id);
  expect(found).toBe(rows[1]);
  // Every property of Seed was set, so nothing is missing from the snapshot: no query at all.
  expect(side.sql).toEqual([]);
  expect(em.getUnitOfWork().getById(Seed, rows[0]!.id)).toBe(rows[0]);
  expect(wrap(rows[0]!, true).__managed).toBe(true);
});

it('changing a property then flushing sends an UPDATE of only that column', async () => {
  const em = side.native.em!;
  const rows = seeds(2);
  await bulkInsert(em, Seed, rows);
  side.resetLogs();
  rows[1]!.label = 'changed';
  await em.flush();
  const updates = statements(side.sql, /^update/i);
  expect(updates).toHaveLength(1);
  // Flush's placeholders as MikroORM logs them: `?` on 7, `$1` on 6.
  expect(updates[0]!.sql).toMatch(/^update "[^"]+"\."seed" set "label" = (?:\?|\$\d+) where "id" = (?:\?|\$\d+)$/);
  expect(countStatements(side.sql, /^insert/i)).toBe(0);
  expect((await side.rows('seed')).map((r) => r.label)).toEqual(['s0', 'changed']);
});

it('an entity with a version and onUpdate updates as a flushed one does', async () => {
  const em = side.native.em!;
  const flushed = side.create('Article', { title: 'Flushed' }) as Article;
  await side.ormSave([flushed]);
  const inserted = side.create('Article', { title: 'Inserted' }) as Article;
  await bulkInsert(em, Article, [inserted]);
  const updateOf = async (article: Article) => {
    side.resetLogs();
    article.title = `${article.title} again`;
    await em.flush();
    return statements(side.sql, /^update/i);
  };
  const expected = await updateOf(flushed);
  const actual = await updateOf(inserted);
  expect(actual.map((s) => s.sql)).toEqual(expected.map((s) => s.sql));
  expect(actual).toHaveLength(1);
  expect(inserted.version).toBe(flushed.version);
  expect(inserted.version).toBe(2);
});

it('managed: false leaves the entities out of the unit of work', async () => {
  const em = side.native.em!;
  const rows = seeds(2);
  const result = await bulkInsert(em, Seed, rows, { managed: false });
  expect(result.inserted).toBe(2);
  expect(rows.map((r) => r.id)).toEqual([1, 2]);
  expect(em.getUnitOfWork().getById(Seed, 1)).toBeUndefined();
  side.resetLogs();
  const found = await em.findOne(Seed, 1);
  expect(found).not.toBe(rows[0]);
  expect(found?.label).toBe('s0');
});
