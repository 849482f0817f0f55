/// <reference types="@cohort/typeorm/register" />
// TypeORM's own option names (SPEC §8): save()'s `data`, `listeners`, `chunk`, `transaction`, `reload`
// and upsert()'s `conflictPaths`, `skipUpdateIfNoValuesChanged`… are honoured where they mean what
// they mean for save()/upsert() — checked differentially, save() in one schema and cohort in another
// — and refused by name otherwise, with nothing written.
import { createSchema } from '@cohort/pg-harness';
import {
  BulkUsageError,
  bulkInsert,
  bulkSave,
  bulkUpdate,
  bulkUpsert,
  registerBulkRepository,
  type TypeormBulkEvent,
  type TypeormBulkSubscriber,
  type TypeormBulkUpdateEvent,
  UnsupportedFeatureError,
} from '@cohort/typeorm';
import {
  AfterInsert,
  AfterUpdate,
  BeforeInsert,
  BeforeUpdate,
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  PrimaryGeneratedColumn,
  type TransactionStartEvent,
  type UpdateEvent,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

// Entity listeners get no context: the side that runs now says where they log.
let listenerLog: string[] = [];

@Entity('parcel')
class Parcel {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 20, unique: true }) code!: string;
  @Column({ type: 'integer' }) qty!: number;
  @Column({ type: 'varchar', length: 20, nullable: true }) note!: string | null;

  @BeforeInsert() beforeInsert() {
    listenerLog.push(`listener beforeInsert ${this.code}`);
  }
  @AfterInsert() afterInsert() {
    listenerLog.push(`listener afterInsert ${this.code}`);
  }
  @BeforeUpdate() beforeUpdate() {
    listenerLog.push(`listener beforeUpdate ${this.code}`);
  }
  @AfterUpdate() afterUpdate() {
    listenerLog.push(`listener afterUpdate ${this.code}`);
  }
}

const logs = new Map<DataSource, string[]>();
// (Schema synchronization runs in a transaction before a side's log exists.)
const logOf = (e: { queryRunner: { connection: DataSource } }) => logs.get(e.queryRunner.connection) ?? [];
const dataOf = (e: { queryRunner: { data: unknown } }) => JSON.stringify(e.queryRunner.data);

/** Records every event with the query runner's `data` it carries. */
@EventSubscriber()
class DataRecorder implements EntitySubscriberInterface<Parcel> {
  listenTo() {
    return Parcel;
  }
  beforeInsert(e: InsertEvent<Parcel>) {
    logOf(e).push(`beforeInsert ${e.entity.code} ${dataOf(e)}`);
  }
  afterInsert(e: InsertEvent<Parcel>) {
    logOf(e).push(`afterInsert ${e.entity.code} ${dataOf(e)}`);
  }
  beforeUpdate(e: UpdateEvent<Parcel>) {
    logOf(e).push(`beforeUpdate ${e.entity?.code} ${dataOf(e)}`);
  }
  afterUpdate(e: UpdateEvent<Parcel>) {
    logOf(e).push(`afterUpdate ${e.entity?.code} ${dataOf(e)}`);
  }
  beforeTransactionStart(e: TransactionStartEvent) {
    logOf(e).push(`beforeTransactionStart ${dataOf(e)}`);
  }
  afterTransactionCommit(e: TransactionStartEvent) {
    logOf(e).push(`afterTransactionCommit ${dataOf(e)}`);
  }
}

/** Batch methods only (cohort calls them; save() has none): what `data` a batch event carries. */
const batchCalls: string[] = [];
@EventSubscriber()
class BatchRecorder implements EntitySubscriberInterface<Parcel>, TypeormBulkSubscriber<Parcel> {
  listenTo() {
    return Parcel;
  }
  beforeBulkInsert(e: TypeormBulkEvent<Parcel>) {
    batchCalls.push(`beforeBulkInsert ${e.entities.length} ${dataOf(e)}`);
  }
  afterBulkUpdate(e: TypeormBulkUpdateEvent<Parcel>) {
    batchCalls.push(`afterBulkUpdate ${e.entities.length} ${dataOf(e)}`);
  }
}

interface Side {
  ds: DataSource;
  log: string[];
  /** The schema-qualified table. */
  table: string;
  drop(): Promise<void>;
}
let ref: Side;
let sub: Side;

