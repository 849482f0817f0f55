// Faults: the backend is terminated (pg_terminate_backend from another connection) while a batch's
// statement runs, or between statements while a hook of the next batch runs. The call must fail
// with a ConnectionLostError naming the batch in flight — never a hook failure — leave the table as
// it was, and leave the DataSource / EntityManager usable: a retry of the same objects writes them.
import { ConnectionLostError } from '@cohort/core';
import { beforeAll, expect, it } from 'vitest';
import { describeConformance, type OrmUnderTest } from '../harness/conformance.js';
import { FaultHooks } from '../harness/fault-hooks.js';

type Op = 'insert' | 'update' | 'upsert';
const TABLE: Record<Op, string> = { insert: 'seed', update: 'seed', upsert: 'unique_fixture' };

/**
 * A statement-level trigger on `table` that sleeps 30 s in the `nth` statement of the schema doing
 * `event` (an upsert fires both INSERT and UPDATE statement triggers: it counts by INSERT).
 */
async function slowStatement(
  side: OrmUnderTest,
  table: string,
  event: 'INSERT' | 'UPDATE',
  nth: number,
): Promise<() => Promise<void>> {
  const s = `"${side.schema}"`;
  await side.query(`CREATE SEQUENCE ${s}.fault_statements`);
  await side.query(`CREATE FUNCTION ${s}.fault_sleep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF nextval('${s}.fault_statements') = ${nth} THEN PERFORM pg_sleep(30); END IF; RETURN NULL; END $$`);
  await side.query(
    `CREATE TRIGGER fault_sleep BEFORE ${event} ON ${s}."${table}" FOR EACH STATEMENT EXECUTE FUNCTION ${s}.fault_sleep()`,
  );
  return async () => {
    await side.query(`DROP TRIGGER fault_sleep ON ${s}."${table}"`);
    await side.query(`DROP FUNCTION ${s}.fault_sleep()`);
    await side.query(`DROP SEQUENCE ${s}.fault_statements`);
  };
}

/** Terminates the backend that sleeps in the schema's trigger, once it is seen sleeping. */
async function terminateSleeper(side: OrmUnderTest): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const [row] = await side.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
      [side.schema],
    );
    if (row) {
      await side.query('SELECT pg_terminate_backend($1)', [row.pid]);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no statement was seen sleeping');
}

const inputs = (side: OrmUnderTest, op: Op, n: number) =>
  Array.from({ length: n }, (_, i) =>
    op === 'upsert'
      ? side.create('Unique', { email: `u${i}@x`, name: `n${i}` })
      : side.create('Seed', { qty: i, label: `s${i}`, createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, i)) }),
  );

/** Rows before the faulty call: updates need stored rows to change. */
async function arrange(side: OrmUnderTest, op: Op): Promise<object[]> {
  if (op !== 'update') return inputs(side, op, 25);
  await side.bulkInsert(inputs(side, op, 25));
  const loaded = await side.find('Seed');
  for (const row of loaded) row.qty += 100;
  return loaded;
}

const run = (side: OrmUnderTest, op: Op, entities: object[]) =>
  op === 'insert'
    ? side.bulkInsert(entities, { batchSize: 10 })
    : op === 'update'
      ? side.bulkUpdate(entities, { batchSize: 10 })
      : side.bulkUpsert(entities, { batchSize: 10, target: ['email'] });

async function killBackend(side: OrmUnderTest, pid: number): Promise<void> {
  await side.query('SELECT pg_terminate_backend($1)', [pid]);
  // Wait until the backend is gone, so the next statement surely meets a dead connection.
  for (let attempt = 0; attempt < 200; attempt++) {
    const [row] = await side.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    if (!row) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeConformance('faults: a lost connection', ({ subject }) => {
  let faults: FaultHooks;
  beforeAll(() => {
    faults = new FaultHooks(subject(), 'seed');
  });

  for (const op of ['insert', 'update', 'upsert'] as const) {
    it(`terminated during the second batch's ${op} statement: ConnectionLostError, nothing written, a retry writes all`, async () => {
      const side = subject();
      const entities = await arrange(side, op);
      const before = await side.rows(TABLE[op]);
      const drop = await slowStatement(side, TABLE[op], op === 'update' ? 'UPDATE' : 'INSERT', 2);
      try {
        const [error] = await Promise.all([run(side, op, entities).catch((e: unknown) => e), terminateSleeper(side)]);
        expect(error).toBeInstanceOf(ConnectionLostError);
        expect(error).toMatchObject({ committed: false, batch: 1 });
        expect((error as ConnectionLostError).code).toBe('57P01');
        expect((error as Error).message).toMatch(/connection to PostgreSQL lost with batch 1 in flight/);
      } finally {
        await drop();
      }
      expect(await side.rows(TABLE[op])).toEqual(before);
      const retried = await run(side, op, entities);
      expect(retried.inserted + retried.updated).toBe(25);
      if (op === 'update') {
        expect((await side.rows('seed')).map((r) => r.qty)).toEqual(Array.from({ length: 25 }, (_, i) => i + 100));
      } else {
        const rows = await side.rows(TABLE[op]);
        if (op === 'insert') {
          expect(rows.map((r) => r.id)).toEqual(entities.map((e) => (e as { id: number }).id));
        } else {
          // Every object carries its own row's key (an upsert writes its rows in email order, so the
          // keys it generates follow that order, not the input's).
          const byEmail = new Map(rows.map((r) => [r.email, r.id]));
          expect(byEmail.size).toBe(25);
          for (const e of entities as { email: string; id: number }[]) expect(e.id).toBe(byEmail.get(e.email));
        }
      }
    });
  }

  it('terminated between statements, in a before-insert hook of the second batch: ConnectionLostError, not a hook failure', async () => {
    const side = subject();
    const entities = inputs(side, 'insert', 25);
    // A before-insert hook of row 14 (batch 1) ends the backend of the transaction it runs in, then returns.
    const error = await faults
      .with(
        {
          when: ({ point, entity }) => point === 'beforeInsert' && entity?.label === 's14',
          act: async ({ backendPid }) => killBackend(side, await backendPid()),
        },
        () => side.bulkInsert(entities, { batchSize: 10 }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error).toMatchObject({ committed: false });
    expect(await side.rows('seed')).toEqual([]);
    const retried = await side.bulkInsert(entities, { batchSize: 10 });
    expect(retried.inserted).toBe(25);
    expect((await side.rows('seed')).map((r) => r.label)).toEqual(entities.map((e) => (e as { label: string }).label));
  });

  it('atomic: false — the loss is the cause of a PartialImportError that lists the batches that landed', async () => {
    const side = subject();
    const entities = inputs(side, 'insert', 25);
    const drop = await slowStatement(side, 'seed', 'INSERT', 2);
    let error: unknown;
    try {
      [error] = await Promise.all([
        side.bulkInsert(entities, { batchSize: 10, atomic: false }).catch((e: unknown) => e),
        terminateSleeper(side),
      ]);
    } finally {
      await drop();
    }
    expect(error).toMatchObject({ name: 'PartialImportError', landedBatches: [0], resumeFrom: 10 });
    expect((error as Error).cause).toBeInstanceOf(ConnectionLostError);
    expect((await side.rows('seed')).length).toBe(10);
  });
});
