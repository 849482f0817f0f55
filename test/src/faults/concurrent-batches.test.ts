// Concurrent calls larger than one batch over overlapping keys (issue 18): an array input is put in
// key order across the whole call before it is cut into batches, so every caller locks rows in one
// order, batch after batch, and none waits for a row another caller holds while holding one that
// caller waits for. Without it, 8 callers × 4 batches deadlocked (40P01) in about 45% of calls, and
// these scenarios failed at 4 and 16 batches per caller, upserts and updates alike.
import { TransientDatabaseError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance } from '../harness/conformance.js';

const WRITERS = 6;
const BATCH = 6;
const ROUNDS = 1;

// A fixed pseudo-random shuffle, so every run sends the same (unsorted) input orders.
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const email = (key: number) => `k${String(key).padStart(4, '0')}@x`;

/**
 * The keys of each writer: `batches` batches' worth, in windows that overlap the next writers'
 * (every key is held by several writers), over a key space a little larger than one writer's.
 */
function writerKeys(writer: number, batches: number): number[] {
  const rows = BATCH * batches;
  const space = rows + (WRITERS * BATCH) / 2;
  return Array.from({ length: rows }, (_, j) => (writer * (BATCH / 2) + j) % space);
}

/** Rejections of the settled calls, as text (expected: none). */
function failures(results: PromiseSettledResult<unknown>[]): string[] {
  return results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
}

