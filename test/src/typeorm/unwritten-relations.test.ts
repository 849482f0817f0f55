// Relations cohort does not write yet, TypeORM (SPEC §8): what save() writes through a collection or
// an inverse side — cascaded children, the foreign key of rows added to a one-to-many that cascades
// updates or an inverse one-to-one — is refused with an UnsupportedFeatureError naming the
// class, the property and the row, and nothing is written. What save() leaves alone (an empty array
// on a new entity, new entities in a relation without cascade, a loaded relation that did not
// change, any collection in an upsert) is not refused. Many-to-many links to stored entities are
// written (test/src/conformance/many-to-many.test.ts); the pins here show them written.
import { createSchema } from '@cohort/pg-harness';
import { bulkInsert, bulkSave, bulkUpdate, bulkUpsert, UnsupportedFeatureError } from '@cohort/typeorm';
import {
  Column,
  DataSource,
  Entity,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  OneToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('customer')
class Customer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @OneToMany(
    () => Order,
    (order) => order.customer,
  )
  orders?: Order[];
  @OneToOne(
    () => Card,
    (card) => card.customer,
  )
  card?: Card | null;
}

@Entity('orders')
class Order {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
  @ManyToOne(
    () => Customer,
    (customer) => customer.orders,
    { nullable: true },
  )
  customer?: Customer | null;
  @OneToMany(
    () => OrderItem,
    (item) => item.order,
    { cascade: true },
  )
  items?: OrderItem[];
}

@Entity('order_item')
class OrderItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(
    () => Order,
    (order) => order.items,
    { nullable: true },
  )
  order?: Order | null;
}

@Entity('card')
class Card {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) number!: string;
  @OneToOne(
    () => Customer,
    (customer) => customer.card,
    { nullable: true },
  )
  @JoinColumn({ name: 'customer_id' })
  customer?: Customer | null;
}

@Entity('tag')
class Tag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40, unique: true }) name!: string;
}

@Entity('product')
class Product {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40, unique: true }) name!: string;
  @Column({ type: 'integer', default: 0 }) stock!: number;
  @ManyToMany(() => Tag)
  @JoinTable({ name: 'product_tag' })
  tags?: Tag[];
}

/** A many-to-many whose junction references the tag's name, not its key: cohort does not write its links. */
@Entity('bundle')
class Bundle {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToMany(() => Tag)
  @JoinTable({ name: 'bundle_tag', inverseJoinColumn: { name: 'tag_name', referencedColumnName: 'name' } })
  tags?: Tag[];
}

/** A many-to-one that cascades inserts. */
@Entity('shipment')
class Shipment {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) ref!: string;
  @ManyToOne(() => Customer, { nullable: true, cascade: ['insert'] }) customer?: Customer | null;
}

const TABLES = ['customer', 'orders', 'order_item', 'card', 'tag', 'product', 'product_tag', 'shipment', 'bundle', 'bundle_tag'];

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'urel');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Customer, Order, OrderItem, Card, Tag, Product, Shipment, Bundle],
    synchronize: true,
    // Raw queries below name the tables without their schema.
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query(`TRUNCATE ${TABLES.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`);
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
/** Every table's rows, to show a refused call left them as they were. */
const everything = async () => {
  const all: Record<string, unknown[]> = {};
  for (const table of TABLES) all[table] = await ds.query(`SELECT * FROM "${table}" ORDER BY 1, 2`);
  return all;
};
/** The error a call failed with (undefined when it succeeded). */
const failure = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (e: unknown) => e,
  );
const refused = (feature: string, entityName: string, property: string, index: number) => [
  expect.any(UnsupportedFeatureError),
  expect.objectContaining({
    name: 'UnsupportedFeatureError',
    feature,
    entityName,
    property,
    index,
    message: expect.stringContaining(`${entityName}.${property} at row ${index}`),
  }),
];
async function expectRefused(call: Promise<unknown>, feature: string, entityName: string, property: string, index: number) {
  const error = await failure(call);
  const [instance, shape] = refused(feature, entityName, property, index);
  expect(error).toEqual(instance);
  expect(error).toEqual(shape);
}

