// One-to-many items moved between stored related entities that a cascade updates with the rows
// (`order.customer`, the customers' `things`), across batches: save() reads every customer's stored
// things before its first statement; cohort reads a batch's related customers' when it writes that
// batch, so a thing the customer of batch 0 takes from the customer of batch 1 would end otherwise
// (moved back, or left where save() clears it). Refused as for the rows' own items
// (`one-to-many move across batches`), rolled back; within one batch written as save() writes it.
import { createSchema } from '@cohort/pg-harness';
import { bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/typeorm';
import { Column, DataSource, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

@Entity('mv_customer')
class MvCustomer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @OneToMany(
    () => MvThing,
    (thing) => thing.customer,
  )
  things?: MvThing[];
}

@Entity('mv_thing')
class MvThing {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
  @ManyToOne(
    () => MvCustomer,
    (customer) => customer.things,
    { nullable: true },
  )
  customer?: MvCustomer | null;
}

@Entity('mv_order')
class MvOrder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => MvCustomer, { nullable: true, cascade: true }) customer?: MvCustomer | null;
}

let ds: DataSource;
let drop: () => Promise<void>;

beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tmvr');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [MvCustomer, MvThing, MvOrder],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
});

afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);

const tables = async () => ({
  customers: await ds.query('SELECT id, name FROM mv_customer ORDER BY id'),
  things: await ds.query('SELECT id, label, "customerId" FROM mv_thing ORDER BY id'),
  orders: await ds.query('SELECT id, title, "customerId" FROM mv_order ORDER BY id'),
});

/**
 * Customers c0 (no things) and c1 (thing t1), orders o0 → c0 and o1 → c1, loaded with the customers'
 * things; both customers renamed, t1 added to c0's things and, unless `kept`, dropped from c1's.
 */
async function arrange(kept: boolean): Promise<MvOrder[]> {
  await ds.query('TRUNCATE mv_order, mv_thing, mv_customer RESTART IDENTITY CASCADE');
  const [c0, c1] = await ds.manager.save([make(MvCustomer, { name: 'c0' }), make(MvCustomer, { name: 'c1' })]);
  await ds.manager.save(make(MvThing, { label: 't1', customer: c1 }));
  await ds.manager.save([make(MvOrder, { title: 'o0', customer: c0 }), make(MvOrder, { title: 'o1', customer: c1 })]);
  const orders = await ds.getRepository(MvOrder).find({ relations: { customer: { things: true } }, order: { id: 'ASC' } });
  const [o0, o1] = orders as [MvOrder, MvOrder];
  const [k0, k1] = [o0.customer as MvCustomer, o1.customer as MvCustomer];
  k0.name = 'c0 renamed';
  k1.name = 'c1 renamed';
  const t1 = (k1.things ?? [])[0] as MvThing;
  k0.things = [t1];
  if (!kept) k1.things = [];
  return orders;
}

describe('items moved between related entities a cascade updates, across batches (TypeORM)', () => {
  for (const kept of [true, false]) {
    const how = kept ? 'the later customer still lists it' : 'the later customer drops it';
    it(`a thing taken by batch 0's customer from batch 1's, ${how}: refused (one-to-many move across batches), nothing written; in one batch as save()`, async () => {
      const theirs = async (chunk?: number) => {
        await ds.manager.save(await arrange(kept), chunk ? { chunk } : {});
        return tables();
      };
      const saved = await theirs();
      expect(await theirs(1)).toEqual(saved);
      // save() reads every customer's things first: the thing ends at c0 (kept) or cleared (dropped).
      expect(saved.things).toEqual([{ id: 1, label: 't1', customerId: kept ? 1 : null }]);

      for (const call of [
        (rows: MvOrder[]) => bulkSave(ds, MvOrder, rows, { batchSize: 1 }),
        (rows: MvOrder[]) => bulkUpdate(ds, MvOrder, rows, { batchSize: 1, pipeline: false }),
      ]) {
        const rows = await arrange(kept);
        const before = await tables();
        const error = await call(rows).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({ feature: 'one-to-many move across batches', entityName: 'MvCustomer', property: 'things' });
        expect(await tables()).toEqual(before);
      }

      // One batch: written as save() writes it.
      for (const call of [bulkSave, bulkUpdate]) {
        await call(ds, MvOrder, await arrange(kept));
        expect(await tables()).toEqual(saved);
      }
    });
  }
});
