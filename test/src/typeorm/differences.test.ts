// Rows of docs/differences.md that no other test pins, on TypeORM: each test shows save() (or
// upsert()) on the same input next to cohort's call.
import { createSchema } from '@cohort/pg-harness';
import {
  bulkInsert,
  bulkUpdate,
  bulkUpsert,
  DuplicateKeyInBatchError,
  trackEntityChanges,
  UniqueViolationError,
} from '@cohort/typeorm';
import {
  AfterInsert,
  AfterUpdate,
  BeforeInsert,
  ChildEntity,
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  type Logger,
  PrimaryGeneratedColumn,
  TableInheritance,
} from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { afterAll, beforeAll, beforeEach, expect, inject, it } from 'vitest';
import { withForcedStrategy } from '../harness/own-mikro-orm-pair.js';

@Entity('pd_wide')
class PdWide {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) a!: number;
  @Column({ type: 'integer' }) b!: number;
  @Column({ type: 'integer' }) c!: number;
}

@Entity('pd_vehicle')
@TableInheritance({ column: { type: 'varchar', name: 'kind' } })
class PdVehicle {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 20 }) name!: string;
}
@ChildEntity('car')
class PdCar extends PdVehicle {
  @Column({ type: 'integer', nullable: true }) seats!: number | null;
}
@ChildEntity('truck')
class PdTruck extends PdVehicle {
  @Column({ type: 'integer', nullable: true }) payload!: number | null;
}

const hooks: string[] = [];

@Entity('pd_doc')
class PdDoc {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 20, unique: true }) ref!: string;
  @Column({ type: 'jsonb', nullable: true }) data!: unknown;

  @BeforeInsert() beforeInsert(): void {
    hooks.push(`beforeInsert ${this.ref}`);
  }
  @AfterInsert() afterInsert(): void {
    hooks.push(`afterInsert ${this.ref}`);
  }
  @AfterUpdate() afterUpdate(): void {
    hooks.push(`afterUpdate ${this.ref}`);
  }
}

const handlerCalls: string[] = [];

@Entity('pd_note')
class PdNote {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 20 }) text!: string;
}