describeConformance('concurrent calls of several batches', ({ subject }) => {
  for (const batches of [1, 4, 16]) {
    it(`bulkUpsert: ${WRITERS} writers × ${batches} batches over overlapping keys, shuffled: no deadlock, every row counted`, async () => {
      const expected = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        const calls = Array.from({ length: WRITERS }, (_, writer) => {
          const keys = writerKeys(writer, batches).map(email);
          for (const key of keys) expected.set(key, (expected.get(key) ?? 0) + 1);
          const rows = shuffled(keys, round * WRITERS + writer + 1).map((key) =>
            subject().create('Unique', { email: key, name: `w${writer}`, version: 1 }),
          );
          // Each upsert adds 1 to the key's counter: the final counts do not depend on commit order.
          return subject().bulkUpsert(rows, {
            batchSize: BATCH,
            update: ['version'],
            expressions: { version: '{current} + {value}' },
          });
        });
        expect(failures(await Promise.allSettled(calls)), `round ${round}`).toEqual([]);
      }
      const rows = await subject().query<{ email: string; version: number }>(
        'SELECT email, version FROM unique_fixture ORDER BY email',
      );
      expect(rows).toHaveLength(expected.size);
      expect(Object.fromEntries(rows.map((r) => [r.email, r.version]))).toEqual(Object.fromEntries([...expected].sort()));
    });

    it(`bulkUpdate: ${WRITERS} writers × ${batches} batches over overlapping keys, shuffled: no deadlock, every update counted`, async () => {
      const space = Math.max(...Array.from({ length: WRITERS }, (_, w) => writerKeys(w, batches)).flat()) + 1;
      await subject().bulkInsert(
        Array.from({ length: space }, (_, key) => subject().create('Unique', { email: email(key), name: 'seed', version: 0 })),
      );
      const expected = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        // Every writer loads the rows as its own objects (MikroORM: its own fork) before any writes.
        const loaded = await Promise.all(Array.from({ length: WRITERS }, () => subject().find('Unique')));
        const calls = loaded.map((all, writer) => {
          const byEmail = new Map(all.map((row: { email: string; name: string }) => [row.email, row]));
          const keys = writerKeys(writer, batches).map(email);
          for (const key of keys) expected.set(key, (expected.get(key) ?? 0) + 1);
          const rows = shuffled(keys, round * WRITERS + writer + 1).map((key) => {
            const row = byEmail.get(key) as { name: string };
            row.name = `w${writer}r${round}`;
            return row;
          });
          // Each update adds 1 to the row's counter, whatever the name it finds.
          return subject().bulkUpdate(rows, { batchSize: BATCH, expressions: { version: '{current} + 1' } });
        });
        expect(failures(await Promise.allSettled(calls)), `round ${round}`).toEqual([]);
      }
      const rows = await subject().query<{ email: string; version: number; name: string }>(
        'SELECT email, version, name FROM unique_fixture ORDER BY email',
      );
      expect(rows).toHaveLength(space);
      const counts = Object.fromEntries(rows.map((r) => [r.email, r.version]));
      const want = Object.fromEntries(Array.from({ length: space }, (_, key) => [email(key), expected.get(email(key)) ?? 0]));
      expect(counts).toEqual(want);
      // A row's name is the one some writer of the last round that holds it gave.
      for (const row of rows) {
        if ((expected.get(row.email) ?? 0) > 0) expect(row.name).toMatch(new RegExp(`^w\\d+r${ROUNDS - 1}$`));
        else expect(row.name).toBe('seed');
      }
    });

    // checkVersion: false sends the DELETE matched by `key = ANY($1)` rather than by an unnest join:
    // both lock their rows in key order before deleting.
    for (const checkVersion of [true, false]) {
      it(`bulkRemove${checkVersion ? '' : ' (checkVersion: false)'}: ${WRITERS} writers × ${batches} batches over overlapping keys, shuffled: no deadlock, every row removed once`, async () => {
        const space = Math.max(...Array.from({ length: WRITERS }, (_, w) => writerKeys(w, batches)).flat()) + 1;
        await subject().bulkInsert(
          Array.from({ length: space }, (_, key) => subject().create('Unique', { email: email(key), name: 'seed', version: 0 })),
        );
        const loaded = await Promise.all(Array.from({ length: WRITERS }, () => subject().find('Unique')));
        const held = new Set<string>();
        const calls = loaded.map((all, writer) => {
          const byEmail = new Map(all.map((row: { email: string }) => [row.email, row]));
          const keys = writerKeys(writer, batches).map(email);
          for (const key of keys) held.add(key);
          return subject().bulkRemove(
            shuffled(keys, writer + 1).map((key) => byEmail.get(key) as object),
            { batchSize: BATCH, checkVersion },
          );
        });
        const results = await Promise.allSettled(calls);
        expect(failures(results)).toEqual([]);
        // A row two writers hold is removed by one of them; the other finds it gone (missing).
        const removed = results.map((r) => (r.status === 'fulfilled' ? (r.value as { removed: number }).removed : 0));
        expect(removed.reduce((a, b) => a + b, 0)).toBe(held.size);
        const left = await subject().query<{ email: string }>('SELECT email FROM unique_fixture ORDER BY email');
        expect(left.map((r) => r.email)).toEqual(
          Array.from({ length: space }, (_, key) => email(key)).filter((key) => !held.has(key)),
        );
      });
    }
  }

  // The documented limit: a stream is not held in memory, so its batches follow the input. Two
  // streams whose second batches each take a row the other's first batch holds deadlock; the one
  // PostgreSQL picks fails with a retryable TransientDatabaseError (40P01), rolled back, and a retry
  // succeeds.
  it('streams of several batches over overlapping keys in opposite orders: 40P01 as a retryable TransientDatabaseError', async () => {
    const side = subject();
    const release: { a?: () => void; b?: () => void } = {};
    const written = { a: new Promise<void>((r) => (release.a = r)), b: new Promise<void>((r) => (release.b = r)) };
    /** Yields `first`; once its batch is written (the next row is asked for), waits for the other stream's. */
    async function* stream(first: string, second: string, own: 'a' | 'b', other: 'a' | 'b') {
      yield side.create('Unique', { email: first, name: own, version: 1 });
      release[own]?.();
      await written[other];
      yield side.create('Unique', { email: second, name: own, version: 1 });
    }
    const upsert = (rows: AsyncIterable<object>) =>
      side.bulkUpsert(
        rows as never,
        { batchSize: 1, update: ['version'], expressions: { version: '{current} + {value}' } },
        'Unique',
      );
    const results = await Promise.allSettled([
      upsert(stream('s1@x', 's2@x', 'a', 'b')),
      upsert(stream('s2@x', 's1@x', 'b', 'a')),
    ]);
    const failed = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toBeInstanceOf(TransientDatabaseError);
    expect(failed[0]).toMatchObject({ code: '40P01', retryable: true, batch: 1 });
    // The failed call wrote nothing; the other wrote both rows once. Retried (as an array), it adds its own.
    const counts = async () =>
      Object.fromEntries(
        (await side.query<{ email: string; version: number }>('SELECT email, version FROM unique_fixture ORDER BY email')).map(
          (r) => [r.email, r.version],
        ),
      );
    expect(await counts()).toEqual({ 's1@x': 1, 's2@x': 1 });
    await upsert(
      (async function* () {
        yield side.create('Unique', { email: 's1@x', name: 'retry', version: 1 });
        yield side.create('Unique', { email: 's2@x', name: 'retry', version: 1 });
      })(),
    );
    expect(await counts()).toEqual({ 's1@x': 2, 's2@x': 2 });
  });
});
