import { createSchema } from '@cohort/pg-harness';
import { bulkInsert } from '@cohort/typeorm';
import { AfterInsert, BeforeInsert, Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

@Entity('smoke')
class Smoke {
  @PrimaryGeneratedColumn() id!: number;
  @Column('int') qty!: number;
  @Column({ type: 'varchar', length: 20 }) label!: string;
  @Column({ type: 'varchar', default: 'x' }) note?: string;
  log: string[] = [];
  @BeforeInsert() before() {
    this.label = this.label.toUpperCase();
  }
  @AfterInsert() after() {
    this.log.push(`after ${this.id}`);
  }
}

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const schema = await createSchema(inject('databaseUrl'), 'smoke');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url: inject('databaseUrl'),
    schema: schema.name,
    entities: [Smoke],
    synchronize: true,
  });
  await ds.initialize();
});
afterAll(async () => {
  await ds.destroy();
  await drop();
});

it('inserts with hooks and keys', async () => {
  const rows = Array.from({ length: 5 }, (_, i) => Object.assign(new Smoke(), { qty: i, label: `l${i}` }));
  const result = await bulkInsert(ds, Smoke, rows);
  expect(result.inserted).toBe(5);
  expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
  expect(rows[0]?.label).toBe('L0');
  expect(rows[0]?.note).toBe('x');
  expect(rows[4]?.log).toEqual(['after 5']);
  const db = await ds.query(`SELECT * FROM "${(ds.options as { schema: string }).schema}".smoke ORDER BY id`);
  expect(db.map((r: { label: string }) => r.label)).toEqual(['L0', 'L1', 'L2', 'L3', 'L4']);
});

it('inserts 100k rows in one call', async () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => Object.assign(new Smoke(), { qty: i, label: `r${i}` }));
  const result = await bulkInsert(ds, Smoke, rows, { batchSize: 100_000 });
  expect(result.inserted).toBe(100_000);
  expect(result.ms).toBeGreaterThan(0);
  console.log('100k ms', result.ms);
});
