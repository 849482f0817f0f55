// A changed customer that the rows update by cascade (its own update group, with its own tracker)
// holds a new city and a stored address holding another new city: save() inserts both cities and
// updates the customer and the address; cohort refuses the customer's group (the city behind the
// stored address, `cascade insert`) — a refusal where save() writes, with or without the customer's
// own new city (a gap of its own: the group's relation check does not see the address the rows' look
// took into the call's graph). Pinned here: the refusal comes before the group sends anything or
// fires an event. The group's tracker has no look-up of its own to take that city later; it used to
// expose one that looked at nothing, so the early check let the row through and the late one refused
// it after the customer's own city's INSERT and insert events, rolled back.
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
} from 'typeorm';
import { expect, it } from 'vitest';
import { rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

/** Write statements, transaction statements and insert events, in order. */
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
}

@EventSubscriber()
class RgeLog implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<unknown>) {
    log.push(`beforeInsert ${(event.entity as { name?: string }).name}`);
  }
}

const statements: Logger = {
  logQuery(query: string) {
    const write = /^\s*(START TRANSACTION|BEGIN|ROLLBACK|COMMIT|INSERT INTO|UPDATE|COPY|DELETE)\b/i.exec(query);
    if (write) log.push((write[1] as string).toUpperCase());
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
};

const pair = typeormPair('related_group_early', {
  entities: [RgeCity, RgeAddress, RgeCustomer, RgeOrder],
  subscribers: [RgeLog],
  logger: statements,
  logging: ['query'],
});

/** A stored order, customer and address, loaded back; the customer renamed and given a new home city, the address a new city. */
async function changed(side: TypeormSide): Promise<RgeOrder> {
  const m = side.dataSource.manager;
  const address = await m.save(Object.assign(new RgeAddress(), { street: 'main' }));
  const customer = await m.save(Object.assign(new RgeCustomer(), { name: 'ann', address }));
  await m.save(Object.assign(new RgeOrder(), { title: 'o', customer }));
  const [order] = await m.find(RgeOrder, { relations: { customer: { address: true } } });
  const c = order?.customer as RgeCustomer;
  c.name = 'ann2';
  c.home = Object.assign(new RgeCity(), { name: 'home' });
  (c.address as RgeAddress).city = Object.assign(new RgeCity(), { name: 'behind' });
  return order as RgeOrder;
}

const tables = async (side: TypeormSide) => ({
  city: await rowsOf(side, 'rge_city'),
  address: await rowsOf(side, 'rge_address'),
  customer: await rowsOf(side, 'rge_customer'),
});

it('save() inserts both cities and updates the customer and the address — pinned', async () => {
  const side = pair.reference();
  const order = await changed(side);
  log.length = 0;
  await side.dataSource.manager.save(order);
  expect(log).toEqual([
    'START TRANSACTION',
    'beforeInsert behind',
    'beforeInsert home',
    'INSERT INTO',
    'UPDATE',
    'UPDATE',
    'COMMIT',
  ]);
  expect((await tables(side)).city).toEqual([
    { id: 1, name: 'behind' },
    { id: 2, name: 'home' },
  ]);
});

for (const call of [bulkUpdate, bulkSave]) {
  it(`${call.name}: the customer's group is refused before it sends anything or fires an event; nothing written`, async () => {
    const side = pair.subject();
    const order = await changed(side);
    const before = await tables(side);
    log.length = 0;
    const error = await call(side.dataSource, RgeOrder, [order]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'cascade insert', entityName: 'RgeCustomer', property: 'address.city', index: 0 });
    expect((error as Error).message).toMatch(
      /^RgeCustomer reached through RgeOrder\.customer \(updated with the row\): .*RgeCustomer\.address\.city at row 0 holds new RgeCity entities/,
    );
    expect(log).toEqual(['START TRANSACTION', 'ROLLBACK']);
    expect(await tables(side)).toEqual(before);
    expect(order.customer?.home?.id).toBeUndefined();
  });
}
