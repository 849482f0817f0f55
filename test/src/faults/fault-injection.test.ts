// Faults injected into bulk calls of every operation, through both adapters (and, in CI, both
// strategies): hooks and batch methods throwing at chosen rows and batches, constraint violations at
// chosen rows, a statement cancelled mid-flight (what statement_timeout does), a lock wait cut short
// (lock_timeout). After each: the error is typed and names the row or batch, the table is byte for
// byte what it was (a checksum of every row), the ORM instance is usable, and a retry succeeds.
import { BulkDatabaseError, BulkHookError, BulkWriteError, ForeignKeyViolationError, UniqueViolationError } from '@cohort/core';
import pg from 'pg';
import { beforeAll, expect, inject, it } from 'vitest';
import { describeConformance, type OrmUnderTest } from '../harness/conformance.js';
import { type FaultContext, FaultHooks, type FaultPoint } from '../harness/fault-hooks.js';

const N = 25;
const BATCH = 10;
type Op = 'insert' | 'update' | 'upsert' | 'save';

/** Every row of the table as one digest: a failed call must leave it unchanged to the byte. */
async function checksum(side: OrmUnderTest, table: string): Promise<string> {
  const [row] = await side.query<{ sum: string | null; n: string }>(
    `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS sum, count(*) AS n FROM "${side.schema}"."${table}" t`,
  );
  return `${row?.n}:${row?.sum}`;
}

const seeds = (side: OrmUnderTest, from = 0) =>
  Array.from({ length: N }, (_, i) =>
    side.create('Unique', { email: `e${from + i}@x`, name: `n${from + i}`, version: from + i }),
  );

/**
 * The input of an operation over the `unique_fixture` table, with rows stored first where the
 * operation changes stored rows: update (all loaded and changed), upsert and save (half stored).
 */
async function arrange(side: OrmUnderTest, op: Op): Promise<object[]> {
  if (op === 'insert') return seeds(side);
  if (op === 'update') {
    await side.bulkInsert(seeds(side));
    const loaded = await side.find('Unique');
    for (const row of loaded) row.name = `${row.name}!`;
    return loaded;
  }
  // Rows 0, 2, 4… exist already; odd rows are new.
  await side.bulkInsert(seeds(side).filter((_, i) => i % 2 === 0));
  const loaded = op === 'save' ? await side.find('Unique') : [];
  return Array.from({ length: N }, (_, i) => {
    const stored = loaded.find((row) => row.email === `e${i}@x`);
    if (stored) return Object.assign(stored, { name: `n${i}!` });
    return side.create('Unique', { email: `e${i}@x`, name: `n${i}!`, version: i });
  });
}

const run = (side: OrmUnderTest, op: Op, entities: object[]) => {
  const options = { batchSize: BATCH };
  if (op === 'insert') return side.bulkInsert(entities, options);
  if (op === 'update') return side.bulkUpdate(entities, options);
  if (op === 'upsert') return side.bulkUpsert(entities, { ...options, target: ['email'] });
  return side.bulkSave(entities, options);
};

/** The before-hook an operation runs for row `i`'s entity (TypeORM's upsert runs insert hooks first). */
function beforePoint(side: OrmUnderTest, op: Op, i: number): FaultPoint {
  if (op === 'upsert') return side.orm === 'typeorm' ? 'beforeInsert' : 'beforeUpsert';
  if (op === 'update' || (op === 'save' && i % 2 === 0)) return 'beforeUpdate';
  return 'beforeInsert';
}

/** The after-hook for row `i`: an update's for stored rows (all of an update, the even rows otherwise). */
function afterPoint(op: Op, i: number): FaultPoint {
  return op === 'update' || (op !== 'insert' && i % 2 === 0) ? 'afterUpdate' : 'afterInsert';
}

/**
 * The batch row `row` is written in. An upsert cuts its array into batches in conflict-key order
 * (emails, ASCII: e0, e1, e10…, so concurrent calls lock rows in one order); the update's input is
 * loaded in key order already; inserts and saves keep input order.
 */
function batchOf(op: Op, entities: object[], row: number): number {
  if (op !== 'upsert') return Math.floor(row / BATCH);
  const emails = entities.map((e) => (e as { email: string }).email).sort();
  return Math.floor(emails.indexOf((entities[row] as { email: string }).email) / BATCH);
}

