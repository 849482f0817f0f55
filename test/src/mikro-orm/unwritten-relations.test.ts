// Relations cohort does not write yet, MikroORM (SPEC §8): what flush writes through a collection or
// an inverse side — the foreign key of items
// added to or removed from a one-to-many, of the owner on an inverse one-to-one — is refused with an
// UnsupportedFeatureError naming the class, the property and the row, and nothing is written. What
// flush leaves alone (an empty collection, even a dirty one; a loaded collection whose items did
// not change; any collection in an upsert) is not refused. Many-to-many links to stored entities are
// written (test/src/conformance/many-to-many.test.ts), and so are new items of a one-to-many
// (test/src/conformance/cascade-inserts.test.ts); the pins here show them written.
import { bulkInsert, bulkSave, bulkUpdate, bulkUpsert, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { Collection } from '@mikro-orm/core';
import { Entity, ManyToMany, ManyToOne, OneToMany, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'customer' })
class Customer {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToMany(
    () => Order,
    (order) => order.customer,
  )
  orders = new Collection<Order>(this);
  @OneToOne(
    () => Card,
    (card) => card.customer,
    { nullable: true },
  )
  card?: Card | null;
}

@Entity({ tableName: 'orders' })
class Order {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) label!: string;
  @ManyToOne(() => Customer, { nullable: true }) customer?: Customer | null;
  @OneToMany(
    () => OrderItem,
    (item) => item.order,
  )
  items = new Collection<OrderItem>(this);
}

@Entity({ tableName: 'order_item' })
class OrderItem {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) sku!: string;
  @ManyToOne(() => Order, { nullable: true }) order?: Order | null;
}

@Entity({ tableName: 'card' })
class Card {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) number!: string;
  @OneToOne(() => Customer, { owner: true, nullable: true }) customer?: Customer | null;
}

@Entity({ tableName: 'tag' })
class Tag {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40, unique: true }) name!: string;
}

@Entity({ tableName: 'product' })
class Product {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40, unique: true }) name!: string;
  @Property({ type: 'integer', default: 0 }) stock?: number;
  @ManyToMany(() => Tag) tags = new Collection<Tag>(this);
}

const TABLES = ['customer', 'orders', 'order_item', 'card', 'tag', 'product', 'product_tags'];

let own: OwnMikroOrm | undefined;
let schema: string;
beforeAll(async () => {
  own = await ownMikroOrm('mrel', { entities: [Customer, Order, OrderItem, Card, Tag, Product] });
  schema = own.schema;
});
afterAll(async () => {
  await own?.close();
});
beforeEach(async () => {
  await fork().execute(`truncate ${TABLES.map((t) => `"${schema}"."${t}"`).join(', ')} restart identity cascade`);
});

const fork = (): EntityManager => (own as OwnMikroOrm).orm.em.fork() as EntityManager;
const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const query = (sql: string) => fork().execute(sql.replaceAll('$s', `"${schema}"`));
/** Every table's rows, to show a refused call left them as they were. */
const everything = async () => {
  const all: Record<string, unknown[]> = {};
  for (const table of TABLES) all[table] = await query(`select * from $s."${table}" order by 1, 2`);
  return all;
};
/** Saves with the ORM's own persist + flush on a fresh EntityManager. */
const flushed = async <T extends object>(entities: T[]): Promise<T[]> => {
  const em = fork();
  em.persist(entities);
  await em.flush();
  return entities;
};
async function expectRefused(call: Promise<unknown>, feature: string, entityName: string, property: string, index: number) {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject({ name: 'UnsupportedFeatureError', feature, entityName, property, index });
  expect((error as Error).message).toContain(`${entityName}.${property} at row ${index}`);
}
const withItems = (label: string, skus: string[]) => {
  const order = make(Order, { label });
  for (const sku of skus) order.items.add(make(OrderItem, { sku }));
  return order;
};

