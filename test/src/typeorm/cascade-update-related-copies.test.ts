// Two stored orders loaded by one find() with their customer: TypeORM gives each order its own object
// for the one stored customer (copies). save() takes the first object reached per key for every later
// one (CascadesSubjectBuilder.findByPersistEntityLike): it writes that one, changed or not, and neither
// writes nor walks the others. cohort grouped every changed copy: it wrote a later copy's name over
// the first's (silently), and two changed copies failed with DuplicateKeyInBatchError after hooks ran.
// Now one batch writes the first object per key, as save(); a later batch reaching a changed copy of
// a customer an earlier batch reached is refused before its statements (`cascade update`).
// Differential against save() (rows, objects, events) and refusals (nothing written, error fields).
import { bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/typeorm';
import {
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type UpdateEvent,
  VersionColumn,
} from 'typeorm';
import { describe, expect, it } from 'vitest';
import { journal, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

@Entity('rco_address')
class RcoAddress {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) street!: string;
}

@Entity('rco_customer')
class RcoCustomer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @VersionColumn() version!: number;
  @UpdateDateColumn() updatedAt!: Date;
  @ManyToOne(() => RcoAddress, { nullable: true, cascade: true }) address?: RcoAddress | null;
}

@Entity('rco_order')
class RcoOrder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => RcoCustomer, { nullable: true, cascade: true }) customer?: RcoCustomer | null;
}

const label = (entity: unknown) => {
  const e = entity as { name?: string; title?: string; street?: string };
  return `${(entity as object).constructor.name} ${e.name ?? e.title ?? e.street}`;
};

@EventSubscriber()
class RcoLog implements EntitySubscriberInterface {
  beforeUpdate(event: UpdateEvent<unknown>) {
    journal.record(`beforeUpdate ${label(event.entity)} [${event.updatedColumns.map((c) => c.propertyPath)}]`);
  }
  afterUpdate(event: UpdateEvent<unknown>) {
    journal.record(`afterUpdate ${label(event.entity)}`);
  }
}

const pair = typeormPair('rco', { entities: [RcoAddress, RcoCustomer, RcoOrder], subscribers: [RcoLog] });

/** Which copies of customer 1 change: o1's (first reached), o2's (later), both (differently). */
type Change = 'first' | 'later' | 'both';

/** Orders o1, o2 of customer ann, loaded in one find() (a customer object each), retitled; copies changed. */
async function arrange(side: TypeormSide, change: Change): Promise<RcoOrder[]> {
  const m = side.dataSource.manager;
  const address = await m.save(Object.assign(new RcoAddress(), { street: 'main' }));
  const customer = await m.save(Object.assign(new RcoCustomer(), { name: 'ann', address }));
  await m.save([
    Object.assign(new RcoOrder(), { title: 'o1', customer }),
    Object.assign(new RcoOrder(), { title: 'o2', customer }),
  ]);
  const orders = await m.find(RcoOrder, { relations: { customer: { address: true } }, order: { id: 'ASC' } });
  const [o1, o2] = orders as [RcoOrder, RcoOrder];
  expect(o1.customer).not.toBe(o2.customer);
  if (change === 'first' || change === 'both') (o1.customer as RcoCustomer).name = 'ann2';
  if (change === 'later') (o2.customer as RcoCustomer).name = 'ann2';
  if (change === 'both') (o2.customer as RcoCustomer).name = 'ann3';
  o1.title = 'o1b';
  o2.title = 'o2b';
  journal.take();
  return orders;
}

const objects = (orders: RcoOrder[]) => orders.flatMap((o) => [o, o.customer as RcoCustomer]);
const TABLES = ['rco_address', 'rco_customer', 'rco_order'];
const MASK = ['updatedAt'];
const calls = { bulkUpdate, bulkSave } as const;

describe('copies of one stored related entity in one batch: the first object reached is written, as save()', () => {
  for (const change of ['later', 'both'] as const) {
    for (const [name, call] of Object.entries(calls)) {
      it(`${name}: ${change} copy changed — the same rows, objects and events as save()`, async () => {
        await pair.compare(
          async (side) => {
            const orders = await arrange(side, change);
            const [o1, o2] = orders as [RcoOrder, RcoOrder];
            const laterAt = o2.customer?.updatedAt.getTime();
            if (side.mode === 'orm') await side.dataSource.manager.save(orders);
            else await call(side.dataSource, RcoOrder, orders);
            return {
              objects: objects(orders),
              // save() gives the later copy no version and no update date: it is not its subject.
              value: {
                laterDateKept: o2.customer?.updatedAt.getTime() === laterAt,
                firstVersion: o1.customer?.version,
                laterVersion: o2.customer?.version,
              },
            };
          },
          { tables: TABLES, mask: MASK },
        );
      });
    }
  }
});

const tables = async (side: TypeormSide) => Promise.all(TABLES.map((t) => rowsOf(side, t)));

describe('a changed copy reached by a later batch of a customer an earlier batch reached: refused', () => {
  for (const change of ['first', 'later'] as const) {
    for (const [name, call] of Object.entries(calls)) {
      it(`${name}, batchSize 1, ${change} copy changed: refused (cascade update) before the batch's statements, nothing written`, async () => {
        const side = pair.subject();
        const orders = await arrange(side, change);
        const before = await tables(side);
        const error = await call(side.dataSource, RcoOrder, orders, { batchSize: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({ feature: 'cascade update', entityName: 'RcoOrder', property: 'customer', index: 1 });
        expect((error as Error).message).toMatch(/an earlier batch of the call reached another object with its key/);
        expect(await tables(side)).toEqual(before);
        // The refused batch (o2's) ran its rows' beforeUpdate (the check reads the rows after their hooks), nothing after.
        const log = journal.take();
        const after = log.slice(log.indexOf('beforeUpdate RcoOrder o2b [title]') + 1);
        expect(after.filter((e) => /RcoCustomer|o2b/.test(String(e)))).toEqual([]);
      });
    }
  }
});
