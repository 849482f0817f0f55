/// <reference types="@cohort/typeorm/register" />
// TypeORM: the caller's transaction, repository methods, and batch-level subscribers.
import { createSchema } from '@cohort/pg-harness';
import {
  bulkInsert,
  bulkUpdate,
  bulkUpsert,
  ConnectionLostError,
  registerBulkRepository,
  type TypeormBulkEvent,
  type TypeormBulkSubscriber,
  type TypeormBulkUpdateEvent,
  UniqueViolationError,
} from '@cohort/typeorm';
import {
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('ledger')
class Ledger {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40, unique: true }) ref!: string;
  @Column({ type: 'integer' }) amount!: number;
}

const calls: string[] = [];
let killAtBatch: number | undefined;
const befores: Readonly<Record<string, unknown>>[] = [];
let pids: number[] = [];

/** A batch subscriber (one call per batch) that also has per-entity methods cohort must not call. */
@EventSubscriber()
class BatchAudit implements EntitySubscriberInterface<Ledger>, TypeormBulkSubscriber<Ledger> {
  listenTo() {
    return Ledger;
  }
  afterInsert(event: InsertEvent<Ledger>) {
    calls.push(`afterInsert ${event.entity.ref}`);
  }
  async beforeBulkInsert(event: TypeormBulkEvent<Ledger>) {
    calls.push(`beforeBulkInsert ${event.entities.length} batch ${event.batch}`);
    if (event.batch === killAtBatch) {
      // The connection of the running transaction dies (as if the server restarted it).
      const [{ pid }] = await event.manager.query('SELECT pg_backend_pid() AS pid');
      await ds.query('SELECT pg_terminate_backend($1)', [pid]);
    }
  }
  async afterBulkInsert(event: TypeormBulkEvent<Ledger>) {
    calls.push(`afterBulkInsert ${event.entities.map((e) => e.id).join(',')}`);
    // (Not while a test kills the connection: a lost connection ends the transaction under the hook.)
    if (killAtBatch === undefined) expect(event.queryRunner.isTransactionActive).toBe(true);
    const [row] = await event.manager.query('SELECT pg_backend_pid() AS pid');
    pids.push(row.pid);
    await event.manager.query(`INSERT INTO ledger_audit (n) VALUES ($1)`, [event.entities.length]);
  }
  async afterBulkUpdate(event: TypeormBulkUpdateEvent<Ledger>) {
    calls.push(`afterBulkUpdate ${event.changes.map((c) => c.properties.join('+')).join(',')}`);
    befores.push(...event.changes.map((c) => c.before));
  }
}

/** A per-entity subscriber: gets per-entity calls, as under save(). */
@EventSubscriber()
class PerEntity implements EntitySubscriberInterface<Ledger> {
  listenTo() {
    return Ledger;
  }
  afterInsert(event: InsertEvent<Ledger>) {
    calls.push(`perEntity ${event.entity.ref} id=${event.entityId}`);
  }
}

let ds: DataSource;
let drop: () => Promise<void>;
const rows = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => Object.assign(new Ledger(), { ref: `r${from + i}`, amount: i }));
const count = async (table = 'ledger') => Number((await ds.query(`SELECT count(*) AS n FROM ${table}`))[0].n);

beforeAll(async () => {
  const schema = await createSchema(inject('databaseUrl'), 'tx');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url: inject('databaseUrl'),
    schema: schema.name,
    entities: [Ledger],
    subscribers: [BatchAudit, PerEntity],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  await ds.query('CREATE TABLE ledger_audit (n int NOT NULL)');
});
afterAll(async () => {
  await ds.destroy();
  await drop();
});
beforeEach(async () => {
  await ds.query('TRUNCATE ledger, ledger_audit RESTART IDENTITY');
  calls.length = 0;
  befores.length = 0;
  pids = [];
});

describe('caller transaction', () => {
  it("runs in the caller's transaction: same connection, and rolls back with it", async () => {
    await expect(
      ds.transaction(async (m) => {
        const [own] = await m.query('SELECT pg_backend_pid() AS pid');
        await bulkInsert(m, Ledger, rows(3));
        expect(pids).toEqual([own.pid]);
        expect(Number((await m.query('SELECT count(*) AS n FROM ledger'))[0].n)).toBe(3);
        throw new Error('caller aborts');
      }),
    ).rejects.toThrow('caller aborts');
    expect(await count()).toBe(0);
    expect(await count('ledger_audit')).toBe(0);
  });

  it("a failed call leaves the caller's transaction usable and unchanged (savepoint)", async () => {
    await ds.transaction(async (m) => {
      await m.save(Object.assign(new Ledger(), { ref: 'kept', amount: 1 }));
      const error = await bulkInsert(m, Ledger, [...rows(2), Object.assign(new Ledger(), { ref: 'kept', amount: 2 })]).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(UniqueViolationError);
      expect(error.index).toBe(2);
      await m.save(Object.assign(new Ledger(), { ref: 'after', amount: 3 }));
    });
    expect((await ds.query('SELECT ref FROM ledger ORDER BY id')).map((r: { ref: string }) => r.ref)).toEqual(['kept', 'after']);
    expect(await count('ledger_audit')).toBe(0);
  });

  it('with its own transaction, the audit rows commit with the data', async () => {
    await bulkInsert(ds, Ledger, rows(5), { batchSize: 2 });
    expect(await count()).toBe(5);
    expect((await ds.query('SELECT n FROM ledger_audit')).map((r: { n: number }) => r.n)).toEqual([2, 2, 1]);
    expect(new Set(pids).size).toBe(1);
  });
});