const boom = (context: FaultContext) => {
  throw new Error(`injected at ${context.point}`);
};

/** Where rows end up when the call is retried after the fault: the same as one clean call. */
async function expectRetryWrites(side: OrmUnderTest, op: Op, entities: object[]): Promise<void> {
  const result = await run(side, op, entities);
  expect(result.inserted + result.updated).toBe(N);
  const rows = await side.rows('unique_fixture', 'email');
  expect(rows.length).toBe(N);
  if (op !== 'insert') expect(rows.every((r) => String(r.name).endsWith('!'))).toBe(true);
}

describeConformance('faults: injected at chosen rows and batches', ({ subject }) => {
  let faults: FaultHooks;
  beforeAll(() => {
    faults = new FaultHooks(subject(), 'unique_fixture');
  });

  for (const op of ['insert', 'update', 'upsert', 'save'] as const) {
    // The first row, a row inside the middle batch, the last row.
    for (const row of [0, 13, N - 1]) {
      for (const when of ['before', 'after'] as const) {
        it(`${op}: a ${when}-hook throwing at row ${row} fails the call naming the row; nothing written; a retry writes all`, async () => {
          const side = subject();
          const entities = await arrange(side, op);
          const before = await checksum(side, 'unique_fixture');
          const point = when === 'before' ? beforePoint(side, op, row) : afterPoint(op, row);
          const target = entities[row] as { email: string };
          const error = await faults
            .with({ when: (c) => c.point === point && c.entity?.email === target.email, act: boom }, () =>
              run(side, op, entities),
            )
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(BulkHookError);
          expect(error).toMatchObject({ index: row, batch: batchOf(op, entities, row), hook: expect.stringMatching(/\w/) });
          expect((error as Error).cause).toMatchObject({ message: `injected at ${point}` });
          expect(await checksum(side, 'unique_fixture')).toBe(before);
          await expectRetryWrites(side, op, entities);
        });
      }
    }

    if (op !== 'upsert') {
      for (const batch of [0, 1, 2]) {
        it(`${op}: a batch method throwing at batch ${batch} fails the call naming the batch; nothing written; a retry writes all`, async () => {
          const side = subject();
          const entities = await arrange(side, op);
          const before = await checksum(side, 'unique_fixture');
          const points: FaultPoint[] =
            op === 'insert' ? ['afterBulkInsert'] : op === 'update' ? ['beforeBulkUpdate'] : ['afterBulkUpdate'];
          const error = await faults
            .with({ when: (c) => points.includes(c.point) && c.batch === batch, act: boom }, () => run(side, op, entities))
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(BulkHookError);
          expect(error).toMatchObject({ batch });
          expect(await checksum(side, 'unique_fixture')).toBe(before);
          await expectRetryWrites(side, op, entities);
        });
      }
    }
  }

  for (const row of [0, 13, N - 1]) {
    it(`insert: a unique violation at row ${row} is a UniqueViolationError naming the row; nothing written`, async () => {
      const side = subject();
      await side.bulkInsert([side.create('Unique', { email: `e${row}@x`, name: 'taken', version: 0 })]);
      const before = await checksum(side, 'unique_fixture');
      const error = await run(side, 'insert', seeds(side)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UniqueViolationError);
      expect(error).toMatchObject({ index: row, batch: Math.floor(row / BATCH), code: '23505' });
      expect(await checksum(side, 'unique_fixture')).toBe(before);
      // The instance is usable: the other rows go in.
      const rest = seeds(side).filter((_, i) => i !== row);
      expect((await side.bulkInsert(rest, { batchSize: BATCH })).inserted).toBe(N - 1);
    });

    it(`insert: a foreign key violation at row ${row} is a ForeignKeyViolationError naming the row; nothing written`, async () => {
      const side = subject();
      const author = side.create('Author', { name: 'A' });
      await side.bulkInsert([author]);
      // A reference, by key, to an author that does not exist.
      const ghost = side.native.em
        ? side.native.em.getReference(author.constructor, 999_999)
        : side.create('Author', { id: 999_999, name: 'ghost' });
      const books = Array.from({ length: N }, (_, i) =>
        side.create('Book', { title: `t${i}`, author: i === row ? ghost : author }),
      );
      const before = await checksum(side, 'book');
      const error = await side.bulkInsert(books, { batchSize: BATCH }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForeignKeyViolationError);
      expect(error).toMatchObject({ index: row, code: '23503' });
      expect(await checksum(side, 'book')).toBe(before);
    });
  }

  for (const op of ['insert', 'update'] as const) {
    it(`${op}: a statement cancelled mid-flight (as by statement_timeout, 57014) is a BulkDatabaseError naming the batch; nothing written; a retry writes all`, async () => {
      const side = subject();
      const entities = await arrange(side, op);
      const before = await checksum(side, 'unique_fixture');
      const drop = await sleepInStatement(side, op === 'insert' ? 'INSERT' : 'UPDATE', 2);
      let error: unknown;
      try {
        [error] = await Promise.all([run(side, op, entities).catch((e: unknown) => e), signalSleeper(side, 'pg_cancel_backend')]);
      } finally {
        await drop();
      }
      expect(error).toBeInstanceOf(BulkDatabaseError);
      expect(error).toMatchObject({ code: '57014', batch: 1 });
      expect(await checksum(side, 'unique_fixture')).toBe(before);
      await expectRetryWrites(side, op, entities);
    });
  }

  it('update: a lock wait cut short (lock_timeout, 55P03) is a BulkDatabaseError naming the batch; nothing written; a retry writes all', async () => {
    const side = subject();
    const entities = await arrange(side, 'update');
    const before = await checksum(side, 'unique_fixture');
    const s = `"${side.schema}"`;
    // The update's own transaction gets a short lock_timeout from a statement trigger; another
    // transaction holds row e14's lock meanwhile.
    await side.query(`CREATE FUNCTION ${s}.fault_lock_timeout() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM set_config('lock_timeout', '200ms', true); RETURN NULL; END $$`);
    await side.query(
      `CREATE TRIGGER fault_lock_timeout BEFORE UPDATE ON ${s}.unique_fixture FOR EACH STATEMENT EXECUTE FUNCTION ${s}.fault_lock_timeout()`,
    );
    const holder = new pg.Client({ connectionString: inject('databaseUrl') });
    await holder.connect();
    let error: unknown;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${s}.unique_fixture WHERE email = 'e14@x' FOR UPDATE`);
      error = await run(side, 'update', entities).catch((e: unknown) => e);
    } finally {
      await holder.end();
      await side.query(`DROP TRIGGER fault_lock_timeout ON ${s}.unique_fixture`);
      await side.query(`DROP FUNCTION ${s}.fault_lock_timeout()`);
    }
    expect(error).toBeInstanceOf(BulkWriteError);
    expect(error).toMatchObject({ code: '55P03', batch: 1 });
    expect(await checksum(side, 'unique_fixture')).toBe(before);
    await expectRetryWrites(side, 'update', entities);
  });
});

/** A statement-level trigger that sleeps 30 s in the `nth` `event` statement on unique_fixture. */
async function sleepInStatement(side: OrmUnderTest, event: 'INSERT' | 'UPDATE', nth: number): Promise<() => Promise<void>> {
  const s = `"${side.schema}"`;
  await side.query(`CREATE SEQUENCE ${s}.fault_statements`);
  await side.query(`CREATE FUNCTION ${s}.fault_sleep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF nextval('${s}.fault_statements') = ${nth} THEN PERFORM pg_sleep(30); END IF; RETURN NULL; END $$`);
  await side.query(
    `CREATE TRIGGER fault_sleep BEFORE ${event} ON ${s}.unique_fixture FOR EACH STATEMENT EXECUTE FUNCTION ${s}.fault_sleep()`,
  );
  return async () => {
    await side.query(`DROP TRIGGER fault_sleep ON ${s}.unique_fixture`);
    await side.query(`DROP FUNCTION ${s}.fault_sleep()`);
    await side.query(`DROP SEQUENCE ${s}.fault_statements`);
  };
}

/** Cancels (or terminates) the backend sleeping in the schema's trigger, once it is seen sleeping. */
async function signalSleeper(side: OrmUnderTest, signal: 'pg_cancel_backend' | 'pg_terminate_backend'): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const [row] = await side.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
      [side.schema],
    );
    if (row) {
      await side.query(`SELECT ${signal}($1)`, [row.pid]);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no statement was seen sleeping');
}
