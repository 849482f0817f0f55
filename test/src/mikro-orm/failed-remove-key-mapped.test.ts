// A failed bulkRemove and the referrers that hold the removed entity by key (`mapToPk`): unsetIdentity
// deletes the reference of those whose key is the removed one's (and on MikroORM 7 takes an entity
// keyed by it out of the unit of work), and cohort puts back exactly those — the referrers of the
// class's other entities are left alone (neither captured nor put back). Compared with em.remove() +
// flush failing at the same point: the next flush after bulkRemove writes what it would have written
// without the call (docs/differences.md, "Objects after a failed remove"). What is kept to put back
// is that much only: on MikroORM 7 every entity keyed by another shelf was captured whole (with its
// own referrers) for each removed shelf and kept while the call ran (MikroORM 6: a key-mapped
// reference of another shelf was read, then dropped).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BulkHookError, bulkRemove } from '@cohort/mikro-orm';
import { AfterDelete, Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const failing: { on: boolean; measure?: (shelf: Shelf) => void } = { on: false };

@Entity({ tableName: 'shelf' })
class Shelf {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @AfterDelete() failing() {
    failing.measure?.(this);
    if (failing.on) throw new Error('injected');
  }
}

@Entity({ tableName: 'slot' })
class Slot {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => Shelf, { mapToPk: true, nullable: true, deleteRule: 'set null' }) shelf?: number | null;
}

// Keyed by its shelf: MikroORM 7's unsetIdentity takes it out of the unit of work with its shelf.
@Entity({ tableName: 'copy' })
class Copy {
  @ManyToOne(() => Shelf, { primary: true, mapToPk: true, deleteRule: 'cascade' }) shelf!: number;
  @PrimaryKey({ type: 'integer' }) no!: number;
}

let own: OwnMikroOrm;
beforeAll(async () => {
  own = await ownMikroOrm('failed_remove_pk', { entities: [Shelf, Slot, Copy] });
});
afterAll(async () => {
  await own?.close();
});
const fork = () => own.orm.em.fork() as EntityManager;
const table = (name: string) => `"${own.schema}"."${name}"`;
const rows = async () => ({
  shelf: await fork().execute(`select * from ${table('shelf')} order by id`),
  slot: await fork().execute(`select * from ${table('slot')} order by id`),
});

async function seed(): Promise<void> {
  const em = fork();
  await em.execute(`truncate ${table('shelf')}, ${table('slot')}, ${table('copy')}`);
  em.create(Shelf, { id: 1, name: 'a' });
  em.create(Shelf, { id: 2, name: 'b' });
  em.create(Slot, { id: 1, name: 's1', shelf: 1 });
  em.create(Slot, { id: 2, name: 's2', shelf: 2 });
  await em.flush();
}

beforeEach(async () => {
  failing.on = false;
  await seed();
});

// Both shelves and slots loaded, a pending change on each slot.
async function load() {
  const em = fork();
  const shelves = await em.find(Shelf, {}, { orderBy: { id: 'asc' } });
  const slots = await em.find(Slot, {}, { orderBy: { id: 'asc' } });
  for (const slot of slots) slot.name = `${slot.name}x`;
  return { em, shelves, slots };
}

const internals = (entity: object) =>
  (entity as { __helper: { __managed?: boolean; __data: object; __originalEntityData?: object } }).__helper;
const state = (slots: Slot[]) =>
  slots.map((slot) => ({
    shelf: slot.shelf,
    data: { ...internals(slot).__data },
    snapshot: internals(slot).__originalEntityData,
  }));

describe('objects after a failed remove: referrers holding it by key (mapToPk)', () => {
  it("flush leaves the referrer's key deleted, bulkRemove as before the call; the next flush writes what it would have", async () => {
    const stored = await rows();
    await (await load()).em.flush();
    const withoutCall = await rows();
    await seed();

    const viaFlush = await load();
    const beforeFlush = state(viaFlush.slots);
    failing.on = true;
    viaFlush.em.remove(viaFlush.shelves[0] as Shelf);
    await expect(viaFlush.em.flush()).rejects.toThrow('injected');
    failing.on = false;
    expect(await rows()).toEqual(stored);
    const afterFlush = state(viaFlush.slots);
    expect(afterFlush).not.toEqual(beforeFlush);
    // Only the slot of shelf 1 lost its reference (the failed flush took both slots' snapshots).
    expect(afterFlush.map((slot) => 'shelf' in slot.data)).toEqual([false, true]);
    await seed();

    const viaBulk = await load();
    const before = state(viaBulk.slots);
    expect(before).toEqual(beforeFlush);
    failing.on = true;
    const error = await bulkRemove(viaBulk.em, Shelf, [viaBulk.shelves[0] as Shelf]).catch((e: unknown) => e);
    failing.on = false;
    expect(error).toBeInstanceOf(BulkHookError);
    expect(await rows()).toEqual(stored);
    expect(state(viaBulk.slots)).toEqual(before);
    await viaBulk.em.flush();
    expect(await rows()).toEqual(withoutCall);
  });

  it("removing shelves among many entities keyed by other shelves keeps only the removed shelves' own to put back", async () => {
    const em = fork();
    await em.execute(`insert into ${table('shelf')} (id, name) select g, 's' || g from generate_series(3, 200) g`);
    await em.execute(`insert into ${table('copy')} (shelf_id, no) select 1 + g % 200, g from generate_series(1, 8000) g`);
    const shelves = await em.find(Shelf, {}, { orderBy: { id: 'asc' } });
    const copies = await em.find(Copy, {});
    expect(copies).toHaveLength(8000);
    collect();
    const before = process.memoryUsage().heapUsed;
    // Measured in the last removed shelf's afterDelete, while what the call keeps to put back is alive.
    let kept = 0;
    const last = shelves[99];
    failing.measure = (shelf) => {
      if (shelf !== last) return;
      collect();
      kept = process.memoryUsage().heapUsed - before;
    };
    const result = await bulkRemove(em, Shelf, shelves.slice(0, 100));
    failing.measure = undefined;
    expect(result.removed).toBe(100);
    expect(kept).toBeGreaterThan(0);
    // ~4,000 copies of the removed shelves put back; not the 100 × 7,960 captures of the other shelves' copies of before (~160 MB; 1.3 MB now).
    expect(kept).toBeLessThan(30e6);
  });
});