describe('what flush writes through a collection is refused, nothing written', () => {
  it('new items of a collection: flush inserts them, and so do bulkInsert and bulkSave now (cascade inserts)', async () => {
    const orders = () => [withItems('no items', []), withItems('two items', ['a', 'b'])];
    await flushed(orders());
    const theirs = await everything();
    expect(
      await query('select o.label, i.sku from $s.order_item i join $s.orders o on o.id = i.order_id order by i.sku'),
    ).toEqual([
      { label: 'two items', sku: 'a' },
      { label: 'two items', sku: 'b' },
    ]);
    for (const call of [bulkInsert, bulkSave]) {
      await query('truncate $s.orders, $s.order_item restart identity cascade');
      const em = fork();
      const written = orders();
      expect(await call(em, Order, written)).toMatchObject({ inserted: 2, byEntity: { OrderItem: { inserted: 2 } } });
      expect(await everything()).toEqual(theirs);
      expect(written[1]?.items.getItems().map((item) => item.id)).toEqual([1, 2]);
    }
  });

  it('many-to-many links are written now (not refused): bulkInsert writes the junction rows flush writes, a new tag inserted first', async () => {
    const [red] = await flushed([make(Tag, { name: 'red' })]);
    const products = (extra?: Tag) => {
      const linked = make(Product, { name: 'p1' });
      linked.tags.add(red as Tag);
      if (extra) linked.tags.add(extra);
      return [make(Product, { name: 'p0' }), linked];
    };
    await flushed(products());
    const theirs = await everything();
    expect(theirs.product_tags).toEqual([{ product_id: 2, tag_id: 1 }]);
    await query('truncate $s.product, $s.product_tags restart identity cascade');

    await bulkInsert(fork(), Product, products());
    expect(await everything()).toEqual(theirs);
    await query('truncate $s.product, $s.product_tags restart identity cascade');
    // flush inserts the new tag first (cascade), then the links: so does bulkInsert.
    const result = await bulkInsert(fork(), Product, products(make(Tag, { name: 'new' })));
    expect(result.byEntity).toMatchObject({ Product: { inserted: 2 }, Tag: { inserted: 1 } });
    const written = await everything();
    expect(written.product_tags).toEqual([
      { product_id: 2, tag_id: 1 },
      { product_id: 2, tag_id: 2 },
    ]);
  });

  it('many-to-many links flush writes whole or as upserts: a collection not loaded, or replaced before it was loaded, is refused', async () => {
    const [red, blue] = await flushed([make(Tag, { name: 'red' }), make(Tag, { name: 'blue' })]);
    const product = make(Product, { name: 'p0' });
    product.tags.add(red as Tag);
    await flushed([product]);
    const before = await everything();

    // Not loaded: flush upserts the added links (ON CONFLICT DO NOTHING).
    const em = fork();
    const [notLoaded] = await em.find(Product, {});
    expect(notLoaded?.tags.isInitialized()).toBe(false);
    notLoaded?.tags.add(em.getReference(Tag, (blue as Tag).id));
    await expectRefused(bulkUpdate(em, Product, [notLoaded as Product]), 'many-to-many link', 'Product', 'tags', 0);

    // Replaced before it was loaded: flush deletes every stored link, then inserts the new ones.
    const other = fork();
    const [replaced] = await other.find(Product, {});
    replaced?.tags.set([other.getReference(Tag, (blue as Tag).id)]);
    await expectRefused(bulkUpdate(other, Product, [replaced as Product]), 'many-to-many link', 'Product', 'tags', 0);
    expect(await everything()).toEqual(before);
  });

  it("an array assigned in place of a many-to-many collection: refused, the advice naming the collection's set()", async () => {
    const [red] = await flushed([make(Tag, { name: 'red' })]);
    const before = await everything();
    const product = make(Product, { name: 'p0' });
    // What plain JavaScript (or a cast) lets through: flush would make it a collection of its items.
    (product as unknown as { tags: Tag[] }).tags = [red as Tag];
    const error = await bulkInsert(fork(), Product, [product]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'many-to-many link', entityName: 'Product', property: 'tags', index: 0 });
    expect((error as Error).message).toMatch(/tags\.set\(\[\.\.\.\]\)/);
    expect((error as Error).message).not.toMatch(/owning side/);
    expect(await everything()).toEqual(before);
  });

  it("the inverse side of a one-to-many: flush sets the order's foreign key; bulkInsert refuses Customer.orders", async () => {
    const customer = (order: Order) => {
      const one = make(Customer, { name: 'c1' });
      one.orders.add(order);
      return one;
    };
    const [theirs] = await flushed([make(Order, { label: 'o1' })]);
    await flushed([customer(theirs as Order)]);
    expect(await query('select label, customer_id from $s.orders')).toEqual([{ label: 'o1', customer_id: 1 }]);
    await query('truncate $s.orders, $s.customer restart identity cascade');

    const [mine] = await flushed([make(Order, { label: 'o1' })]);
    const before = await everything();
    await expectRefused(bulkInsert(fork(), Customer, [customer(mine as Order)]), 'inverse side', 'Customer', 'orders', 0);
    expect(await everything()).toEqual(before);
  });

  it("the inverse side of a one-to-one: flush sets the card's foreign key; bulkInsert refuses Customer.card", async () => {
    const [theirs] = await flushed([make(Card, { number: '4242' })]);
    await flushed([make(Customer, { name: 'c1', card: theirs as Card })]);
    expect(await query('select number, customer_id from $s.card')).toEqual([{ number: '4242', customer_id: 1 }]);
    await query('truncate $s.card, $s.customer restart identity cascade');

    const [mine] = await flushed([make(Card, { number: '4242' })]);
    const before = await everything();
    await expectRefused(
      bulkInsert(fork(), Customer, [make(Customer, { name: 'c1', card: mine as Card })]),
      'inverse side',
      'Customer',
      'card',
      0,
    );
    expect(await everything()).toEqual(before);
  });

  it('a loaded collection that changed: a link added is written, an item removed is left to the next flush, as flush writes both', async () => {
    const [red, blue] = await flushed([make(Tag, { name: 'red' }), make(Tag, { name: 'blue' })]);
    const product = make(Product, { name: 'p0' });
    product.tags.add(red as Tag);
    await flushed([product, withItems('o0', ['a', 'b'])]);
    const load = async (em: EntityManager) => ({
      products: await em.find(Product, {}, { populate: ['tags'], orderBy: { id: 'asc' } }),
      orders: await em.find(Order, {}, { populate: ['items'], orderBy: { id: 'asc' } }),
    });

    // flush writes both changes…
    const theirs = fork();
    const loaded = await load(theirs);
    loaded.products[0]?.tags.add(await theirs.findOneOrFail(Tag, (blue as Tag).id));
    loaded.orders[0]?.items.remove((loaded.orders[0] as Order).items.getItems()[1] as OrderItem);
    await theirs.flush();
    expect(await query('select tag_id from $s.product_tags order by 1')).toEqual([{ tag_id: 1 }, { tag_id: 2 }]);
    expect(await query('select sku, order_id from $s.order_item order by sku')).toEqual([
      { sku: 'a', order_id: 1 },
      { sku: 'b', order_id: null },
    ]);
    await query('delete from $s.product_tags where tag_id = 2');
    await query('update $s.order_item set order_id = 1');

    // …cohort writes the link (many-to-many links are written); the item removed from the one-to-many
    // (its inverse side) had its `order` cleared by remove(): a changed managed entity, which the call
    // leaves pending and the next flush writes (test/src/conformance/inverse-side.test.ts,
    // test/src/mikro-orm/inverse-side.test.ts).
    const em = fork();
    const mine = await load(em);
    mine.products[0]?.tags.add(await em.findOneOrFail(Tag, (blue as Tag).id));
    await bulkUpdate(em, Product, mine.products);
    expect(await query('select tag_id from $s.product_tags order by 1')).toEqual([{ tag_id: 1 }, { tag_id: 2 }]);
    (mine.orders[0] as Order).label = 'renamed';
    mine.orders[0]?.items.remove((mine.orders[0] as Order).items.getItems()[1] as OrderItem);
    await bulkUpdate(em, Order, mine.orders);
    expect(await query('select label from $s.orders')).toEqual([{ label: 'renamed' }]);
    const items = 'select sku, order_id from $s.order_item order by sku';
    expect(await query(items)).toEqual([
      { sku: 'a', order_id: 1 },
      { sku: 'b', order_id: 1 },
    ]);
    await em.flush();
    expect(await query(items)).toEqual([
      { sku: 'a', order_id: 1 },
      { sku: 'b', order_id: null },
    ]);
  });
});