describe('batch subscribers', () => {
  it('get one call per batch instead of per-entity calls; other subscribers still get per-entity calls', async () => {
    await bulkInsert(ds, Ledger, rows(5), { batchSize: 2 });
    expect(calls.filter((c) => c.startsWith('afterInsert'))).toEqual([]);
    // Each batch after the first is prepared (before-hooks) while the previous one's INSERT is in flight.
    expect(calls.filter((c) => c.includes('Bulk'))).toEqual([
      'beforeBulkInsert 2 batch 0',
      'beforeBulkInsert 2 batch 1',
      'afterBulkInsert 1,2',
      'beforeBulkInsert 1 batch 2',
      'afterBulkInsert 3,4',
      'afterBulkInsert 5',
    ]);
    expect(calls.filter((c) => c.startsWith('perEntity'))).toEqual([
      'perEntity r0 id=1',
      'perEntity r1 id=2',
      'perEntity r2 id=3',
      'perEntity r3 id=4',
      'perEntity r4 id=5',
    ]);
  });

  it('afterBulkUpdate receives the changed properties of each row', async () => {
    const ledger = rows(2);
    await bulkInsert(ds, Ledger, ledger);
    (ledger[0] as Ledger).amount = 100;
    (ledger[1] as Ledger).ref = 'renamed';
    await bulkUpdate(ds, Ledger, ledger);
    expect(calls.at(-1)).toBe('afterBulkUpdate amount,ref');
  });
});

describe('a lost connection', () => {
  it('fails the call with a typed error, and nothing of it is written', async () => {
    killAtBatch = 1;
    const error = await bulkInsert(ds, Ledger, rows(6), { batchSize: 2, pipeline: false }).catch((e: unknown) => e);
    killAtBatch = undefined;
    // Which layer notices first depends on the statement: PostgreSQL (57P01) or TypeORM's released
    // runner; either way it is a lost connection.
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error).toMatchObject({ batch: 1, committed: false });
    expect((error as Error).cause).toBeDefined();
    expect(await count()).toBe(0);
    expect(await count('ledger_audit')).toBe(0);
  });

  it('with batches overlapping, the batch whose statement was in flight is named, not the after-hook that met the dead connection', async () => {
    killAtBatch = 1;
    const error = await bulkInsert(ds, Ledger, rows(6), { batchSize: 2 }).catch((e: unknown) => e);
    killAtBatch = undefined;
    // Batch 1's before-hook kills the connection; batch 0's after-hook, running while batch 1's
    // INSERT is in flight, meets the dead connection (PostgreSQL's 57P01, or TypeORM's released
    // runner when the driver noticed first): the call reports the lost connection with batch 1 in
    // flight, not a hook failure.
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error).toMatchObject({ batch: 1, committed: false });
    expect(calls.filter((c) => c.includes('Bulk'))).toEqual([
      'beforeBulkInsert 2 batch 0',
      'beforeBulkInsert 2 batch 1',
      'afterBulkInsert 1,2',
    ]);
    expect(await count()).toBe(0);
    expect(await count('ledger_audit')).toBe(0);
  });
});

describe('upsert after-update hooks', () => {
  it('receive the columns the upsert wrote and, on PostgreSQL 18, their values before', async () => {
    await bulkInsert(ds, Ledger, rows(2));
    const [{ v }] = await ds.query(`SELECT current_setting('server_version_num')::int AS v`);
    const again = rows(2).map((r) => Object.assign(r, { amount: r.amount + 10 }));
    const result = await bulkUpsert(ds, Ledger, again, { target: ['ref'], update: ['amount'] });
    expect(result.updated).toBe(2);
    expect(calls.at(-1)).toBe('afterBulkUpdate amount,amount');
    expect(befores).toEqual(v >= 180000 ? [{ amount: 0 }, { amount: 1 }] : [{}, {}]);
  });
});

describe('repository methods', () => {
  it('registerBulkRepository adds typed methods, also on repositories of a transaction', async () => {
    const unregister = registerBulkRepository();
    try {
      const result = await ds.getRepository(Ledger).bulkInsert(rows(2));
      expect(result.inserted).toBe(2);
      await ds.transaction(async (m) => {
        await m.getRepository(Ledger).bulkInsert(rows(2, 10));
        await m.withRepository(ds.getRepository(Ledger)).bulkInsert(rows(2, 20));
        expect(pids.slice(-2)[0]).toBe(pids.slice(-2)[1]);
      });
      expect(await count()).toBe(6);
    } finally {
      unregister();
    }
    expect('bulkInsert' in ds.getRepository(Ledger)).toBe(false);
  });
});