describe('what save() writes through a collection is refused, nothing written', () => {
  it("cascaded children without their own reference: inserted with the order's key by bulkInsert and bulkSave, as save() (item.order left unset)", async () => {
    const orders = () => [
      make(Order, { label: 'no items', items: [] }),
      make(Order, { label: 'two items', items: [make(OrderItem, { sku: 'a' }), make(OrderItem, { sku: 'b' })] }),
    ];
    const saved = orders();
    await ds.manager.save(saved);
    for (const item of saved[1]?.items ?? []) expect(item.order).toBeUndefined();
    expect(await ds.query('SELECT o.label, i.sku FROM order_item i JOIN orders o ON o.id = i."orderId" ORDER BY i.sku')).toEqual([
      { label: 'two items', sku: 'a' },
      { label: 'two items', sku: 'b' },
    ]);
    await ds.query('TRUNCATE orders, order_item RESTART IDENTITY CASCADE');

    for (const call of [bulkInsert, bulkSave]) {
      const given = orders();
      const result = await call(ds, Order, given);
      expect(result).toMatchObject({ inserted: 2, byEntity: { OrderItem: { inserted: 2 } } });
      expect(
        await ds.query('SELECT o.label, i.sku FROM order_item i JOIN orders o ON o.id = i."orderId" ORDER BY i.sku'),
      ).toEqual([
        { label: 'two items', sku: 'a' },
        { label: 'two items', sku: 'b' },
      ]);
      for (const item of given[1]?.items ?? []) {
        expect(item.id).toEqual(expect.any(Number));
        expect(item.order).toBeUndefined();
      }
      await ds.query('TRUNCATE orders, order_item RESTART IDENTITY CASCADE');
    }
  });

  it('many-to-many links are written now (not refused): bulkInsert writes the junction rows save() writes', async () => {
    const [red] = await ds.manager.save([make(Tag, { name: 'red' })]);
    // A new tag in a relation without cascade: save() skips it, and so does cohort.
    const products = () => [
      make(Product, { name: 'p0' }),
      make(Product, { name: 'p1', tags: [red as Tag, make(Tag, { name: 'new' })] }),
    ];
    await ds.manager.save(products());
    const own = await everything();
    expect(own.product_tag).toEqual([{ productId: 2, tagId: 1 }]);
    await ds.query('TRUNCATE product, product_tag RESTART IDENTITY CASCADE');

    await bulkInsert(ds, Product, products());
    expect(await everything()).toEqual(own);
  });

  it('many-to-many links through a junction column that references another column than the key: still refused', async () => {
    const [red] = await ds.manager.save([make(Tag, { name: 'red' })]);
    await ds.manager.save(make(Bundle, { name: 'b1', tags: [red as Tag] }));
    expect(await ds.query('SELECT "bundleId", tag_name FROM bundle_tag')).toEqual([{ bundleId: 1, tag_name: 'red' }]);
    await ds.query('TRUNCATE bundle, bundle_tag RESTART IDENTITY CASCADE');

    const before = await everything();
    const bundles = [make(Bundle, { name: 'b0' }), make(Bundle, { name: 'b1', tags: [red as Tag] })];
    await expectRefused(bulkInsert(ds, Bundle, bundles), 'many-to-many link', 'Bundle', 'tags', 1);
    expect(await everything()).toEqual(before);
  });

  it("the inverse side of a one-to-many: save() sets the stored order's foreign key; so does bulkInsert (Customer.orders)", async () => {
    const [order] = await ds.manager.save([make(Order, { label: 'o1' })]);
    await ds.manager.save(make(Customer, { name: 'c1', orders: [order as Order] }));
    expect(await ds.query('SELECT label, "customerId" FROM orders')).toEqual([{ label: 'o1', customerId: 1 }]);
    await ds.query('TRUNCATE customer RESTART IDENTITY CASCADE');
    const [mine] = await ds.manager.save([make(Order, { label: 'o1' })]);

    await bulkInsert(ds, Customer, [make(Customer, { name: 'c1', orders: [mine as Order] })]);
    expect(await ds.query('SELECT label, "customerId" FROM orders')).toEqual([{ label: 'o1', customerId: 1 }]);
  });

  it("the inverse side of a one-to-one: save() sets the card's foreign key; bulkInsert refuses Customer.card", async () => {
    const [card] = await ds.manager.save([make(Card, { number: '4242' })]);
    await ds.manager.save(make(Customer, { name: 'c1', card: card as Card }));
    expect(await ds.query('SELECT number, customer_id FROM card')).toEqual([{ number: '4242', customer_id: 1 }]);
    await ds.query('UPDATE card SET customer_id = NULL');
    await ds.query('TRUNCATE customer RESTART IDENTITY CASCADE');

    const before = await everything();
    await expectRefused(
      bulkInsert(ds, Customer, [make(Customer, { name: 'c1', card: card as Card })]),
      'inverse side',
      'Customer',
      'card',
      0,
    );
    expect(await everything()).toEqual(before);
  });

  it('a many-to-one that cascades inserts, to a new entity: save() inserts it first, so does bulkInsert; bulkUpsert refuses Shipment.customer', async () => {
    const shipments = () => [make(Shipment, { ref: 's1', customer: make(Customer, { name: 'new' }) })];
    await ds.manager.save(shipments());
    const theirs = await everything();
    expect(await ds.query('SELECT s.ref, c.name FROM shipment s JOIN customer c ON c.id = s."customerId"')).toEqual([
      { ref: 's1', name: 'new' },
    ]);
    await ds.query('TRUNCATE shipment, customer RESTART IDENTITY CASCADE');
    // Cascade inserts (test/src/conformance/cascade-inserts.test.ts).
    expect(await bulkInsert(ds, Shipment, shipments())).toMatchObject({ inserted: 1, byEntity: { Customer: { inserted: 1 } } });
    expect(await everything()).toEqual(theirs);
    await ds.query('TRUNCATE shipment, customer RESTART IDENTITY CASCADE');

    const before = await everything();
    await expectRefused(
      bulkUpsert(ds, Shipment, shipments(), { target: ['id'] }),
      'unsaved reference',
      'Shipment',
      'customer',
      0,
    );
    expect(await everything()).toEqual(before);
  });

  it('a loaded collection that changed: bulkUpdate refuses a link added or a child removed, as save() writes both', async () => {
    const [red, blue] = await ds.manager.save([make(Tag, { name: 'red' }), make(Tag, { name: 'blue' })]);
    await ds.manager.save([
      make(Product, { name: 'p0', tags: [red as Tag] }),
      make(Order, { label: 'o0', items: [make(OrderItem, { sku: 'a' }), make(OrderItem, { sku: 'b' })] }),
    ]);
    const load = async () => ({
      products: await ds.getRepository(Product).find({ relations: { tags: true }, order: { id: 'ASC' } }),
      orders: await ds.getRepository(Order).find({ relations: { items: true }, order: { id: 'ASC' } }),
    });

    // save() writes both changes…
    const own = await load();
    own.products[0]?.tags?.push(blue as Tag);
    own.orders[0]?.items?.pop();
    await ds.manager.save([...own.products, ...own.orders]);
    expect(await ds.query('SELECT "tagId" FROM product_tag ORDER BY 1')).toEqual([{ tagId: 1 }, { tagId: 2 }]);
    expect(await ds.query('SELECT sku, "orderId" FROM order_item ORDER BY sku')).toEqual([
      { sku: 'a', orderId: 1 },
      { sku: 'b', orderId: null },
    ]);
    await ds.query('DELETE FROM product_tag WHERE "tagId" = 2');
    await ds.query('UPDATE order_item SET "orderId" = 1');

    // …cohort writes the link (many-to-many links are written) and refuses the child removed from
    // the one-to-many (its inverse side), whether or not a column changed too.
    const mine = await load();
    mine.products[0]?.tags?.push(blue as Tag);
    await bulkUpdate(ds, Product, mine.products);
    expect(await ds.query('SELECT "tagId" FROM product_tag ORDER BY 1')).toEqual([{ tagId: 1 }, { tagId: 2 }]);
    const before = await everything();
    (mine.orders[0] as Order).label = 'renamed';
    mine.orders[0]?.items?.pop();
    await expectRefused(bulkUpdate(ds, Order, mine.orders), 'inverse side', 'Order', 'items', 0);
    expect(await everything()).toEqual(before);
  });
});

