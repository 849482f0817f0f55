// The rows' own keys, where flush numbers them otherwise (docs/differences.md, MikroORM, "Keys of the rows
// themselves"): flush inserts a class's new entities in the order of its persist stack, so a row
// persisted before the call — `em.persist(row)`, and on MikroORM 7 `collection.add(row)` on a loaded
// one-to-many, which persists what it adds — gets its key before the rows given before it. cohort
// numbers a batch's rows in input order, as every bulk insert does; what the rows reach (their new
// items and the items' new cities) gets flush's keys, and every table holds the same rows by name.
import { bulkInsert, bulkSave } from '@cohort/mikro-orm';
import { Collection } from '@mikro-orm/core';
import { Entity, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mikroOrmMajor } from '../harness/mikro-orm-major.js';
import { type OwnMikroOrmPair, ownMikroOrmPair, withForcedStrategy } from '../harness/own-mikro-orm-pair.js';

@Entity({ tableName: 'rko_city' })
class RkoCity {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
}

@Entity({ tableName: 'rko_customer' })
class RkoCustomer {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @OneToMany(
    () => RkoOrder,
    (order) => order.customer,
  )
  orders = new Collection<RkoOrder>(this);
}

@Entity({ tableName: 'rko_order' })
class RkoOrder {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @ManyToOne(() => RkoCustomer, { nullable: true }) customer?: RkoCustomer | null;
  @OneToMany(
    () => RkoItem,
    (item) => item.order,
  )
  items = new Collection<RkoItem>(this);
}

@Entity({ tableName: 'rko_item' })
class RkoItem {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @ManyToOne(() => RkoOrder, { nullable: true }) order?: RkoOrder | null;
  @ManyToOne(() => RkoCity, { nullable: true }) origin?: RkoCity | null;
}

const TABLES = ['rko_item', 'rko_order', 'rko_customer', 'rko_city'];
const labelOf = (e: object) => `${e.constructor.name}:${(e as { name?: string }).name}`;

let pair: OwnMikroOrmPair;
beforeAll(async () => {
  pair = await ownMikroOrmPair('rows_key_order', { entities: [RkoCity, RkoCustomer, RkoOrder, RkoItem] }, labelOf);
});
beforeEach(() => pair.reset(TABLES));
afterAll(() => pair?.close());

/** A stored customer with two stored orders, loaded with them; two new orders at it, each with a new item from a new city. */
async function build(em: EntityManager, before: 'add' | 'persist'): Promise<RkoOrder[]> {
  const seeding = em.fork();
  const customer = seeding.create(RkoCustomer, { name: 'c' });
  seeding.create(RkoOrder, { name: 's1', customer });
  seeding.create(RkoOrder, { name: 's2', customer });
  await seeding.flush();
  const loaded = await em.findOneOrFail(RkoCustomer, { name: 'c' }, { populate: ['orders'] });
  const made = ['oa', 'ob'].map((name) => {
    const order = Object.assign(new RkoOrder(), { name, customer: loaded });
    order.items.add(
      Object.assign(new RkoItem(), { name: `i${name}`, origin: Object.assign(new RkoCity(), { name: `c${name}` }) }),
    );
    return order;
  });
  const ob = made[1] as RkoOrder;
  // The second row is persisted before the call (the many-to-one setter has put both into the
  // loaded collection already; adding one again persists it on 7).
  if (before === 'add') loaded.orders.add(ob);
  else em.persist(ob);
  return made;
}

const keyOf = (entities: { name: string; id: number }[]) => Object.fromEntries(entities.map((e) => [e.name, e.id]));
const reached = (rows: RkoOrder[]) => {
  const items = rows.flatMap((order) => order.items.getItems());
  return { items: keyOf(items), cities: keyOf(items.map((item) => item.origin as RkoCity)) };
};

describe("the rows' own keys: input order, where flush numbers a row persisted before the call first", () => {
  for (const call of [bulkInsert, bulkSave]) {
    for (const before of ['add', 'persist'] as const) {
      it(`${call.name}, the second row ${before === 'add' ? "added again to the stored customer's loaded orders" : 'persisted'} before the call`, async () => {
        const refEm = pair.reference.orm.em.fork() as EntityManager;
        const refRows = await build(refEm, before);
        refEm.persist(refRows);
        await refEm.flush();
        const subEm = pair.subject.orm.em.fork() as EntityManager;
        const subRows = await build(subEm, before);
        await call(subEm, RkoOrder, subRows, withForcedStrategy({}));

        // cohort: oa before ob, as given. Flush: ob first where it was on the persist stack before
        // the rows (em.persist on both majors; a collection's add() persists on 7 only).
        expect(keyOf(subRows)).toEqual({ oa: 3, ob: 4 });
        const stackedFirst = before === 'persist' || mikroOrmMajor >= 7;
        expect(keyOf(refRows)).toEqual(stackedFirst ? { oa: 4, ob: 3 } : { oa: 3, ob: 4 });
        // What the rows reach gets flush's keys; each table holds the same rows by name.
        expect(reached(subRows)).toEqual(reached(refRows));
        const byName = async (side: typeof pair.subject, table: string) =>
          (await side.rows(table)).map(({ id, ...rest }) => rest).sort((a, b) => String(a.name).localeCompare(String(b.name)));
        for (const table of ['rko_customer', 'rko_city']) {
          expect(await byName(pair.subject, table), table).toEqual(await byName(pair.reference, table));
        }
        const orderOf = async (side: typeof pair.subject) => {
          const orders = new Map((await side.rows('rko_order')).map((row) => [row.id, row.name]));
          return (await side.rows('rko_item')).map((row) => `${row.name} ${orders.get(row.order_id)}`).sort();
        };
        expect(await orderOf(pair.subject)).toEqual(await orderOf(pair.reference));
        // Nothing left for a following flush.
        await subEm.flush();
        expect(keyOf(subRows)).toEqual({ oa: 3, ob: 4 });
      });
    }
  }
});
