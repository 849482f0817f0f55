// A stored order whose stored customer (a relation cascading updates) holds a stored address that
// holds a NEW city (address.city, cascade insert): save() inserts the city and updates the address
// (its city_id), with or without the customer changed. cohort writes it as save() does: the rows'
// look-up finds the customer and the address (each updated by its class's group, the address's
// inserting its city before its UPDATE); the customer's group takes the address for one the call
// writes (the call's graph), where it used to refuse it (`cascade insert`, property `address.city`) —
// its relation check saw only its own graph. Differential against save(): rows of every table, keys
// on the objects, the event log (as a set: the graph order differs, docs/differences.md), one
// statement per table and operation.
// The same with the order's own new pickup city: the rows' INSERT of cities comes first, refused too.
// With the customer given a new home city too, the customer's and the address's groups would each
// insert a city, one INSERT per group in the groups' order, where save() inserts both in one in the
// order it reached them: the keys in another order. That is refused (`cascade insert`), nothing sent.
import { bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/typeorm';
import {
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  type Logger,
  ManyToOne,
  PrimaryGeneratedColumn,
  type UpdateEvent,
} from 'typeorm';
import { describe, expect, it } from 'vitest';
import { normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

/** Write statements, transaction statements and entity events, in order. */
const log: string[] = [];

@Entity('rge_city')
class RgeCity {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
}

@Entity('rge_address')
class RgeAddress {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) street!: string;
  @ManyToOne(() => RgeCity, { nullable: true, cascade: true }) city?: RgeCity | null;
}

@Entity('rge_customer')
class RgeCustomer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => RgeAddress, { nullable: true, cascade: true }) address?: RgeAddress | null;
  @ManyToOne(() => RgeCity, { nullable: true, cascade: true }) home?: RgeCity | null;
}

@Entity('rge_order')
class RgeOrder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => RgeCustomer, { nullable: true, cascade: true }) customer?: RgeCustomer | null;
  @ManyToOne(() => RgeCity, { nullable: true, cascade: true }) pickup?: RgeCity | null;
}

const nameOf = (entity: unknown) => {
  const e = entity as { name?: string; street?: string; title?: string };
  return `${(entity as object).constructor.name} ${e.name ?? e.street ?? e.title}`;
};

@EventSubscriber()
class RgeLog implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<unknown>) {
    log.push(`beforeInsert ${nameOf(event.entity)}`);
  }
  afterInsert(event: InsertEvent<unknown>) {
    log.push(`afterInsert ${nameOf(event.entity)} ${typeof (event.entity as { id?: unknown }).id}`);
  }
  beforeUpdate(event: UpdateEvent<unknown>) {
    const columns = event.updatedColumns.map((c) => c.propertyPath);
    const relations = event.updatedRelations.map((r) => r.propertyPath);
    log.push(`beforeUpdate ${nameOf(event.entity)} [${columns}] [${relations}]`);
  }
  afterUpdate(event: UpdateEvent<unknown>) {
    log.push(`afterUpdate ${nameOf(event.entity)}`);
  }
}

const statements: Logger = {
  logQuery(query: string) {
    // save()'s `INSERT INTO "s"."t"` / `UPDATE "s"."t"`, cohort's `… UPDATE "s"."t" AS t`; the transaction's own.
    const write = /\b(update|insert into|copy)\s+"[^"]+"\."(\w+)"/i.exec(query);
    if (write) log.push(`${(write[1] as string).toUpperCase().replace('COPY', 'INSERT INTO')} ${write[2]}`);
    else if (/^\s*(START TRANSACTION|BEGIN|ROLLBACK|COMMIT)\b/i.test(query)) log.push(query.trim().toUpperCase());
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
};

const pair = typeormPair('cascade_stored_behind', {
  entities: [RgeCity, RgeAddress, RgeCustomer, RgeOrder],
  subscribers: [RgeLog],
  logger: statements,
  logging: ['query'],
});