describe('what flush leaves alone is not refused', () => {
  it('empty collections, also dirty ones (em.create with []): the rows flush writes', async () => {
    const build = (em: EntityManager) => [
      em.create(Product, { name: 'created with no tags', tags: [] }),
      make(Product, { name: 'new with an empty collection' }),
    ];
    await flushed(build(fork()));
    const theirs = await everything();
    await query(`truncate ${TABLES.map((t) => `$s."${t}"`).join(', ')} restart identity cascade`);

    const em = fork();
    const products = build(em);
    expect(products[0]?.tags.isDirty()).toBe(true);
    await bulkInsert(em, Product, products);
    expect(await everything()).toEqual(theirs);
  });

  it('loaded collections whose items did not change: bulkUpdate and bulkSave write the columns, as flush does', async () => {
    const [red] = await flushed([make(Tag, { name: 'red' })]);
    const product = make(Product, { name: 'p0' });
    product.tags.add(red as Tag);
    const [customer] = await flushed([make(Customer, { name: 'c0' })]);
    const order = withItems('o0', ['a']);
    order.customer = customer as Customer;
    await flushed([product, make(Product, { name: 'p1' }), order, make(Card, { number: '4242', customer })]);

    const em = fork();
    const products = await em.find(Product, {}, { populate: ['tags'], orderBy: { id: 'asc' } });
    const orders = await em.find(Order, {}, { populate: ['items', 'customer'], orderBy: { id: 'asc' } });
    const customers = await em.find(Customer, {}, { populate: ['orders', 'card'] });
    for (const one of products) one.name = `${one.name}!`;
    for (const one of orders) one.label = `${one.label}!`;
    for (const one of customers) one.name = `${one.name}!`;

    expect(await bulkUpdate(em, Product, products)).toMatchObject({ updated: 2 });
    expect(await bulkUpdate(em, Order, orders)).toMatchObject({ updated: 1 });
    expect(await bulkUpdate(em, Customer, customers)).toMatchObject({ updated: 1 });
    (products[0] as Product).name = 'p0 again';
    const result = await bulkSave(em, Product, [...products, em.create(Product, { name: 'p2', tags: [] })]);
    expect(result).toMatchObject({ inserted: 1, updated: 1, unchanged: 1 });
    expect(await query('select name from $s.product order by id')).toEqual([
      { name: 'p0 again' },
      { name: 'p1!' },
      { name: 'p2' },
    ]);
    expect(await query('select product_id, tag_id from $s.product_tags')).toEqual([{ product_id: 1, tag_id: 1 }]);
    expect(await query('select label, customer_id from $s.orders')).toEqual([{ label: 'o0!', customer_id: 1 }]);
    expect(await query('select sku, order_id from $s.order_item')).toEqual([{ sku: 'a', order_id: 1 }]);
    expect(await query('select number, customer_id from $s.card')).toEqual([{ number: '4242', customer_id: 1 }]);
  });

  it("collections in an upsert: em.upsert writes only the row's columns, and so does bulkUpsert", async () => {
    const [red] = await flushed([make(Tag, { name: 'red' })]);
    const build = () => {
      const product = make(Product, { name: 'p0', stock: 1 });
      product.tags.add(red as Tag);
      return product;
    };
    await fork().upsert(Product, build(), { onConflictFields: ['name'] });
    const theirs = await everything();
    expect(theirs.product_tags).toEqual([]);
    await query('truncate $s.product, $s.product_tags restart identity cascade');

    await bulkUpsert(fork(), Product, [build()], { target: ['name'] });
    expect(await everything()).toEqual(theirs);
  });
});
