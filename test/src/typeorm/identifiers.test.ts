// SPEC §7: identifiers are quoted — a table name with a space and capitals, a reserved word and a
// mixed-case column go through every operation and both strategies.
import { createSchema } from '@cohort/pg-harness';
import { bulkInsert, bulkUpdate, bulkUpsert } from '@cohort/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

@Entity('Odd Table')
class Odd {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ name: 'select', type: 'varchar', length: 20, unique: true }) select!: string;
  @Column({ name: 'Mixed Case', type: 'integer' }) mixed!: number;
}

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const schema = await createSchema(inject('databaseUrl'), 'identifiers');
  drop = schema.drop;
  ds = new DataSource({ type: 'postgres', url: inject('databaseUrl'), schema: schema.name, entities: [Odd], synchronize: true });
  await ds.initialize();
});
afterAll(async () => {
  await ds.destroy();
  await drop();
});

it('insert, update and upsert work on quoted identifiers with both strategies', async () => {
  const make = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => Object.assign(new Odd(), { select: `s${from + i}`, mixed: i }));
  const rows = make(0, 3000);
  await bulkInsert(ds, Odd, rows, { strategy: 'copy' });
  await bulkInsert(ds, Odd, make(3000, 5), { strategy: 'unnest' });
  for (const r of rows.slice(0, 10)) r.mixed = -1;
  expect((await bulkUpdate(ds, Odd, rows.slice(0, 10))).updated).toBe(10);
  const upsert = await bulkUpsert(ds, Odd, [...make(0, 2), ...make(9000, 2)], {
    target: ['select'],
    update: ['mixed'],
    strategy: 'copy',
  });
  expect(upsert.outcomes).toEqual(['updated', 'updated', 'inserted', 'inserted']);
  const [row] = await ds.query(
    `SELECT count(*)::int AS n, min("Mixed Case") AS low FROM ${ds
      .getMetadata(Odd)
      .tablePath.split('.')
      .map((p) => `"${p.replaceAll('"', '""')}"`)
      .join('.')}`,
  );
  expect(row).toEqual({ n: 3007, low: -1 });
});