interface Shape {
  readonly name: string;
  /** Renames the customer. */
  readonly renamed: boolean;
  /** Gives the customer a new home city too (its group inserts a city of its own). */
  readonly home: boolean;
  /** Gives the order itself a new pickup city (inserted with the row, before the groups). */
  readonly pickup?: boolean;
}

const SHAPES: Shape[] = [
  { name: 'the customer renamed', renamed: true, home: false },
  { name: 'the customer unchanged', renamed: false, home: false },
];

/** The customer renamed and given a new home city: two related groups would each insert a city. */
const HOME: Shape = { name: 'the customer renamed with a new home city', renamed: true, home: true };

/** A stored order, customer and address, loaded back; the address given a new city (and the customer changed). */
async function changed(side: TypeormSide, shape: Shape): Promise<RgeOrder> {
  const m = side.dataSource.manager;
  const address = await m.save(Object.assign(new RgeAddress(), { street: 'main' }));
  const customer = await m.save(Object.assign(new RgeCustomer(), { name: 'ann', address }));
  await m.save(Object.assign(new RgeOrder(), { title: 'o', customer }));
  const [order] = await m.find(RgeOrder, { relations: { customer: { address: true } } });
  const c = order?.customer as RgeCustomer;
  if (shape.renamed) c.name = 'ann2';
  if (shape.home) c.home = Object.assign(new RgeCity(), { name: 'home' });
  if (shape.pickup) (order as RgeOrder).pickup = Object.assign(new RgeCity(), { name: 'pickup' });
  (c.address as RgeAddress).city = Object.assign(new RgeCity(), { name: 'behind' });
  log.length = 0;
  return order as RgeOrder;
}

const tables = async (side: TypeormSide) => ({
  city: await rowsOf(side, 'rge_city'),
  address: await rowsOf(side, 'rge_address'),
  customer: await rowsOf(side, 'rge_customer'),
  order: await rowsOf(side, 'rge_order'),
});

/** Every object of the graph, each compared on its own (keys, columns, references by key). */
function state(order: RgeOrder) {
  const customer = order.customer as RgeCustomer;
  const address = customer.address as RgeAddress;
  return [order, customer, address, address.city, customer.home].map((o) => normalizeState(o));
}

const events = (entries: readonly string[]) => entries.filter((e) => /^(before|after)/.test(e)).sort();
const writes = (entries: readonly string[]) => entries.filter((e) => /^(UPDATE|INSERT INTO) /.test(e)).sort();

describe('a new entity held by a stored entity reached through a changed or unchanged stored related entity is inserted, as save() inserts it', () => {
  it('save(): the city inserted before the address UPDATE that carries its key — pinned', async () => {
    const side = pair.reference();
    const order = await changed(side, HOME);
    await side.dataSource.manager.save(order);
    expect(log).toEqual([
      'START TRANSACTION',
      'beforeInsert RgeCity behind',
      'beforeInsert RgeCity home',
      'beforeUpdate RgeCustomer ann2 [name] [home]',
      'beforeUpdate RgeAddress main [] [city]',
      'INSERT INTO rge_city',
      'UPDATE rge_customer',
      'UPDATE rge_address',
      'afterInsert RgeCity behind number',
      'afterInsert RgeCity home number',
      'afterUpdate RgeCustomer ann2',
      'afterUpdate RgeAddress main',
      'COMMIT',
    ]);
  });

  for (const shape of SHAPES) {
    for (const call of [bulkUpdate, bulkSave]) {
      it(`${shape.name}: ${call.name} leaves the rows, objects and events of save()`, async () => {
        const orm = pair.reference();
        const ormOrder = await changed(orm, shape);
        await orm.dataSource.manager.save(ormOrder);
        const ormLog = [...log];
        const side = pair.subject();
        const order = await changed(side, shape);
        await call(side.dataSource, RgeOrder, [order]);
        const mine = [...log];
        expect(typeof order.customer?.address?.city?.id).toBe('number');
        expect(events(mine)).toEqual(events(ormLog));
        expect(await tables(side)).toEqual(await tables(orm));
        expect(state(order)).toEqual(state(ormOrder));
        // One statement per table and operation, as save().
        expect(writes(mine)).toEqual(writes(ormLog));
      });
    }
  }
});

