// Concurrent upserts over overlapping keys (SPEC §7): rows are written in conflict-key order, so
// writers lock rows in one order and cannot deadlock. ANCHORS: upsertMany / TypeORM upsert
// deadlocked 24–29 times in 8 writers × 5 rounds.
import { expect, it } from 'vitest';
import { describeConformance } from '../harness/conformance.js';

const KEYS = 40;
const WRITERS = 8;
const ROUNDS = 20;
const PER_WRITER = 20;

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

describeConformance('concurrent bulkUpserts', ({ subject }) => {
  it(`${WRITERS} writers × ${ROUNDS} rounds over overlapping keys: no deadlock, no lost row`, async () => {
    const expected = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const calls = Array.from({ length: WRITERS }, (_, writer) => {
        const keys = Array.from({ length: PER_WRITER }, (_, j) => `k${String((writer * 5 + j) % KEYS).padStart(2, '0')}@x`);
        for (const key of keys) expected.set(key, (expected.get(key) ?? 0) + 1);
        const rows = shuffled(keys, round * WRITERS + writer + 1).map((email) =>
          subject().create('Unique', { email, name: `w${writer}`, version: 1 }),
        );
        // Each upsert adds 1 to the key's counter: the final counts do not depend on commit order.
        return subject().bulkUpsert(rows, { update: ['version'], expressions: { version: '{current} + {value}' } });
      });
      const results = await Promise.allSettled(calls);
      const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      expect(failures, `round ${round}`).toEqual([]);
    }
    const rows = await subject().query<{ email: string; version: number }>(
      'SELECT email, version FROM unique_fixture ORDER BY email',
    );
    expect(rows).toHaveLength(expected.size);
    expect(Object.fromEntries(rows.map((r) => [r.email, r.version]))).toEqual(Object.fromEntries([...expected].sort()));
  });
});
