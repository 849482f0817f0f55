// After bulkInsert, an entity's identity-map snapshot is what flush would make it: the payload that
// was sent with the returned values mapped in — the very object its afterCreate change set holds,
// as flush registers `changeSet.payload` — not a second snapshot of the entity. Both sides here:
// em.persist() + em.flush(), and bulkInsert with both strategies.
import { bulkInsert } from '@cohort/mikro-orm';
import { type ChangeSet, type EventArgs, type EventSubscriber, wrap } from '@mikro-orm/core';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Seed } from '../fixtures/mikro-orm/index.js';
import { type ManagedOrmUnderTest, openOrmUnderTest } from '../harness/orm-under-test.js';

let side: ManagedOrmUnderTest;
// The afterCreate change set of each entity, by entity.
const created = new Map<object, ChangeSet<object>>();

class CaptureAfterCreate implements EventSubscriber<Seed> {
  getSubscribedEntities() {
    return [Seed];
  }
  afterCreate(args: EventArgs<Seed>): void {
    if (args.changeSet) created.set(args.entity, args.changeSet as ChangeSet<object>);
  }
}

beforeAll(async () => {
  side = await openOrmUnderTest('mikro-orm', inject('databaseUrl'), 'mregsnap');
  side.native.em!.getEventManager().registerSubscriber(new CaptureAfterCreate());
});
beforeEach(async () => {
  await side.reset();
  created.clear();
});
afterAll(() => side?.close());

const seeds = (n: number, from = 0) =>
  Array.from(
    { length: n },
    (_, i) =>
      side.create('Seed', { qty: from + i, label: `s${from + i}`, createdAt: new Date(Date.UTC(2024, 0, i + 1)) }) as Seed,
  );

/** The entity's snapshot is its afterCreate payload (same object), holding its key, and equal to prepareEntity now. */
function expectPayloadSnapshot(entity: Seed): void {
  const em = side.native.em!;
  const snapshot = wrap(entity, true).__originalEntityData as Record<string, unknown>;
  const changeSet = created.get(entity);
  expect(changeSet).toBeDefined();
  expect(snapshot).toBe(changeSet?.payload);
  expect(snapshot.id).toBe(entity.id);
  expect(snapshot).toEqual(em.getComparator().prepareEntity(entity));
}

describe('the identity-map snapshot after an insert is the payload that was sent', () => {
  it('em.persist() + em.flush() (the reference)', async () => {
    const em = side.native.em!;
    const rows = seeds(3);
    em.persist(rows);
    await em.flush();
    for (const row of rows) expectPayloadSnapshot(row);
  });

  for (const strategy of ['unnest', 'copy'] as const) {
    it(`bulkInsert (${strategy})`, async () => {
      const em = side.native.em!;
      const rows = seeds(3, 10);
      await bulkInsert(em, Seed, rows, { strategy });
      for (const row of rows) expectPayloadSnapshot(row);
      side.resetLogs();
      await em.flush();
      expect(side.sql).toEqual([]);
    });
  }
});