async function openSide(prefix: string, subscribers: (new () => object)[]): Promise<Side> {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, prefix);
  const ds = new DataSource({ type: 'postgres', url, schema: schema.name, entities: [Parcel], subscribers, synchronize: true });
  await ds.initialize();
  const log: string[] = [];
  logs.set(ds, log);
  return { ds, log, table: `"${schema.name}".parcel`, drop: schema.drop };
}

beforeAll(async () => {
  [ref, sub] = await Promise.all([
    openSide('tsaveopt_ref', [DataRecorder]),
    openSide('tsaveopt_sub', [DataRecorder, BatchRecorder]),
  ]);
});
afterAll(async () => {
  for (const side of [ref, sub]) {
    await side?.ds.destroy();
    await side?.drop();
  }
});
beforeEach(async () => {
  for (const side of [ref, sub]) {
    await side.ds.query(`TRUNCATE ${side.table} RESTART IDENTITY`);
    side.log.length = 0;
  }
  batchCalls.length = 0;
});

const parcels = (...specs: [string, number][]) =>
  specs.map(([code, qty]) => Object.assign(new Parcel(), { code, qty, note: null }));
const stored = (side: Side) => side.ds.query(`SELECT id, code, qty, note FROM ${side.table} ORDER BY id`);

/** Runs `fn` for one side; its listeners log into that side's log, in one order with its subscribers. */
async function run<T>(side: Side, fn: (ds: DataSource) => Promise<T>): Promise<{ value: T; log: string[] }> {
  const before = side.log.length;
  listenerLog = side.log;
  try {
    const value = await fn(side.ds);
    return { value, log: side.log.slice(before) };
  } finally {
    listenerLog = [];
  }
}

async function expectSameOutcome(refLog: string[], subLog: string[]) {
  expect(await stored(sub)).toEqual(await stored(ref));
  expect(subLog).toEqual(refLog);
}

describe('data', () => {
  it("reaches listeners' and subscribers' events as queryRunner.data, as save({ data }) — inserts", async () => {
    const data = { requestId: 7 };
    const a = await run(ref, (ds) => ds.manager.save(parcels(['a', 1], ['b', 2]), { data }));
    const b = await run(sub, (ds) => bulkInsert(ds, Parcel, parcels(['a', 1], ['b', 2]), { data }));
    await expectSameOutcome(a.log, b.log);
    expect(b.log).toContain('afterInsert b {"requestId":7}');
    expect(batchCalls).toEqual(['beforeBulkInsert 2 {"requestId":7}']);
  });

  it('bulkSave and bulkUpdate: update events carry it too; the query runner has its old data afterwards', async () => {
    const data = { requestId: 'r-9' };
    for (const side of [ref, sub]) await side.ds.manager.save(parcels(['a', 1], ['b', 2]));
    ref.log.length = 0;
    sub.log.length = 0;
    const change = async (ds: DataSource) => {
      const rows = await ds.getRepository(Parcel).find({ order: { id: 'ASC' } });
      (rows[0] as Parcel).qty = 10;
      return [...rows, ...parcels(['c', 3])];
    };
    const a = await run(ref, async (ds) => ds.manager.save(await change(ds), { data }));
    const b = await run(sub, async (ds) => bulkSave(ds, Parcel, await change(ds), { data }));
    await expectSameOutcome(a.log, b.log);
    expect(b.log).toContain('afterUpdate a {"requestId":"r-9"}');
    expect(batchCalls).toEqual(['beforeBulkInsert 1 {"requestId":"r-9"}', 'afterBulkUpdate 1 {"requestId":"r-9"}']);

    const rows = await sub.ds.getRepository(Parcel).find({ order: { id: 'ASC' } });
    (rows[1] as Parcel).qty = 20;
    const after = await run(sub, (ds) => bulkUpdate(ds, Parcel, rows));
    expect(after.log).toContain('afterUpdate b {}');
  });

  it("inside the caller's transaction: set for the call, then the transaction's own data again", async () => {
    const data = { requestId: 3 };
    const inTransaction = (ds: DataSource, write: (m: DataSource['manager']) => Promise<unknown>) =>
      ds.transaction(async (manager) => {
        const own = manager.queryRunner as NonNullable<typeof manager.queryRunner>;
        own.data = { mine: true };
        await write(manager);
        return own.data;
      });
    const a = await run(ref, (ds) => inTransaction(ds, (m) => m.save(parcels(['a', 1]), { data })));
    const b = await run(sub, (ds) => inTransaction(ds, (m) => bulkInsert(m, Parcel, parcels(['a', 1]), { data })));
    await expectSameOutcome(a.log, b.log);
    expect(b.value).toEqual({ mine: true });
  });
});