describe('new entities of one class held by two stored related entities the call updates are refused', () => {
  for (const call of [bulkUpdate, bulkSave]) {
    it(`${call.name}: the customer's new home city and its address's new city — refused, nothing written (save() keys them in its own order)`, async () => {
      const side = pair.subject();
      const order = await changed(side, HOME);
      const before = await tables(side);
      const error = await call(side.dataSource, RgeOrder, [order]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      const refusal = error as UnsupportedFeatureError;
      expect(refusal.feature).toBe('cascade insert');
      expect(refusal.entityName).toBe('RgeOrder');
      expect(refusal.property).toBe('customer.address.city');
      expect(refusal.index).toBe(0);
      expect(refusal.entity).toBe(order);
      expect(refusal.message).toMatch(/RgeOrder\.customer\.address\.city at row 0 holds new RgeCity entities/);
      expect(refusal.message).toMatch(/held by a RgeCustomer at customer\.home and by a RgeAddress at customer\.address\.city/);
      expect(refusal.message).toMatch(/generated keys would differ from save\(\)'s/);
      expect(refusal.message).toMatch(/save those related entities first.*or use the ORM's save\(\)/);
      // Nothing sent: no write statement, no event; the tables as they were, no key on the new cities.
      expect(log.filter((e) => /^(UPDATE|INSERT INTO|before|after)/.test(e))).toEqual([]);
      expect(await tables(side)).toEqual(before);
      expect(before.city).toEqual([]);
      expect(order.customer?.home?.id).toBeUndefined();
      expect(order.customer?.address?.city?.id).toBeUndefined();
      expect(order.customer?.name).toBe('ann2');
    });
  }
});

// The order's own new pickup city goes in with the row, in an INSERT of its own before the address's
// class inserts its new city: save() inserts both in one, in the order it reaches them — the address's
// city first (the order's `customer` comes before its `pickup`). The keys would differ: refused.
describe("the row's own new entities and a stored related entity's, of one class, are refused", () => {
  for (const renamed of [true, false]) {
    const shape: Shape = { name: 'pickup', renamed, home: false, pickup: true };
    it(`save() keys the address's city first (customer ${renamed ? 'renamed' : 'unchanged'}) — pinned`, async () => {
      const side = pair.reference();
      const order = await changed(side, shape);
      await side.dataSource.manager.save(order);
      expect([order.customer?.address?.city?.id, order.pickup?.id]).toEqual([1, 2]);
    });
    for (const call of [bulkUpdate, bulkSave]) {
      it(`${call.name}, customer ${renamed ? 'renamed' : 'unchanged'}: refused, nothing written`, async () => {
        const side = pair.subject();
        const order = await changed(side, shape);
        const before = await tables(side);
        const error = await call(side.dataSource, RgeOrder, [order]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({
          feature: 'cascade insert',
          entityName: 'RgeOrder',
          property: 'customer.address.city',
          index: 0,
        });
        expect((error as Error).message).toMatch(
          /held by the row itself at pickup and by a RgeAddress at customer\.address\.city/,
        );
        // Refused at the changed-relations look-up, after the rows' own before-hooks (as every refusal
        // found there): no statement sent, no after-event; rolled back.
        expect(log.filter((e) => /^(UPDATE|INSERT INTO|before|after)/.test(e))).toEqual([
          'beforeInsert RgeCity pickup',
          'beforeUpdate RgeOrder o [] [pickup]',
        ]);
        expect(await tables(side)).toEqual(before);
        expect(order.pickup?.id).toBeUndefined();
        expect(order.customer?.address?.city?.id).toBeUndefined();
      });
    }
  }
});