describe('what save() leaves alone is not refused', () => {
  it('an empty array, new entities in a relation without cascade, an undefined relation: the rows save() writes', async () => {
    const build = () => [
      make(Order, { label: 'empty', items: [] }),
      make(Customer, { name: 'new orders, no cascade', orders: [make(Order, { label: 'never saved' })] }),
      make(Product, { name: 'no tags loaded' }),
      make(Product, { name: 'no tags', tags: [] }),
    ];
    await ds.manager.save(build());
    const own = await everything();
    expect(own.orders).toEqual([{ id: 1, label: 'empty', customerId: null }]);
    await ds.query(`TRUNCATE ${TABLES.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`);

    const [order, customer, ...products] = build();
    await bulkInsert(ds, Order, [order as Order]);
    await bulkInsert(ds, Customer, [customer as Customer]);
    await bulkInsert(ds, Product, products as Product[]);
    expect(await everything()).toEqual(own);
  });

  it('loaded relations that did not change: bulkUpdate and bulkSave write the columns, as save() does', async () => {
    const [red] = await ds.manager.save([make(Tag, { name: 'red' })]);
    const [customer] = await ds.manager.save([make(Customer, { name: 'c0' })]);
    await ds.manager.save([
      make(Product, { name: 'p0', tags: [red as Tag] }),
      make(Product, { name: 'p1', tags: [] }),
      make(Order, { label: 'o0', customer, items: [make(OrderItem, { sku: 'a' })] }),
      make(Card, { number: '4242', customer }),
    ]);
    const products = await ds.getRepository(Product).find({ relations: { tags: true }, order: { id: 'ASC' } });
    const orders = await ds.getRepository(Order).find({ relations: { items: true, customer: true }, order: { id: 'ASC' } });
    const customers = await ds.getRepository(Customer).find({ relations: { orders: true, card: true } });
    for (const product of products) product.name = `${product.name}!`;
    for (const order of orders) order.label = `${order.label}!`;
    for (const one of customers) one.name = `${one.name}!`;

    expect(await bulkUpdate(ds, Product, products)).toMatchObject({ updated: 2 });
    expect(await bulkUpdate(ds, Order, orders)).toMatchObject({ updated: 1 });
    expect(await bulkUpdate(ds, Customer, customers)).toMatchObject({ updated: 1 });
    (products[0] as Product).name = 'p0 again';
    const result = await bulkSave(ds, Product, [...products, make(Product, { name: 'p2', tags: [] })]);
    expect(result).toMatchObject({ inserted: 1, updated: 1, unchanged: 1 });
    expect(await ds.query('SELECT name FROM product ORDER BY id')).toEqual([
      { name: 'p0 again' },
      { name: 'p1!' },
      { name: 'p2' },
    ]);
    expect(await ds.query('SELECT "productId", "tagId" FROM product_tag')).toEqual([{ productId: 1, tagId: 1 }]);
    expect(await ds.query('SELECT label, "customerId" FROM orders')).toEqual([{ label: 'o0!', customerId: 1 }]);
    expect(await ds.query('SELECT sku, "orderId" FROM order_item')).toEqual([{ sku: 'a', orderId: 1 }]);
    expect(await ds.query('SELECT number, customer_id FROM card')).toEqual([{ number: '4242', customer_id: 1 }]);
  });

  it("collections in an upsert: TypeORM's upsert writes only the row's columns, and so does bulkUpsert", async () => {
    const [red] = await ds.manager.save([make(Tag, { name: 'red' })]);
    await ds.getRepository(Product).upsert(make(Product, { name: 'p0', stock: 1, tags: [red as Tag] }), ['name']);
    const own = await everything();
    expect(own.product_tag).toEqual([]);
    await ds.query('TRUNCATE product, product_tag RESTART IDENTITY CASCADE');

    await bulkUpsert(ds, Product, [make(Product, { name: 'p0', stock: 1, tags: [red as Tag] })], { target: ['name'] });
    expect(await everything()).toEqual(own);
  });
});
