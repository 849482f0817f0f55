// The inverse side of a one-to-many (`shop.orders`), items that are stored: the ORM's own save sets
// the foreign key of the items added to the collection and clears it for the ones removed (TypeORM's
// default orphanedRowAction, `nullify`). TypeORM: cohort writes them in the call, one UPDATE of the
// items' table per batch, after the batch's statement, in its transaction. MikroORM: adding to the
// collection sets `order.shop` on the object, so the items are changed managed entities that the next
// flush writes (with their hooks), as any changed related entity: cohort writes the shops and leaves
// them pending — the call followed by `em.flush()` leaves what persist + flush leaves.
import { BulkWriteError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, expectSameOutcome, FLUSH_EVENTS, type OrmUnderTest } from '../harness/conformance.js';

const TABLES = ['shop', 'purchase_order'];
const SAME = { tables: TABLES, ignoreTransactionEvents: true, ignoreEvents: [...FLUSH_EVENTS, 'afterLoad'] };

/** Stored shops s0, s1 and orders o0, o1 (no shop), o2, o3 (at s1), saved with the ORM's own save. */
async function seed(side: OrmUnderTest): Promise<void> {
  const shops = ['s0', 's1'].map((name) => side.create('Shop', { name }));
  const orders = ['o0', 'o1', 'o2', 'o3'].map((ref, i) => side.create('Order', { ref, shop: i < 2 ? null : shops[1] }));
  await side.ormSave([...shops, ...orders]);
  side.resetLogs();
}

/** The shops with their orders, and every order, loaded by one caller (one MikroORM EntityManager). */
async function load(side: OrmUnderTest): Promise<{ shops: any[]; orders: any[] }> {
  if (side.orm === 'mikro-orm') {
    const em = side.native.em as any;
    em.clear();
    const orders = await em.find('Order', {}, { orderBy: { id: 'asc' } });
    const shops = await em.find('Shop', {}, { populate: ['orders'], orderBy: { id: 'asc' } });
    return { shops, orders };
  }
  const ds = side.native.dataSource as any;
  const shops = await ds.getRepository('Shop').find({ relations: { orders: true }, order: { id: 'ASC' } });
  const orders = await ds.getRepository('Order').find({ order: { id: 'ASC' } });
  return { shops, orders };
}

function addOrder(side: OrmUnderTest, shop: any, order: any): void {
  if (side.orm === 'mikro-orm') shop.orders.add(order);
  else shop.orders = [...(shop.orders ?? []), order];
}
function removeOrder(side: OrmUnderTest, shop: any, order: any): void {
  if (side.orm === 'mikro-orm') shop.orders.remove(order);
  else shop.orders = shop.orders.filter((o: any) => o.id !== order.id);
}

/** s0 gets o0 and o1, s1 loses o2 (keeps o3). */
function change(side: OrmUnderTest, { shops, orders }: { shops: any[]; orders: any[] }): void {
  addOrder(side, shops[0], orders[0]);
  addOrder(side, shops[0], orders[1]);
  removeOrder(side, shops[1], orders[2]);
}

/** Statements of the side's SQL log since `from` that write `table`. */
function writesTo(side: OrmUnderTest, table: string, from = 0): string[] {
  return side.sql
    .slice(from)
    .map((entry) => entry.sql)
    .filter((sql) => new RegExp(`^\\s*(insert into|delete from|update)\\s+("?[\\w$]+"?\\.)?"?${table}"?\\s`, 'i').test(sql));
}

/** cohort's call, then — MikroORM — the flush that writes the pending items (the documented contract). */
async function thenFlush(side: OrmUnderTest): Promise<void> {
  if (side.orm === 'mikro-orm') await (side.native.em as any).flush();
}

/** After the call (and flush), the ORM's own save / flush of the same objects writes nothing more. */
async function expectClean(side: OrmUnderTest, rows: any[]): Promise<void> {
  const from = side.sql.length;
  if (side.orm === 'mikro-orm') await (side.native.em as any).flush();
  else await side.ormSave(rows);
  for (const table of TABLES) expect(writesTo(side, table, from), `${table} writes after the call`).toEqual([]);
}