describe('listeners', () => {
  it('listeners: false runs no listener, subscriber or batch method, as save({ listeners: false })', async () => {
    for (const side of [ref, sub]) await side.ds.manager.save(parcels(['a', 1]));
    ref.log.length = 0;
    sub.log.length = 0;
    const change = async (ds: DataSource) => {
      const [row] = await ds.getRepository(Parcel).find();
      (row as Parcel).qty = 5;
      return [row as Parcel, ...parcels(['b', 2])];
    };
    const a = await run(ref, async (ds) => ds.manager.save(await change(ds), { listeners: false }));
    const b = await run(sub, async (ds) => bulkSave(ds, Parcel, await change(ds), { listeners: false }));
    await expectSameOutcome(a.log, b.log);
    expect(b.log).toEqual(['beforeTransactionStart {}', 'afterTransactionCommit {}']);
    expect(batchCalls).toEqual([]);
  });

  it('listeners and hooks that disagree are refused; that agree are accepted', async () => {
    const error = await bulkInsert(sub.ds, Parcel, parcels(['a', 1]), { listeners: false, hooks: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkUsageError);
    expect(error).toMatchObject({ option: 'listeners' });
    expect((error as Error).message).toMatch(/"listeners" \(false\) and "hooks" \(true\) disagree/);
    expect(await stored(sub)).toEqual([]);
    const result = await bulkInsert(sub.ds, Parcel, parcels(['a', 1]), { listeners: false, hooks: false });
    expect(result.inserted).toBe(1);
    expect(sub.log).toEqual(['beforeTransactionStart {}', 'afterTransactionCommit {}']);
  });
});

describe('chunk', () => {
  it('chunk is the batch size; with pipeline: false the hooks run chunk by chunk, as save({ chunk })', async () => {
    const codes: [string, number][] = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((c, i) => [c, i]);
    const a = await run(ref, (ds) => ds.manager.save(parcels(...codes), { chunk: 3 }));
    const b = await run(sub, (ds) => bulkInsert(ds, Parcel, parcels(...codes), { chunk: 3, pipeline: false }));
    await expectSameOutcome(a.log, b.log);
    expect(b.value.batches).toBe(3);
    expect(batchCalls).toEqual(['beforeBulkInsert 3 {}', 'beforeBulkInsert 3 {}', 'beforeBulkInsert 1 {}']);
  });

  it('chunk with a batchSize that disagrees, or a chunk that is not a positive integer, is refused', async () => {
    for (const [options, pattern] of [
      [{ chunk: 3, batchSize: 4 }, /"chunk" \(3\) and "batchSize" \(4\) disagree/],
      [{ chunk: 0 }, /option "chunk" must be a positive integer \(save\(\)'s chunk: 0 means one chunk/],
      [{ chunk: 2.5 }, /option "chunk" must be a positive integer/],
    ] as const) {
      const error = await bulkInsert(sub.ds, Parcel, parcels(['a', 1]), options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkUsageError);
      expect(error).toMatchObject({ option: 'chunk' });
      expect((error as Error).message).toMatch(pattern);
    }
    expect(await bulkInsert(sub.ds, Parcel, parcels(['a', 1]), { chunk: 4, batchSize: 4 })).toMatchObject({ inserted: 1 });
  });
});

describe('transaction', () => {
  it('transaction: false outside a transaction is refused, naming it; nothing is written and no hook runs', async () => {
    for (const call of [
      () => bulkInsert(sub.ds, Parcel, parcels(['a', 1]), { transaction: false }),
      () => bulkUpdate(sub.ds, Parcel, parcels(['a', 1]), { transaction: false }),
      () => bulkSave(sub.ds, Parcel, parcels(['a', 1]), { transaction: false }),
      () => bulkUpsert(sub.ds, Parcel, parcels(['a', 1]), { transaction: false }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ option: 'transaction', feature: 'option transaction', entityName: 'Parcel' });
      expect((error as Error).message).toMatch(/option "transaction" .*atomic: false/);
    }
    expect(await stored(sub)).toEqual([]);
    expect(sub.log).toEqual([]);
  });

  it("transaction: false inside the caller's transaction is what save() does there: the caller's transaction", async () => {
    const a = await run(ref, (ds) => ds.transaction((m) => m.save(parcels(['a', 1], ['b', 2]), { transaction: false })));
    const b = await run(sub, (ds) =>
      ds.transaction((m) => bulkInsert(m, Parcel, parcels(['a', 1], ['b', 2]), { transaction: false })),
    );
    await expectSameOutcome(a.log, b.log);
  });

  it('transaction: true is the default, as for save()', async () => {
    const a = await run(ref, (ds) => ds.manager.save(parcels(['a', 1]), { transaction: true }));
    const b = await run(sub, (ds) => bulkInsert(ds, Parcel, parcels(['a', 1]), { transaction: true }));
    await expectSameOutcome(a.log, b.log);
  });
});

describe('reload', () => {
  it('reload: false is refused (save() then leaves the generated key off the object); reload: true is save()', async () => {
    const saved = parcels(['a', 1]);
    await ref.ds.manager.save(saved, { reload: false });
    expect((saved[0] as Parcel).id).toBeUndefined();

    const error = await bulkInsert(sub.ds, Parcel, parcels(['a', 1]), { reload: false as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ option: 'reload' });
    expect((error as Error).message).toMatch(/option "reload" \(TypeORM's save\(\) option\) is not supported: .*generated keys/);
    expect(await stored(sub)).toEqual([]);

    const written = parcels(['a', 1]);
    await bulkInsert(sub.ds, Parcel, written, { reload: true });
    expect((written[0] as Parcel).id).toBe(1);
  });
});

describe('upsert options', () => {
  const xmins = async (side: Side) =>
    new Map(
      ((await side.ds.query(`SELECT code, xmin::text AS x FROM ${side.table}`)) as { code: string; x: string }[]).map((r) => [
        r.code,
        r.x,
      ]),
    );
  const rewritten = (before: Map<string, string>, after: Map<string, string>) =>
    [...after].filter(([code, x]) => before.get(code) !== x).map(([code]) => code);

  it('skipUpdateIfNoValuesChanged: the rows of repository.upsert; rows left as they were are unchanged, with no update hooks', async () => {
    for (const side of [ref, sub]) await side.ds.manager.save(parcels(['a', 1], ['b', 2], ['c', 3]));
    const input = () => parcels(['a', 1], ['b', 5], ['d', 4], ['c', 3]);
    const touched: string[][] = [];
    for (const side of [ref, sub]) {
      const before = await xmins(side);
      side.log.length = 0;
      if (side === ref) {
        await ref.ds.getRepository(Parcel).upsert(input(), { conflictPaths: ['code'], skipUpdateIfNoValuesChanged: true });
      } else {
        const entities = input();
        const result = await bulkUpsert(sub.ds, Parcel, entities, { conflictPaths: ['code'], skipUpdateIfNoValuesChanged: true });
        expect(result).toMatchObject({
          inserted: 1,
          updated: 1,
          unchanged: 2,
          skipped: [],
          outcomes: ['unchanged', 'updated', 'inserted', 'unchanged'],
        });
        // Values come back onto the rows written, and only those (TypeORM's upsert() hands the returned
        // ids out by position, so there `a` got b's id and `b` got d's: docs/differences.md).
        const d = ((await stored(sub)) as Parcel[]).find((r) => r.code === 'd');
        expect(entities.map((e) => e.id)).toEqual([undefined, 2, d?.id, undefined]);
      }
      touched.push(rewritten(before, await xmins(side)));
    }
    expect(await stored(sub)).toEqual(await stored(ref));
    expect(touched[1]?.sort()).toEqual(touched[0]?.sort());
    expect(touched[1]?.sort()).toEqual(['b', 'd']);
    expect(sub.log.filter((l) => /^after(Insert|Update)/.test(l))).toEqual(['afterInsert d {}', 'afterUpdate b {}']);
  });

  it('conflictPaths as an object, and equal to target, is accepted; different from target is refused', async () => {
    await bulkInsert(sub.ds, Parcel, parcels(['a', 1]));
    const result = await bulkUpsert(sub.ds, Parcel, parcels(['a', 2]), { conflictPaths: { code: true }, target: ['code'] });
    expect(result.outcomes).toEqual(['updated']);
    const error = await bulkUpsert(sub.ds, Parcel, parcels(['a', 3]), { conflictPaths: ['code'], target: ['id'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkUsageError);
    expect(error).toMatchObject({ option: 'conflictPaths' });
    const unknown = await bulkUpsert(sub.ds, Parcel, parcels(['a', 3]), { conflictPaths: ['cod'] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(BulkUsageError);
    expect((unknown as Error).message).toMatch(
      /"conflictPaths": Parcel has no column or property "cod" \(did you mean "code"\?\)/,
    );
    expect((await stored(sub)).map((r: Parcel) => r.qty)).toEqual([2]);
  });

  it("upsert()'s options cohort does not support are refused by name, and nothing is written", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ indexPredicate: 'qty > 0' }, 'indexPredicate'],
      [{ upsertType: 'primary-key' }, 'upsertType'],
      [{ returning: ['id'] }, 'returning'],
      [{ overwriteCondition: { where: 'qty > 0' } }, 'overwriteCondition'],
    ];
    for (const [options, option] of cases) {
      const error = await bulkUpsert(sub.ds, Parcel, parcels(['a', 1]), options as never).catch((e: unknown) => e);
      expect(error, option).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ option, feature: `option ${option}` });
      expect((error as Error).message).toMatch(new RegExp(`bulkUpsert option "${option}" \\(TypeORM's .*\\) is not supported: `));
    }
    expect(await stored(sub)).toEqual([]);
    expect(sub.log).toEqual([]);
    const result = await bulkUpsert(sub.ds, Parcel, parcels(['a', 1]), { upsertType: 'on-conflict-do-update' });
    expect(result.inserted).toBe(1);
  });

  it("upsert()'s names belong to bulkUpsert: on bulkInsert they are unknown options", async () => {
    const error = await bulkInsert(sub.ds, Parcel, parcels(['a', 1]), { conflictPaths: ['code'] } as never).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkUsageError);
    expect((error as Error).message).toMatch(/bulkInsert has no option "conflictPaths" \(an option of bulkUpsert\)/);
  });

  it('skipUpdateIfNoValuesChanged with where is refused (a row left as it was could not be told from one skipped)', async () => {
    const error = await bulkUpsert(sub.ds, Parcel, parcels(['a', 1]), {
      skipUpdateIfNoValuesChanged: true,
      where: 't.qty < excluded.qty',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkUsageError);
    expect(error).toMatchObject({ option: 'skipUpdateIfNoValuesChanged' });
  });
});

describe('repository methods', () => {
  it("pass TypeORM's option names through: data, listeners, chunk", async () => {
    const unregister = registerBulkRepository();
    try {
      const repo = sub.ds.getRepository(Parcel);
      await run(sub, () => repo.bulkInsert(parcels(['a', 1], ['b', 2]), { data: { via: 'repo' }, chunk: 1, pipeline: false }));
      expect(batchCalls).toEqual(['beforeBulkInsert 1 {"via":"repo"}', 'beforeBulkInsert 1 {"via":"repo"}']);
      sub.log.length = 0;
      const result = await run(sub, () =>
        repo.bulkUpsert(parcels(['a', 1]), { listeners: false, skipUpdateIfNoValuesChanged: true }),
      );
      expect(result.value.outcomes).toEqual(['unchanged']);
      expect(sub.log).toEqual(['beforeTransactionStart {}', 'afterTransactionCommit {}']);
      const error = await repo.bulkSave(parcels(['c', 1]), { batchsize: 2 } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkUsageError);
      expect((error as Error).message).toMatch(/bulkSave has no option "batchsize" \(did you mean "batchSize"\?\)/);
    } finally {
      unregister();
    }
  });
});
