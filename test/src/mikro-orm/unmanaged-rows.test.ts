// Rows a MikroORM call leaves unmanaged (`managed: false`, a stream's default) that a managed
// entity's loaded collection holds: setting `item.shelf = shelf` adds the item to `shelf.items` when
// that is loaded, so the next flush would reach the unmanaged item there and INSERT it again (a
// duplicate key: it has its key by then). flush leaves no written entity unmanaged: such rows are
// refused, naming the relation and `managed: true`, and nothing is written.
import { UnsupportedFeatureError } from '@cohort/core';
import { bulkInsert } from '@cohort/mikro-orm';
import { Collection } from '@mikro-orm/core';
import { Entity, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'shelf' })
class Shelf {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @OneToMany(
    () => Item,
    (i) => i.shelf,
  )
  items = new Collection<Item>(this);
}

@Entity({ tableName: 'item' })
class Item {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) label!: string;
  @ManyToOne(() => Shelf, { fieldName: 'shelf_id' }) shelf!: Shelf;
}

let orm: MikroORM;
let schema: string;
let own: OwnMikroOrm | undefined;
beforeAll(async () => {
  own = await ownMikroOrm('munmr', { entities: [Shelf, Item] });
  ({ orm, schema } = own);
});
beforeEach(async () => {
  await orm.em.fork().execute(`truncate "${schema}".item, "${schema}".shelf restart identity`);
});
afterAll(async () => {
  await own?.close();
});

async function* streamOf<T>(rows: T[]) {
  yield* rows;
}

/** A stored shelf in a fresh EntityManager, its items loaded or not, and two new items on it. */
async function setUp(loaded: boolean) {
  const created = orm.em.fork();
  created.create(Shelf, { name: 's' });
  await created.flush();
  // Found again in a fresh EntityManager: its items are not loaded until populated (a shelf
  // created in the same EntityManager holds an initialized, empty collection).
  const em = orm.em.fork();
  const shelf = await em.findOneOrFail(Shelf, { name: 's' });
  if (loaded) await em.populate(shelf, ['items']);
  const items = ['a', 'b'].map((label) => Object.assign(new Item(), { label, shelf }));
  return { em, shelf, items };
}

const count = async () => (await orm.em.fork().execute<{ n: number }[]>(`select count(*)::int as n from "${schema}".item`))[0]?.n;

it('a stream of items on a shelf whose items are loaded: refused (Item.shelf, managed: true), nothing written', async () => {
  const { em, shelf, items } = await setUp(true);
  expect(shelf.items.getItems()).toEqual(items);
  const error = await bulkInsert(em, Item, streamOf(items)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject({ feature: 'unmanaged in a collection', entityName: 'Item', property: 'shelf', index: 0 });
  expect((error as Error).message).toMatch(
    /Item\.shelf at row 0 is held by a loaded collection of a managed Shelf.*managed: true/,
  );
  expect(await count()).toBe(0);
});

it('the same with managed: true: written, and the next flush sends nothing', async () => {
  const { em, items } = await setUp(true);
  await bulkInsert(em, Item, streamOf(items), { managed: true });
  await em.flush();
  expect(await count()).toBe(2);
  expect(items.map((i) => i.id)).toEqual([1, 2]);
});

it('an array left unmanaged on purpose (managed: false) is refused the same way', async () => {
  const { em, items } = await setUp(true);
  await expect(bulkInsert(em, Item, items, { managed: false })).rejects.toThrow(UnsupportedFeatureError);
  expect(await count()).toBe(0);
});

it('a stream on a shelf whose items are not loaded: written, unmanaged, and the next flush sends nothing', async () => {
  const { em, items } = await setUp(false);
  await bulkInsert(em, Item, streamOf(items));
  await em.flush();
  expect(await count()).toBe(2);
  expect(em.getUnitOfWork().getById(Item, 1)).toBeUndefined();
});
