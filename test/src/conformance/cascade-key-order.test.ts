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
  build(side: OrmUnderTest, storedShops: any[]): { rows: any[]; entities: any[] };
  /** How many stored shops (saved, so managed, by the ORM before the call) the orders are at. */
  readonly storedShops?: number;
  /** A collection reaches a row of a later batch: with batchSize 1 flush's first flush inserts it. */
  readonly crossesBatches: boolean;
}

/**
 * Two new orders, at one new shop when `shop`; per order `lines` new lines, each with a new product
 * when `products`. At stored shops: o0 at the first, o1 at the last; made in the order `made` gives
 * (a shop's `orders` hold them in that order).
 */
function orders(shop: boolean, lines: number, product: 'none' | 'own' | 'shared', made = ['o0', 'o1']): Shape['build'] {
  return (side, storedShops) => {
    const newShop = storedShops.length === 0 && shop ? side.create('Shop', { name: 's' }) : null;
    const shopOf = (ref: string) => (ref === 'o0' ? storedShops[0] : storedShops.at(-1)) ?? newShop;
    const shared = product === 'shared' ? side.create('Product', { name: 'shared' }) : null;
    const entities: any[] = newShop ? [newShop] : [];
    if (shared) entities.push(shared);
    const built = made.map((ref) => {
      const order = side.create('Order', { ref, shop: shopOf(ref) });
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
    const rows = ['o0', 'o1'].map((ref) => built.find((order) => order.ref === ref));
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
  // Flush's cascade goes through a stored shop too (its loaded `orders` hold the rows): MikroORM 7
  // cascades from the identity map's entities first and enters the rows there in the collection's
  // order; MikroORM 6 from the rows, entering o1 through `shop.orders` while at o0. cohort walks
  // through the stored shop as each does.
  {
    name: 'two new orders at a stored shop, two lines each, each line a new product',
    build: orders(true, 2, 'own'),
    crossesBatches: true,
    storedShops: 1,
  },
  // The shop's `orders` hold o1 before o0: MikroORM 7 numbers o1's graph first, 6 too (entered from o0).
  {
    name: 'two new orders at a stored shop whose orders hold them in the other order, two lines each with a new product',
    build: orders(true, 2, 'own', ['o1', 'o0']),
    crossesBatches: true,
    storedShops: 1,
  },
  // o0 at the shop stored second, o1 at the first: MikroORM 7 takes the shops in the identity map's
  // order (o1's graph first), MikroORM 6 the rows' (o0's shop holds o0 alone).
  {
    name: 'two new orders at two stored shops, stored in the other order, two lines each with a new product',
    build: orders(true, 2, 'own'),
    crossesBatches: true,
    storedShops: 2,
  },
];

/** The stored shops of a shape, saved by the ORM itself (in one call: `s0` first). */
async function stored(side: OrmUnderTest, shape: Shape): Promise<any[]> {
  const shops = Array.from({ length: shape.storedShops ?? 0 }, (_, i) => side.create('Shop', { name: `s${i}` }));
  if (shops.length === 0) return shops;
  await side.ormSave(shops);
  side.resetLogs();
  // o0 goes to the first of the list: the shop stored last.
  return shops.reverse();
}

/** Each compared entity as `Class key: identifying value`. */
function keys(entities: any[]): string[] {
  return entities.map((e) => `${e.constructor.name} ${e.id}: ${e.ref ?? e.sku ?? e.name}`);
}

/** The tables the side's statements inserted into (INSERT or COPY), in order. */
function insertedTables(side: OrmUnderTest): string[] {
  return side.sql.flatMap((entry) => {
    const found = /^\s*(?:insert\s+into|copy)\s+(?:"?[\w$]+"?\.)?"?(\w+)"?/i.exec(entry.sql);
    return found ? [found[1] as string] : [];
  });
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
      expect(keys(subGraph.entities)).toEqual(keys(refGraph.entities));
      for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
      // TypeORM's save() fires every before-event of the graph first and groups by table; cohort
      // by class (docs/differences.md, "Cascade inserts: order of events and statements").
      if (ref.orm === 'mikro-orm') {
        expect(entityEvents(sub)).toEqual(entityEvents(ref));
        expect(insertedTables(sub)).toEqual(insertedTables(ref));
      }
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
      const ofOrder = (e: any) => String(e.ref ?? e.sku ?? e.name).slice(0, 2);
      const byOrder = (entities: any[]) =>
        entities
          .filter((e) => e.constructor.name !== 'Shop' && e.name !== 'shared')
          .sort((a, b) => ofOrder(a).localeCompare(ofOrder(b)));
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

// What is on MikroORM's persist stack before the call (em.create persists by default; em.persist)
// is cascaded from too: MikroORM 6 from the stack first (before the rows), 7 from the stored
// entities of its identity map not on the stack, then the stack. TypeORM has no such stack: the
// same calls, compared with save(). MikroORM numbers the rows themselves as they were persisted,
// cohort in input order (docs/differences.md, "Keys of the rows themselves"): the rows' own keys
// are compared on TypeORM only.
interface StackedShape {
  readonly name: string;
  readonly storedShops: number;
  readonly made?: string[];
  /** What MikroORM's persist stack gets before the call, given the rows and the stored shops (o0's first). */
  stackBefore(rows: any[], shops: any[]): any[];
}

const STACKED: StackedShape[] = [
  // Created o1 then o0 (em.create's order): flush cascades from o1 first, and numbers its graph first.
  {
    name: 'one stored shop, the rows on the persist stack as o1, o0',
    storedShops: 1,
    stackBefore: (rows) => [...rows].reverse(),
  },
  // o1's shop (stored first) persisted again before the call: 7 skips it in the identity map and
  // reaches o0 through the other shop first; 6 cascades from it first (o1's graph first).
  { name: 'two stored shops, o1’s shop on the persist stack', storedShops: 2, stackBefore: (_rows, shops) => [shops[1]] },
];

describeConformance('cascade inserts: keys of new items, with entities persisted before the call', ({ subject, reference }) => {
  for (const shape of STACKED) {
    it(`${shape.name}: keys of the new related entities, their rows and create events in order as the ORM's own save`, async () => {
      const build = orders(true, 2, 'own', shape.made);
      const asShape = { name: shape.name, build, crossesBatches: true, storedShops: shape.storedShops };
      const run = async (side: OrmUnderTest, write: (rows: any[]) => Promise<unknown>) => {
        const shops = await stored(side, asShape);
        const graph = build(side, shops);
        if (side.orm === 'mikro-orm') side.native.em?.persist(shape.stackBefore(graph.rows, shops));
        await write(graph.rows);
        return graph;
      };
      const ref = reference();
      const refGraph = await run(ref, (rows) => ref.ormSave(rows));
      const sub = subject();
      const subGraph = await run(sub, (rows) => sub.bulkInsert(rows));
      const compared = (entities: any[]) =>
        sub.orm === 'mikro-orm' ? entities.filter((e) => e.constructor.name !== 'Order') : entities;
      expect(keys(compared(subGraph.entities))).toEqual(keys(compared(refGraph.entities)));
      for (const table of ['shop', 'product']) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
      // A line's order by its ref (the orders' keys may differ, above).
      const lines = (graph: { entities: any[] }) =>
        graph.entities
          .filter((e) => e.constructor.name === 'OrderLine')
          .map((e) => `${e.id} ${e.sku} ${e.order.ref} ${e.product.id}`);
      expect(lines(subGraph)).toEqual(lines(refGraph));
      if (sub.orm === 'mikro-orm') {
        const related = (side: OrmUnderTest) => entityEvents(side).filter((event) => !/ Order /.test(event));
        expect(related(sub)).toEqual(related(ref));
      }
    });
  }
});
