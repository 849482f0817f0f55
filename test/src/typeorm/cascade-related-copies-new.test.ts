// Two stored orders loaded by one find() with their customer: each order has its own object for the
// one stored customer (copies). save() takes the first object reached per key for every later one
// (CascadesSubjectBuilder.findByPersistEntityLike) and neither writes nor walks the later ones: new
// entities held only by a later copy (a new address, new notes) are not inserted. cohort refused
// such a row (`cascade insert`: "holds new … entities that the ORM's own save would insert") — now
// its batch's walk marks the later copies and the relation finder does not walk them either.
// Differential against save() (rows, objects, events) in one batch; with batchSize 1 the later
// batch's row is refused as for a changed copy (cohort's batches need not follow save()'s order).
import { bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/typeorm';
import {
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type UpdateEvent,
} from 'typeorm';
import { describe, expect, it } from 'vitest';
import { journal, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

@Entity('rcn_address')
class RcnAddress {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) street!: string;
}

@Entity('rcn_customer')
class RcnCustomer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => RcnAddress, { nullable: true, cascade: true }) address?: RcnAddress | null;
  @OneToMany(
    () => RcnNote,
    (note) => note.customer,
    { cascade: true },
  )
  notes?: RcnNote[];
}

@Entity('rcn_note')
class RcnNote {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) text!: string;
  @ManyToOne(
    () => RcnCustomer,
    (customer) => customer.notes,
    { nullable: true },
  )
  customer?: RcnCustomer | null;
}

@Entity('rcn_order')
class RcnOrder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => RcnCustomer, { nullable: true, cascade: true }) customer?: RcnCustomer | null;
}

const label = (entity: unknown) => {
  const e = entity as { name?: string; title?: string; street?: string; text?: string };
  return `${(entity as object).constructor.name} ${e.name ?? e.title ?? e.street ?? e.text}`;
};

@EventSubscriber()
class RcnLog implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<unknown>) {
    journal.record(`beforeInsert ${label(event.entity)}`);
  }
  afterInsert(event: InsertEvent<unknown>) {
    journal.record(`afterInsert ${label(event.entity)}`);
  }
  beforeUpdate(event: UpdateEvent<unknown>) {
    journal.record(`beforeUpdate ${label(event.entity)} [${event.updatedColumns.map((c) => c.propertyPath)}]`);
  }
  afterUpdate(event: UpdateEvent<unknown>) {
    journal.record(`afterUpdate ${label(event.entity)}`);
  }
}

const pair = typeormPair('rcn', { entities: [RcnAddress, RcnCustomer, RcnNote, RcnOrder], subscribers: [RcnLog] });

/** What the later copy (o2's customer) holds new: an address, notes, or both. */
type Held = 'address' | 'notes' | 'both';

/** Orders o1, o2 of customer ann, loaded in one find() (a customer object each, notes loaded), retitled; o2's copy holds new entities. */
async function arrange(side: TypeormSide, held: Held): Promise<RcnOrder[]> {
  const m = side.dataSource.manager;
  const address = await m.save(Object.assign(new RcnAddress(), { street: 'main' }));
  const customer = await m.save(Object.assign(new RcnCustomer(), { name: 'ann', address }));
  await m.save([
    Object.assign(new RcnOrder(), { title: 'o1', customer }),
    Object.assign(new RcnOrder(), { title: 'o2', customer }),
  ]);
  const orders = await m.find(RcnOrder, {
    relations: { customer: { address: true, notes: true } },
    order: { id: 'ASC' },
  });
  const [o1, o2] = orders as [RcnOrder, RcnOrder];
  expect(o1.customer).not.toBe(o2.customer);
  const later = o2.customer as RcnCustomer;
  if (held !== 'notes') later.address = Object.assign(new RcnAddress(), { street: 'second' });
  if (held !== 'address')
    later.notes = [Object.assign(new RcnNote(), { text: 'n1' }), Object.assign(new RcnNote(), { text: 'n2' })];
  o1.title = 'o1b';
  o2.title = 'o2b';
  journal.take();
  return orders;
}

const objects = (orders: RcnOrder[]) => {
  const later = orders[1]?.customer as RcnCustomer;
  return [
    ...orders,
    ...orders.map((o) => o.customer as RcnCustomer),
    ...(later.address ? [later.address] : []),
    ...(later.notes ?? []),
  ];
};
const TABLES = ['rcn_address', 'rcn_customer', 'rcn_note', 'rcn_order'];
const calls = { bulkUpdate, bulkSave } as const;

describe('new entities held only by a later copy of a stored related entity: not inserted, as save()', () => {
  for (const held of ['address', 'notes', 'both'] as const) {
    for (const [name, call] of Object.entries(calls)) {
      for (const reversed of [false, true]) {
        const order = reversed ? ' (rows o2, o1: the copy holding them is the first reached, inserted)' : '';
        it(`${name}: the later copy holds new ${held}${order} — the same rows, objects and events as save()`, async () => {
          await pair.compare(
            async (side) => {
              const orders = await arrange(side, held);
              const rows = reversed ? [...orders].reverse() : orders;
              if (side.mode === 'orm') await side.dataSource.manager.save(rows);
              else await call(side.dataSource, RcnOrder, rows);
              const later = orders[1]?.customer as RcnCustomer;
              return {
                objects: objects(orders),
                // Not inserted: no key on the new objects.
                value: { address: later.address?.id ?? null, notes: (later.notes ?? []).map((n) => n.id ?? null) },
              };
            },
            // Reversed, the new entities go in with the copy holding them: cohort groups their events
            // after the rows' before-updates (docs/differences.md, cascade-update-new-related pins it).
            { tables: TABLES, ignoreJournal: reversed },
          );
        });
      }
    }
  }
});

const tables = async (side: TypeormSide) => Promise.all(TABLES.map((t) => rowsOf(side, t)));

describe('with batchSize 1: the later batch reaching the copy that holds new entities is refused', () => {
  for (const held of ['address', 'notes', 'both'] as const) {
    for (const [name, call] of Object.entries(calls)) {
      it(`${name}, batchSize 1, the later copy holds new ${held}: refused (cascade update) before the batch's statements, nothing written`, async () => {
        const side = pair.subject();
        const orders = await arrange(side, held);
        const before = await tables(side);
        const error = await call(side.dataSource, RcnOrder, orders, { batchSize: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({ feature: 'cascade update', entityName: 'RcnOrder', property: 'customer', index: 1 });
        expect((error as Error).message).toMatch(/an earlier batch of the call reached another object with its key/);
        expect(await tables(side)).toEqual(before);
      });
    }
  }
});