/** An async per-entity handler: records when each call starts and ends. */
@EventSubscriber()
class SlowNotes implements EntitySubscriberInterface<PdNote> {
  listenTo() {
    return PdNote;
  }
  async afterInsert(event: InsertEvent<PdNote>) {
    handlerCalls.push(`start ${event.entity.text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    handlerCalls.push(`end ${event.entity.text}`);
  }
}

/** Every statement TypeORM's logger sees, in order. */
const sql: string[] = [];
class Recorder implements Logger {
  logQuery(query: string) {
    sql.push(query);
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

let ds: DataSource;
let drop: () => Promise<void>;
let schemaName: string;

beforeAll(async () => {
  const schema = await createSchema(inject('databaseUrl'), 'pd');
  drop = schema.drop;
  schemaName = schema.name;
  ds = new DataSource({
    type: 'postgres',
    url: inject('databaseUrl'),
    schema: schema.name,
    entities: [PdWide, PdVehicle, PdCar, PdTruck, PdDoc, PdNote],
    subscribers: [SlowNotes],
    synchronize: true,
    logging: ['query'],
    logger: new Recorder(),
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
});
afterAll(async () => {
  await ds.destroy();
  await drop();
});
beforeEach(async () => {
  await ds.query('TRUNCATE pd_wide, pd_vehicle, pd_doc, pd_note RESTART IDENTITY');
  sql.length = 0;
  hooks.length = 0;
  handlerCalls.length = 0;
});

const wide = (n: number) => Array.from({ length: n }, (_, i) => Object.assign(new PdWide(), { a: i, b: i + 1, c: i + 2 }));
const count = async (table: string) => Number((await ds.query(`SELECT count(*) AS n FROM ${table}`))[0].n);

it('differences: parameter ceiling — save() of 21,846 three-column rows fails, bulkInsert writes 30,000 in one batch', async () => {
  // 21,846 × 3 = 65,538 bind parameters: more than the protocol's 65,535.
  const refused = await ds.manager.save(wide(21_846)).catch((e: unknown) => e);
  expect(String(refused)).toMatch(/bind message has \d+ parameter formats/);
  expect(await count('pd_wide')).toBe(0);

  sql.length = 0;
  const rows = wide(30_000);
  const result = await bulkInsert(ds.manager, PdWide, rows, { strategy: 'unnest', batchSize: 30_000 });
  expect(result).toMatchObject({ inserted: 30_000, batches: 1 });
  const inserts = sql.filter((q) => /^(with .*)?insert into/is.test(q));
  expect(inserts).toHaveLength(1);
  // One array parameter per column.
  expect(inserts[0]?.match(/\$\d+/g)).toEqual(['$1', '$2', '$3']);
  expect(await count('pd_wide')).toBe(30_000);
  expect(rows[29_999]?.id).toBe(30_000);
});

it("differences: failure inside the caller's transaction — save() aborts it, cohort's savepoint keeps it usable", async () => {
  const doc = (ref: string) => Object.assign(new PdDoc(), { ref, data: null });
  await ds.manager.save(doc('taken'));
  const aborted = await ds
    .transaction(async (m) => {
      await m.save(doc('taken')).catch(() => undefined);
      await m.save(doc('after'));
    })
    .catch((e: unknown) => e);
  expect(String(aborted)).toMatch(/current transaction is aborted/);

  await ds.transaction(async (m) => {
    const error = await bulkInsert(m, PdDoc, [doc('new'), doc('taken')], withForcedStrategy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    await m.save(doc('after'));
  });
  expect((await ds.query('SELECT ref FROM pd_doc ORDER BY id')).map((r: { ref: string }) => r.ref)).toEqual(['taken', 'after']);
});

it('differences: single-table inheritance — save() numbers cars before trucks, bulkInsert in input order with one INSERT', async () => {
  const mix = () => [
    Object.assign(new PdCar(), { name: 'mini', seats: 4 }),
    Object.assign(new PdTruck(), { name: 'hauler', payload: 18_000 }),
    Object.assign(new PdCar(), { name: 'van', seats: null }),
  ];
  const saved = mix();
  await ds.manager.save(saved);
  expect(saved.map((v) => `${v.name} ${v.id}`)).toEqual(['mini 1', 'hauler 3', 'van 2']);

  await ds.query('TRUNCATE pd_vehicle RESTART IDENTITY');
  sql.length = 0;
  const rows = mix();
  await bulkInsert(ds.manager, PdVehicle, rows, withForcedStrategy());
  expect(rows.map((v) => `${v.name} ${v.id}`)).toEqual(['mini 1', 'hauler 2', 'van 3']);
  expect(sql.filter((q) => /^(with .*)?insert into|^copy /is.test(q))).toHaveLength(1);
});

it('differences: look-up of existing rows — save() reads before its transaction starts, bulkUpdate inside it with = ANY', async () => {
  const docs = ['a', 'b', 'c'].map((ref) => Object.assign(new PdDoc(), { ref, data: null as unknown }));
  await ds.manager.save(docs);
  for (const d of docs) d.data = { n: 1 };

  sql.length = 0;
  await ds.manager.save(docs);
  const lookUp = sql.findIndex((q) => /^select\b.*"pd_doc"/is.test(q));
  expect(lookUp).toBeGreaterThanOrEqual(0);
  expect(lookUp).toBeLessThan(sql.indexOf('START TRANSACTION'));

  for (const d of docs) d.data = { n: 2 };
  sql.length = 0;
  await bulkUpdate(ds.manager, PdDoc, docs, withForcedStrategy());
  const selects = sql.filter((q) => /^select\b.*"pd_doc"/is.test(q));
  expect(selects).toHaveLength(1);
  expect(selects[0]).toMatch(/= ANY\(\$1\)/);
  expect(sql.indexOf(selects[0] as string)).toBeGreaterThan(sql.indexOf('START TRANSACTION'));
  expect(sql.indexOf(selects[0] as string)).toBeLessThan(sql.lastIndexOf('COMMIT'));
});

it('differences: serial keys — an explicit id is dropped on insert, by save() and by bulkInsert (parity)', async () => {
  const own = Object.assign(new PdWide(), { id: 100, a: 1, b: 2, c: 3 });
  await ds.manager.save(own);
  expect(own.id).toBe(1);
  const rows = [Object.assign(new PdWide(), { id: 200, a: 1, b: 2, c: 3 })];
  await bulkInsert(ds.manager, PdWide, rows, withForcedStrategy());
  expect(rows[0]?.id).toBe(2);
  expect((await ds.query('SELECT id FROM pd_wide ORDER BY id')).map((r: { id: number }) => r.id)).toEqual([1, 2]);
});

it('differences: JSON values — save() drops keys named like Object.prototype members, bulkInsert stores them', async () => {
  const values: Record<string, unknown>[] = [{ valueOf: {} }, { a: { toString: { b: [1] } } }];
  await ds.manager.save(values.map((data, i) => Object.assign(new PdDoc(), { ref: `orm${i}`, data })));
  await bulkInsert(
    ds.manager,
    PdDoc,
    values.map((data, i) => Object.assign(new PdDoc(), { ref: `bulk${i}`, data })),
    withForcedStrategy(),
  );
  const stored = await ds.query('SELECT ref, data FROM pd_doc ORDER BY id');
  expect(stored).toEqual([
    { ref: 'orm0', data: {} },
    { ref: 'orm1', data: { a: {} } },
    { ref: 'bulk0', data: values[0] },
    { ref: 'bulk1', data: values[1] },
  ]);
});

it("differences: upsert's before-hook — upsert() fires beforeInsert, and so does bulkUpsert, for new and found rows; after-hooks follow the outcome", async () => {
  await ds.manager.save(Object.assign(new PdDoc(), { ref: 'found', data: null }));
  hooks.length = 0;
  const input = () => ['found', 'new'].map((ref) => Object.assign(new PdDoc(), { ref, data: { n: 1 } }));
  await ds.getRepository(PdDoc).upsert(input(), ['ref']);
  // typeorm#8811: afterInsert for the found row too.
  expect(hooks).toEqual(['beforeInsert found', 'beforeInsert new', 'afterInsert found', 'afterInsert new']);

  await ds.query('TRUNCATE pd_doc RESTART IDENTITY');
  await ds.manager.save(Object.assign(new PdDoc(), { ref: 'found', data: null }));
  hooks.length = 0;
  const result = await bulkUpsert(ds.manager, PdDoc, input(), withForcedStrategy({ target: ['ref'] }));
  expect(result).toMatchObject({ inserted: 1, updated: 1 });
  expect(hooks.slice(0, 2)).toEqual(['beforeInsert found', 'beforeInsert new']);
  // Upsert outcomes: the after-hook of what happened to each row.
  expect(hooks.slice(2).sort()).toEqual(['afterInsert new', 'afterUpdate found']);
});

it('differences: what "changed" means — a stale copy writes its old values back, with save() and bulkUpdate alike; with trackEntityChanges only what changed since it was loaded', async () => {
  const scenario = async (source: DataSource, write: (copy: PdWide) => Promise<unknown>) => {
    await ds.query('TRUNCATE pd_wide RESTART IDENTITY');
    await ds.manager.save(Object.assign(new PdWide(), { a: 1, b: 1, c: 1 }));
    const copy = (await source.manager.findOneByOrFail(PdWide, { id: 1 })) as PdWide;
    // Another caller changes b after this copy was loaded; the copy changes a.
    await ds.query('UPDATE pd_wide SET b = 2');
    copy.a = 5;
    await write(copy);
    return (await ds.query('SELECT a, b FROM pd_wide'))[0];
  };
  expect(await scenario(ds, (copy) => ds.manager.save(copy))).toEqual({ a: 5, b: 1 });
  expect(await scenario(ds, (copy) => bulkUpdate(ds.manager, PdWide, [copy], withForcedStrategy()))).toEqual({ a: 5, b: 1 });

  const tracked = new DataSource({
    type: 'postgres',
    url: inject('databaseUrl'),
    schema: schemaName,
    entities: [PdWide, PdVehicle, PdCar, PdTruck, PdDoc, PdNote],
    extra: { options: `-c search_path=${schemaName}` },
  });
  await tracked.initialize();
  try {
    trackEntityChanges(tracked);
    expect(await scenario(tracked, (copy) => bulkUpdate(tracked.manager, PdWide, [copy], withForcedStrategy()))).toEqual({
      a: 5,
      b: 2,
    });
  } finally {
    await tracked.destroy();
  }
});

it("differences: subscribers' async handlers — per-entity handlers run concurrently, with save() and bulkInsert alike (parity)", async () => {
  await ds.manager.save(['a', 'b'].map((text) => Object.assign(new PdNote(), { text })));
  expect(handlerCalls).toEqual(['start a', 'start b', 'end a', 'end b']);
  handlerCalls.length = 0;
  await bulkInsert(
    ds.manager,
    PdNote,
    ['c', 'd'].map((text) => Object.assign(new PdNote(), { text })),
    withForcedStrategy(),
  );
  expect(handlerCalls).toEqual(['start c', 'start d', 'end c', 'end d']);
});

it('differences: upsert in-batch duplicate keys — PostgreSQL refuses upsert(), bulkUpsert names both rows or keeps one', async () => {
  const input = () => ['same', 'other', 'same'].map((ref, i) => Object.assign(new PdDoc(), { ref, data: { i } }));
  const refused = await ds
    .getRepository(PdDoc)
    .upsert(input(), ['ref'])
    .catch((e: unknown) => e);
  expect(String(refused)).toMatch(/ON CONFLICT DO UPDATE command cannot affect row a second time/);

  const error = await bulkUpsert(ds.manager, PdDoc, input(), withForcedStrategy({ target: ['ref'] })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DuplicateKeyInBatchError);
  expect(error).toMatchObject({ indices: [0, 2] });
  expect(await count('pd_doc')).toBe(0);
  await bulkUpsert(ds.manager, PdDoc, input(), withForcedStrategy({ target: ['ref'], duplicates: 'keepLast' }));
  expect(await ds.query('SELECT ref, data FROM pd_doc ORDER BY ref')).toEqual([
    { ref: 'other', data: { i: 1 } },
    { ref: 'same', data: { i: 2 } },
  ]);
});

it('differences: ignored conflicts — insert().orIgnore() hands the returned ids out by position, bulkInsert to the rows inserted', async () => {
  const doc = (ref: string) => Object.assign(new PdDoc(), { ref, data: null });
  await ds.manager.save(doc('taken'));
  const own = ['a', 'taken', 'b'].map(doc);
  // (The objects themselves, as save() would pass them: TypeORM writes the generated ids onto them.)
  await ds
    .createQueryBuilder()
    .insert()
    .into(PdDoc)
    .values(own as unknown as QueryDeepPartialEntity<PdDoc>[])
    .orIgnore()
    .execute();
  const idOf = new Map(
    ((await ds.query('SELECT id, ref FROM pd_doc')) as { id: number; ref: string }[]).map((r) => [r.ref, r.id]),
  );
  // typeorm#5226: the skipped row's object gets b's id, b's object none.
  expect(own.map((d) => d.id)).toEqual([idOf.get('a'), idOf.get('b'), undefined]);

  const rows = ['c', 'taken', 'd'].map(doc);
  const result = await bulkInsert(ds.manager, PdDoc, rows, withForcedStrategy({ onConflict: 'ignore' as const }));
  expect(result.skipped.map((s) => s.index)).toEqual([1]);
  const ids = new Map(
    ((await ds.query('SELECT id, ref FROM pd_doc')) as { id: number; ref: string }[]).map((r) => [r.ref, r.id]),
  );
  expect(rows.map((d) => d.id)).toEqual([ids.get('c'), undefined, ids.get('d')]);
});
