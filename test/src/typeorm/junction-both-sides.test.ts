// A new label whose `orders` (many-to-many, inverse side) lists stored orders the call does not
// write, while those orders' `labels` (the owning side) hold the label too: both sides of the
// relation name the same link. TypeORM's save([label]) makes the stored orders subjects (cascade
// insert) and builds the junction row from each side, so it inserts the pair twice and fails on the
// junction's primary key (nothing written). cohort's bulkSave writes each link once — the rows
// save() writes when only one side names it — a documented improvement (docs/differences.md).
import { createSchema } from '@cohort/pg-harness';
import { bulkSave } from '@cohort/typeorm';
import { Column, DataSource, Entity, JoinTable, ManyToMany, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, beforeEach, expect, inject, it } from 'vitest';

@Entity('jbs_label')
class Label {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 20 }) name!: string;
  @ManyToMany(
    () => Order,
    (order) => order.labels,
    { cascade: ['insert'] },
  )
  orders?: Order[];
}

@Entity('jbs_order')
class Order {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 20 }) ref!: string;
  @ManyToMany(
    () => Label,
    (label) => label.orders,
    { cascade: ['insert'] },
  )
  @JoinTable({ name: 'jbs_order_label', joinColumn: { name: 'order_id' }, inverseJoinColumn: { name: 'label_id' } })
  labels?: Label[];
}

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'jbs');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Label, Order],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query('TRUNCATE jbs_label, jbs_order, jbs_order_label RESTART IDENTITY CASCADE');
});

const tables = async () => ({
  labels: await ds.query('SELECT * FROM jbs_label ORDER BY id'),
  orders: await ds.query('SELECT * FROM jbs_order ORDER BY id'),
  links: await ds.query('SELECT * FROM jbs_order_label ORDER BY 1, 2'),
});

/** Stored orders o1, o2 (loaded with their labels), and a new label listing them; `both`: their labels list it too. */
async function build(both: boolean): Promise<Label> {
  await ds.manager.save(['o1', 'o2'].map((ref) => Object.assign(new Order(), { ref, labels: [] })));
  const orders = await ds.getRepository(Order).find({ relations: { labels: true }, order: { id: 'ASC' } });
  const label = Object.assign(new Label(), { name: 'red', orders });
  if (both) for (const order of orders) order.labels = [...(order.labels ?? []), label];
  return label;
}

it('save() of the label fails on the junction key (the pair inserted from both sides); bulkSave writes each link once, as save() when only the label names them', async () => {
  // save(): both sides name the links — a duplicate junction row, nothing written.
  const error = await ds.manager.save(await build(true)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  expect(String((error as { code?: string }).code)).toBe('23505');
  expect((error as Error).message).toMatch(/duplicate key/);
  expect((await tables()).labels).toEqual([]);
  expect((await tables()).links).toEqual([]);

  // What save() writes when only the label names the links.
  await ds.query('TRUNCATE jbs_label, jbs_order, jbs_order_label RESTART IDENTITY CASCADE');
  const one = await build(false);
  await ds.manager.save(one);
  const theirs = await tables();
  expect(theirs.links).toEqual([
    { order_id: 1, label_id: 1 },
    { order_id: 2, label_id: 1 },
  ]);

  // cohort, both sides naming the links: the same rows, one link per pair.
  await ds.query('TRUNCATE jbs_label, jbs_order, jbs_order_label RESTART IDENTITY CASCADE');
  const label = await build(true);
  expect(await bulkSave(ds, Label, [label])).toMatchObject({ inserted: 1 });
  expect(await tables()).toEqual(theirs);
  expect(label.id).toBe(1);
  // Both sides agree with the database: a following save() of the orders writes no more links.
  await ds.manager.save(label.orders ?? []);
  expect(await tables()).toEqual(theirs);
});
