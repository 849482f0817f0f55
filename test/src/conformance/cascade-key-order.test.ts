// The generated keys of new related entities inserted with the rows (cascade inserts): which item
// gets which key, in which order the items are inserted and hooked. TypeORM's save() numbers a
// class's new items in the order the rows reach them; MikroORM's flush in the order it computes
// their change sets — its persist stack (the rows, then what their cascades reach, depth first,
// entering a row reached through a collection: `shop.orders` holds the next order), each entity
// after the new entities its to-ones refer to (docs/guide.md, "Order of new related entities").
// Two new orders at one new shop, a new line each: flush reaches o1 through `shop.orders` while it
// walks o0 and inserts o1's line first. cohort does what each ORM does: compared with the ORM's own
// save, keys per object, rows of every table, and (MikroORM) the hook log in order.
// Batches: flush has no batches. With `batchSize`, cohort orders each batch's graph as a flush of
// that batch's rows; a row of a later batch that a collection reaches (`shop.orders`) is left to
// its own batch, where flush would insert it, and what it cascades to, with the first rows
// (docs/differences.md, "Cascade inserts: keys of new items, in batches").
import { expect, it } from 'vitest';
import { describeConformance, FLUSH_EVENTS, type OrmUnderTest } from '../harness/conformance.js';
import { mikroOrmMajor } from '../harness/mikro-orm-major.js';

const TABLES = ['shop', 'purchase_order', 'order_line', 'product'];

/** Sets an order's lines, each line referring to the order (a TypeORM array, a MikroORM collection). */
function setLines(side: OrmUnderTest, order: any, lines: any[]): void {
  for (const line of lines) line.order = order;
  if (side.orm === 'mikro-orm') order.lines.set(lines);
  else order.lines = lines;
}

interface Shape {
  readonly name: string;
  /** The input rows, and every entity whose key is compared. */
  build(side: OrmUnderTest, storedShop?: any): { rows: any[]; entities: any[] };
  /** The orders' shop is stored (saved, so managed, by the ORM before the call). */
  readonly storedShop?: boolean;
  /** A collection reaches a row of a later batch: with batchSize 1 flush's first flush inserts it. */
  readonly crossesBatches: boolean;
}

/** Two new orders, at one new shop when `shop`; per order `lines` new lines, each with a new product when `products`. */
function orders(shop: boolean, lines: number, product: 'none' | 'own' | 'shared'): Shape['build'] {
  return (side, storedShop) => {
    const theShop = storedShop ?? (shop ? side.create('Shop', { name: 's' }) : null);
    const shared = product === 'shared' ? side.create('Product', { name: 'shared' }) : null;
    const entities: any[] = theShop && !storedShop ? [theShop] : [];
    if (shared) entities.push(shared);
    const rows = ['o0', 'o1'].map((ref) => {
      const order = side.create('Order', { ref, shop: theShop });
      const items = Array.from({ length: lines }, (_, i) =>
        side.create('OrderLine', {
          sku: `${ref}-l${i}`,
          qty: i + 1,
          product: product === 'own' ? side.create('Product', { name: `${ref}-p${i}` }) : shared,
        }),
      );
      setLines(side, order, items);
      entities.push(order, ...items, ...items.map((item) => item.product).filter((p) => p && p !== shared));
      return order;
    });
    return { rows, entities };
  };
}

const SHAPES: Shape[] = [
  { name: 'two new orders, a new line each', build: orders(false, 1, 'none'), crossesBatches: false },
  // o1 is reached twice: as a row, and through `shop.orders` while the walk is at o0.
  {
    name: 'two new orders at one new shop (a row reached through its collection), a new line each',
    build: orders(true, 1, 'none'),
    crossesBatches: true,
  },
  {
    name: 'deeper: two orders at one new shop, two lines each, each line a new product',
    build: orders(true, 2, 'own'),
    crossesBatches: true,
  },
  {
    name: 'a to-one reached from two rows: the lines of both orders share one new product',
    build: orders(false, 2, 'shared'),
    crossesBatches: false,
  },
  { name: 'a shared product and a shared shop', build: orders(true, 2, 'shared'), crossesBatches: true },
  // Flush's cascade goes through the stored shop too (its loaded `orders` hold both rows): MikroORM 7
  // cascades from the identity map's entities first and enters o0, then o1, there — the rows' order;
  // MikroORM 6 enters o1 there while at o0 — a known difference (docs/differences.md).
  {
    name: 'two new orders at a stored shop, two lines each, each line a new product',
    build: orders(true, 2, 'own'),
    crossesBatches: true,
    storedShop: true,
  },
];

