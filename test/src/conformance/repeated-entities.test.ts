// The same object twice in one input. The ORM's own save disagrees with itself: TypeORM's save()
// makes a subject per occurrence (a new entity is inserted twice, the first row then carried by no
// object; an existing one is updated twice, its version bumped twice), MikroORM's persist()
// registers the object once. cohort refuses the input naming both rows, in one batch or across
// batches, before anything is written (docs/differences.md).
import { BulkUsageError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, EVENT_NAMES, type OrmUnderTest } from '../harness/conformance.js';

const createdAt = new Date('2024-01-01T00:00:00Z');
const seed = (side: OrmUnderTest, qty: number) => side.create('Seed', { qty, label: `label ${qty}`, createdAt });
const OPERATIONS = ['bulkInsert', 'bulkUpdate', 'bulkUpsert', 'bulkSave'] as const;

describeConformance('the same object twice in one input', ({ subject, reference }) => {
  it("the ORM's own save of an object given twice: TypeORM writes a row per occurrence, MikroORM one", async () => {
    const a = reference().create('Article', { title: 'a' });
    const b = reference().create('Article', { title: 'b' });
    await reference().ormSave([a, b, a]);
    const typeorm = reference().orm === 'typeorm';
    expect((await reference().rows('article')).map((r) => [r.id, r.title])).toEqual(
      typeorm
        ? [
            [1, 'a'],
            [2, 'b'],
            [3, 'a'],
          ]
        : [
            [1, 'a'],
            [2, 'b'],
          ],
    );
    expect(a.id).toBe(typeorm ? 3 : 1);
    const names = EVENT_NAMES[reference().orm];
    const listener = reference().hooks.filter((h) => h.source === 'listener');
    expect(listener.map((h) => `${h.event}:${h.key}`)).toEqual(
      typeorm
        ? [
            `${names.beforeInsert}:a`,
            `${names.beforeInsert}:b`,
            `${names.beforeInsert}:a`,
            'afterInsert:a',
            'afterInsert:b',
            'afterInsert:a',
          ]
        : [`${names.beforeInsert}:a`, `${names.beforeInsert}:b`, `${names.afterInsert}:a`, `${names.afterInsert}:b`],
    );
  });

  /** Three stored articles (changed since), two new ones: what the operations are given. */
  const inputs = async (side: OrmUnderTest) => {
    const stored = ['a', 'b', 'c'].map((title) => side.create('Article', { title }));
    await side.ormSave(stored);
    for (const a of stored) a.title = `${a.title}!`;
    side.resetLogs();
    return { stored: stored as object[], fresh: ['new', 'other'].map((title) => side.create('Article', { title })) as object[] };
  };
  type Inputs = Awaited<ReturnType<typeof inputs>>;
  /** Per operation: an input holding one object at rows 1 and 3 (one batch). */
  const inOneBatch: Record<(typeof OPERATIONS)[number], (i: Inputs) => object[]> = {
    bulkInsert: ({ fresh: [n, o] }) => [o!, n!, subject().create('Article', { title: 'third' }), n!],
    bulkUpdate: ({ stored: [a, b, c] }) => [a!, b!, c!, b!],
    bulkUpsert: ({ stored: [a, b], fresh: [n] }) => [a!, b!, n!, b!],
    bulkSave: ({ stored: [a, b], fresh: [n] }) => [a!, n!, b!, n!],
  };
  /** Per operation: an input holding one object at rows 0 and 2 (batches 1 and 3 with batchSize 1). */
  const inTwoBatches: Record<(typeof OPERATIONS)[number], (i: Inputs) => object[]> = {
    bulkInsert: ({ fresh: [n, o] }) => [n!, o!, n!],
    bulkUpdate: ({ stored: [a, b] }) => [a!, b!, a!],
    bulkUpsert: ({ stored: [a], fresh: [n] }) => [a!, n!, a!],
    bulkSave: ({ fresh: [n], stored: [a] }) => [n!, a!, n!],
  };

  for (const operation of OPERATIONS) {
    it(`${operation}: the same object twice in one batch is refused naming both rows; nothing is written, no hook runs`, async () => {
      const input = inOneBatch[operation](await inputs(subject()));
      const before = await subject().rows('article');
      const error = await subject()
        [operation](input)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkUsageError);
      expect(error).toMatchObject({ index: 3, indices: [1, 3], entity: input[1] });
      expect((error as Error).message).toMatch(/rows 1 and 3 are the same object/);
      expect(await subject().rows('article')).toEqual(before);
      expect(subject().hooks.filter((h) => h.entity !== null)).toEqual([]);
    });

    it(`${operation}: the same object in batch 1 and batch 3 is refused naming both rows; nothing is written`, async () => {
      const input = inTwoBatches[operation](await inputs(subject()));
      const before = await subject().rows('article');
      const error = await subject()
        [operation](input, { batchSize: 1 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkUsageError);
      expect(error).toMatchObject({ index: 2, indices: [0, 2], entity: input[0] });
      expect(await subject().rows('article')).toEqual(before);
    });
  }

  it('an object given again in a later call is not a repeat', async () => {
    const rows = [seed(subject(), 1), seed(subject(), 2)];
    await subject().bulkInsert(rows);
    rows[0].qty = 10;
    await expect(subject().bulkUpdate(rows)).resolves.toMatchObject({ updated: 1, unchanged: 1 });
    rows[1].qty = 20;
    await expect(subject().bulkSave(rows)).resolves.toMatchObject({ updated: 1, unchanged: 1 });
    expect((await subject().rows('seed')).map((r) => r.qty)).toEqual([10, 20]);
  });
});
