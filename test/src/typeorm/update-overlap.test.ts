// bulkUpdate with batches overlapping, TypeORM (it looks stored rows up): the next batch's look-up is
// sent ahead of this batch's UPDATE, so PostgreSQL answers it first and TypeORM builds the rows
// while the UPDATE runs — unless the two batches share a row, when the look-up must see the UPDATE.
import { createSchema } from '@cohort/pg-harness';
import { bulkInsert, bulkUpdate } from '@cohort/typeorm';
import { Column, DataSource, Entity, type Logger, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, beforeEach, expect, inject, it } from 'vitest';
import { TypeormChangeTracker } from '../../../packages/typeorm/src/typeorm-change-tracker.js';

@Entity('overlap_row')
class OverlapRow {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) qty!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
}

const statements: string[] = [];
const logger: Logger = {
  logQuery: (query) => {
    const kind =
      /^select/i.test(query) && /= ANY/.test(query) ? 'look-up' : /^with u as .*\bupdate "/is.test(query) ? 'update' : undefined;
    if (kind) statements.push(kind);
  },
  logQueryError: () => {},
  logQuerySlow: () => {},
  logSchemaBuild: () => {},
  logMigration: () => {},
  log: () => {},
};

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'uoverlap');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [OverlapRow],
    synchronize: true,
    logging: true,
    logger,
  });
  await ds.initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.getRepository(OverlapRow).clear();
  await ds.query(`ALTER SEQUENCE ${ds.getMetadata(OverlapRow).tablePath}_id_seq RESTART`);
});

const seed = async (n: number) => {
  await bulkInsert(
    ds,
    OverlapRow,
    Array.from({ length: n }, (_, i) => Object.assign(new OverlapRow(), { qty: i, label: `r${i}` })),
  );
  statements.length = 0;
};
const stored = () => ds.getRepository(OverlapRow).find({ order: { id: 'ASC' } });

it("the next batch's look-up goes ahead of this batch's UPDATE; the rows are those of batch by batch", async () => {
  await seed(6);
  const rows = await stored();
  for (const row of rows) row.qty += 100;
  statements.length = 0;
  const result = await bulkUpdate(ds, OverlapRow, rows, { batchSize: 2 });
  expect(result).toMatchObject({ updated: 6, batches: 3 });
  expect(statements).toEqual(['look-up', 'look-up', 'update', 'look-up', 'update', 'update']);
  expect((await stored()).map((r) => r.qty)).toEqual([100, 101, 102, 103, 104, 105]);
});

it('two objects for one row in consecutive batches: the second look-up waits for the first UPDATE', async () => {
  const run = async (pipeline: boolean) => {
    await ds.getRepository(OverlapRow).clear();
    await ds.query(`ALTER SEQUENCE ${ds.getMetadata(OverlapRow).tablePath}_id_seq RESTART`);
    await seed(3);
    const first = await stored();
    const second = await stored();
    (first[0] as OverlapRow).qty = 7;
    (second[0] as OverlapRow).label = 'x';
    statements.length = 0;
    // Batch 0: rows 1 and 2 (first copies); batch 1: row 3 and row 1 again (second copy).
    const result = await bulkUpdate(ds, OverlapRow, [first[0]!, first[1]!, second[2]!, second[0]!], { batchSize: 2, pipeline });
    return { result, rows: await stored(), order: [...statements] };
  };
  const serial = await run(false);
  const overlapped = await run(true);
  expect(overlapped.rows).toEqual(serial.rows);
  expect(overlapped.result).toMatchObject({ updated: serial.result.updated, unchanged: serial.result.unchanged });
  // The second copy was diffed against the row batch 0 wrote: it writes its stale qty back, as batch by batch.
  expect(overlapped.rows[0]).toMatchObject({ qty: 0, label: 'x' });
  expect(overlapped.order).toEqual(['look-up', 'update', 'look-up', 'update']);
});

it("the change tracker's key of an entity is what getEntityIdMap finds (none while the key is unset)", () => {
  const metadata = ds.getMetadata(OverlapRow);
  const tracker = new TypeormChangeTracker<OverlapRow>(ds.createQueryRunner(), metadata);
  for (const id of [undefined, null, 0, 42, '7']) {
    const row = Object.assign(new OverlapRow(), { id, qty: 1, label: 'a' });
    const expected = metadata.getEntityIdMap(row) ? String(id) : undefined;
    expect(tracker.keyOf(row)).toBe(expected);
  }
  expect(tracker.keyOf(Object.assign(new OverlapRow(), { qty: 1, label: 'a' }))).toBeUndefined();
});