/** The stored shop of a shape that has one, saved by the ORM itself. */
async function stored(side: OrmUnderTest, shape: Shape): Promise<any> {
  if (!shape.storedShop) return undefined;
  const shop = side.create('Shop', { name: 's' });
  await side.ormSave([shop]);
  side.resetLogs();
  return shop;
}

/** Each compared entity as `Class key: identifying value`. */
function keys(entities: any[]): string[] {
  return entities.map((e) => `${e.constructor.name} ${e.id}: ${e.ref ?? e.sku ?? e.name}`);
}

/** The entity events of the side's hook log, in order, as `event Class key`. */
function entityEvents(side: OrmUnderTest): string[] {
  return side.hooks
    .filter((h) => h.entity !== null && h.event !== 'afterLoad' && !FLUSH_EVENTS.includes(h.event))
    .map((h) => `${h.source} ${h.event} ${h.entity} ${h.key}`);
}

describeConformance('cascade inserts: keys of new items', ({ subject, reference }) => {
  for (const shape of SHAPES) {
    it(`${shape.name}: keys per object, rows of every table and (MikroORM) the hook log in order as the ORM's own save`, async () => {
      const ref = reference();
      const refGraph = shape.build(ref, await stored(ref, shape));
      await ref.ormSave(refGraph.rows);
      const sub = subject();
      const subGraph = shape.build(sub, await stored(sub, shape));
      await sub.bulkInsert(subGraph.rows);
      if (shape.storedShop && ref.orm === 'mikro-orm' && mikroOrmMajor === 6) {
        // Known difference: flush 6 numbers o1's graph first, cohort o0's; the same data otherwise.
        const data = (list: string[]) => [...list].map((k) => k.replace(/ \d+:/, ':')).sort();
        expect(data(keys(subGraph.entities))).toEqual(data(keys(refGraph.entities)));
        const first = (entities: any[]) => entities.find((e) => e.id === 1 && e.constructor.name === 'OrderLine')?.sku;
        expect([first(subGraph.entities), first(refGraph.entities)]).toEqual(['o0-l0', 'o1-l0']);
        return;
      }
      expect(keys(subGraph.entities)).toEqual(keys(refGraph.entities));
      for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
      // TypeORM's save() fires every before-event of the graph first and groups by table; cohort
      // by class (docs/differences.md, "Cascade inserts: order of events and statements").
      if (ref.orm === 'mikro-orm') expect(entityEvents(sub)).toEqual(entityEvents(ref));
    });

    it(`${shape.name}, batchSize 1: ${shape.crossesBatches ? "per batch; a row a collection reaches goes in with its own batch, where flush's first flush takes it" : 'as the ORM’s own save per batch'}`, async () => {
      const ref = reference();
      const refGraph = shape.build(ref, await stored(ref, shape));
      for (const row of refGraph.rows) await ref.ormSave([row]);
      const sub = subject();
      const subGraph = shape.build(sub, await stored(sub, shape));
      await sub.bulkInsert(subGraph.rows, { batchSize: 1 });
      if (!shape.crossesBatches || ref.orm === 'typeorm') {
        expect(keys(subGraph.entities)).toEqual(keys(refGraph.entities));
        for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
        if (ref.orm === 'mikro-orm') expect(entityEvents(sub)).toEqual(entityEvents(ref));
        return;
      }
      // MikroORM: the first flush reaches o1 through `shop.orders` and inserts it and its items
      // with o0; cohort's first batch is o0's graph, the second o1's: every key of o0's graph first.
      const byOrder = (entities: any[]) => entities.filter((e) => e.constructor.name !== 'Shop' && e.name !== 'shared');
      const sorted = (list: string[]) => [...list].sort((a, b) => a.localeCompare(b));
      expect(sorted(keys(subGraph.entities).map((k) => k.replace(/ \d+:/, ':')))).toEqual(
        sorted(keys(refGraph.entities).map((k) => k.replace(/ \d+:/, ':'))),
      );
      const o0First = byOrder(subGraph.entities);
      const idsOf = (name: string) => o0First.filter((e) => e.constructor.name === name).map((e) => e.id);
      for (const name of ['Order', 'OrderLine', 'Product']) {
        const ids = idsOf(name);
        expect(ids, name).toEqual([...ids].sort((a, b) => a - b));
      }
      expect(await sub.rows('shop')).toEqual(await ref.rows('shop'));
    });
  }
});