/** A shop as plain data (its collection by the orders' keys): MikroORM 6's collections do not compare as objects. */
const shopState = (side: OrmUnderTest, shops: any[]) =>
  shops.map((shop) => {
    const orders = side.orm === 'mikro-orm' ? shop.orders.getItems() : (shop.orders ?? []);
    return { id: shop.id, name: shop.name, orders: orders.map((o: any) => o.id).sort() };
  });

const orderState = (orders: any[]) =>
  orders.map((o) => ({ id: o.id, ref: o.ref, shop: o.shop === undefined ? 'unset' : (o.shop?.id ?? null) }));

describeConformance('the inverse side of a one-to-many, stored items', ({ subject, reference }) => {
  for (const call of ['bulkSave', 'bulkUpdate'] as const) {
    it(`${call}: items added get the row's key, an item removed gets NULL, as save() / flush() writes them`, async () => {
      const ref = reference();
      await seed(ref);
      const refLoaded = await load(ref);
      change(ref, refLoaded);
      await ref.ormSave(refLoaded.shops);

      const sub = subject();
      await seed(sub);
      const subLoaded = await load(sub);
      change(sub, subLoaded);
      const from = sub.sql.length;
      await sub[call](subLoaded.shops);
      if (sub.orm === 'typeorm') {
        // One UPDATE of the items' table for the batch: both the set and the cleared keys.
        expect(writesTo(sub, 'purchase_order', from)).toHaveLength(1);
      } else {
        // Pending in the unit of work until the flush, as any changed managed entity.
        expect(writesTo(sub, 'purchase_order', from)).toEqual([]);
      }
      await thenFlush(sub);
      await expectSameOutcome(ref, sub, {
        ...SAME,
        entitiesRef: shopState(ref, refLoaded.shops),
        entitiesSub: shopState(sub, subLoaded.shops),
      });
      expect(orderState(subLoaded.orders)).toEqual(orderState(refLoaded.orders));
      expect(await sub.rows('purchase_order')).toEqual([
        { id: 1, ref: 'o0', shop_id: 1 },
        { id: 2, ref: 'o1', shop_id: 1 },
        { id: 3, ref: 'o2', shop_id: null },
        { id: 4, ref: 'o3', shop_id: 2 },
      ]);
      await expectClean(sub, subLoaded.shops);
    });
  }

  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}: a new shop holding stored orders gives them its generated key`, async () => {
      const build = async (side: OrmUnderTest) => {
        await seed(side);
        const { orders } = await load(side);
        const shop = side.create('Shop', { name: 'new' });
        addOrder(side, shop, orders[0]);
        addOrder(side, shop, orders[2]);
        return { shop, orders };
      };
      const ref = reference();
      const refBuilt = await build(ref);
      await ref.ormSave([refBuilt.shop]);

      const sub = subject();
      const subBuilt = await build(sub);
      expect(await sub[call]([subBuilt.shop])).toMatchObject({ inserted: 1 });
      await thenFlush(sub);
      await expectSameOutcome(ref, sub, {
        ...SAME,
        entitiesRef: shopState(ref, [refBuilt.shop]),
        entitiesSub: shopState(sub, [subBuilt.shop]),
      });
      expect(orderState(subBuilt.orders)).toEqual(orderState(refBuilt.orders));
      expect((await sub.rows('purchase_order')).map((r) => r.shop_id)).toEqual([3, null, 3, 2]);
      await expectClean(sub, [subBuilt.shop]);
    });
  }

  it('a later batch fails: every table is as before the call, the items included', async () => {
    const sub = subject();
    await seed(sub);
    const loaded = await load(sub);
    change(sub, loaded);
    loaded.shops[1].name = 'x'.repeat(101);
    const before = { shops: await sub.rows('shop'), orders: await sub.rows('purchase_order') };
    const error = await sub.bulkSave(loaded.shops, { batchSize: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkWriteError);
    expect(error).toMatchObject({ index: 1 });
    expect(await sub.rows('shop')).toEqual(before.shops);
    expect(await sub.rows('purchase_order')).toEqual(before.orders);
  });
});
