// With trackEntityChanges, cohort's writes refresh each entity's snapshot (its baseline for the next
// diff). A snapshot written by a transaction that rolls back must give way to the one before it:
// otherwise a retry of the same objects takes them for unchanged and writes nothing.
import { createSchema } from '@cohort/pg-harness';
import { bulkInsert, bulkSave, bulkUpdate, trackEntityChanges } from '@cohort/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, beforeEach, expect, inject, it } from 'vitest';

@Entity('tracked_item')
class TrackedItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) qty!: number;
}

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tsnaprb');
  drop = schema.drop;
  ds = new DataSource({ type: 'postgres', url, schema: schema.name, entities: [TrackedItem], synchronize: true });
  await ds.initialize();
  trackEntityChanges(ds);
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.getRepository(TrackedItem).clear();
});

const stored = async () => (await ds.getRepository(TrackedItem).find({ order: { id: 'ASC' } })).map((r) => r.qty);
const loadedAndChanged = async () => {
  await bulkInsert(
    ds,
    TrackedItem,
    [1, 2, 3].map((qty) => Object.assign(new TrackedItem(), { qty })),
  );
  const items = await ds.getRepository(TrackedItem).find({ order: { id: 'ASC' } });
  for (const item of items) item.qty += 10;
  return items;
};

it("a bulkUpdate inside the caller's transaction that rolls back: a retry writes the rows again", async () => {
  const items = await loadedAndChanged();
  await ds
    .transaction(async (manager) => {
      expect((await bulkUpdate(manager, TrackedItem, items)).updated).toBe(3);
      throw new Error('the caller gives up');
    })
    .catch(() => undefined);
  expect(await stored()).toEqual([1, 2, 3]);
  expect((await bulkUpdate(ds, TrackedItem, items)).updated).toBe(3);
  expect(await stored()).toEqual([11, 12, 13]);
});

it('a bulkUpdate in a savepoint that rolls back, inside a transaction that commits: a retry writes again', async () => {
  const items = await loadedAndChanged();
  await ds.transaction(async (manager) => {
    await manager
      .transaction(async (inner) => {
        await bulkUpdate(inner, TrackedItem, items);
        throw new Error('the inner block gives up');
      })
      .catch(() => undefined);
  });
  expect(await stored()).toEqual([1, 2, 3]);
  expect((await bulkUpdate(ds, TrackedItem, items)).updated).toBe(3);
});

it("a bulkUpdate inside the caller's transaction that commits: the snapshots stand, nothing is written twice", async () => {
  const items = await loadedAndChanged();
  await ds.transaction(async (manager) => {
    await manager.transaction(async (inner) => {
      await bulkUpdate(inner, TrackedItem, items);
    });
  });
  expect(await stored()).toEqual([11, 12, 13]);
  expect(await bulkUpdate(ds, TrackedItem, items)).toMatchObject({ updated: 0, unchanged: 3 });
});

it('a bulkInsert whose own transaction fails: a retry inserts again', async () => {
  const items = [1, 2, 3].map((qty) => Object.assign(new TrackedItem(), { qty }));
  await ds
    .transaction(async (manager) => {
      await bulkInsert(manager, TrackedItem, items);
      throw new Error('the caller gives up');
    })
    .catch(() => undefined);
  expect(await stored()).toEqual([]);
  // With `reload: false` a snapshot stands in for the row: a stale one would make this an UPDATE of nothing.
  trackEntityChanges(ds, { reload: false });
  try {
    expect((await bulkSave(ds, TrackedItem, items)).inserted).toBe(3);
  } finally {
    trackEntityChanges(ds);
  }
  expect(await stored()).toEqual([1, 2, 3]);
});
