// Progress a person can read (issue 24): a total and an ETA when the input is an array, batches
// counted from 1, and rows committed apart from rows pending in the open transaction — so that a
// report never claims rows a later failure rolls back.
import type { BulkProgress } from '@cohort/core';
import { PartialImportError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, type OrmUnderTest } from '../harness/conformance.js';

const users = (side: OrmUnderTest, n: number, duplicateAt?: number) =>
  Array.from({ length: n }, (_, i) => side.create('Unique', { email: `p${i === duplicateAt ? 0 : i}@x`, name: `n${i}` }));

async function* streamed(side: OrmUnderTest, n: number) {
  for (const user of users(side, n)) yield user;
}

describeConformance('progress', ({ subject }) => {
  it('an array: total, batches and an ETA; rows pending until the commit, then committed', async () => {
    const seen: BulkProgress[] = [];
    const result = await subject().bulkInsert(users(subject(), 25), { batchSize: 10, onProgress: (p) => seen.push(p) }, 'Unique');
    expect(result).toMatchObject({ inserted: 25, batches: 3 });
    expect(
      seen.map(({ batch, batches, total, processed, pending, committed }) => ({
        batch,
        batches,
        total,
        processed,
        pending,
        committed,
      })),
    ).toEqual([
      { batch: 1, batches: 3, total: 25, processed: 10, pending: 10, committed: 0 },
      { batch: 2, batches: 3, total: 25, processed: 20, pending: 20, committed: 0 },
      { batch: 3, batches: 3, total: 25, processed: 25, pending: 25, committed: 0 },
      { batch: 3, batches: 3, total: 25, processed: 25, pending: 0, committed: 25 },
    ]);
    for (const p of seen) {
      expect(p.rate).toBeGreaterThan(0);
      expect(p.eta).toBeCloseTo(((25 - p.processed) * 1000) / p.rate, 6);
      expect(p.elapsedMs).toBeGreaterThan(0);
    }
    expect(seen[0]?.eta).toBeGreaterThan(0);
    expect(seen.at(-1)?.eta).toBe(0);
  });

  it('a stream: no total, no batch count, no ETA; rows processed and a rate', async () => {
    const seen: BulkProgress[] = [];
    const input = streamed(subject(), 25) as unknown as object[];
    await subject().bulkInsert(input, { batchSize: 10, onProgress: (p) => seen.push(p) }, 'Unique');
    expect(seen.map((p) => p.processed)).toEqual([10, 20, 25, 25]);
    for (const p of seen) {
      expect(p).toMatchObject({ total: undefined, batches: undefined, eta: undefined });
      expect(p.rate).toBeGreaterThan(0);
    }
    expect((await subject().rows('unique_fixture')).length).toBe(25);
  });

  it('atomic (default), failing in a later batch: nothing is ever reported committed, and nothing stays', async () => {
    const seen: BulkProgress[] = [];
    const error = await subject()
      .bulkInsert(users(subject(), 25, 24), { batchSize: 10, pipeline: false, onProgress: (p) => seen.push(p) }, 'Unique')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UniqueViolationError', index: 24 });
    expect(seen.map((p) => [p.batch, p.pending, p.committed])).toEqual([
      [1, 10, 0],
      [2, 20, 0],
    ]);
    expect(await subject().rows('unique_fixture')).toEqual([]);
  });

  it('atomic: false: each report follows its batch commit, committed grows and matches the table', async () => {
    const seen: { batch: number; committed: number; pending: number }[] = [];
    const side = subject();
    const error = await side
      .bulkInsert(
        users(side, 25, 24),
        {
          batchSize: 10,
          atomic: false,
          onProgress: (p) => {
            seen.push({ batch: p.batch, committed: p.committed, pending: p.pending });
          },
        },
        'Unique',
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialImportError);
    expect(seen.map(({ batch, committed, pending }) => [batch, committed, pending])).toEqual([
      [1, 10, 0],
      [2, 20, 0],
    ]);
    // What was reported committed is what the table holds.
    expect((await side.rows('unique_fixture')).length).toBe(20);
  });

  it('atomic: false: the table holds the committed rows when each report is made', async () => {
    const side = subject();
    const reports: number[] = [];
    const counts: Promise<number>[] = [];
    await side.bulkInsert(
      users(side, 30),
      {
        batchSize: 10,
        atomic: false,
        onProgress: (p) => {
          reports.push(p.committed);
          counts.push(side.rows('unique_fixture').then((r) => r.length));
        },
      },
      'Unique',
    );
    expect(reports).toEqual([10, 20, 30]);
    // Each count is read on another connection while the call goes on: it sees at least the rows
    // committed when the report was made (a later batch may have committed since), never fewer.
    const seen = await Promise.all(counts);
    seen.forEach((count, i) => {
      expect(count).toBeGreaterThanOrEqual(reports[i] as number);
      expect(count).toBeLessThanOrEqual(30);
    });
  });

  it('onInvalid: skip: skipped rows count as processed, not as written', async () => {
    const seen: BulkProgress[] = [];
    const rows = users(subject(), 12);
    (rows[3] as { email: string }).email = `${'x'.repeat(300)}@x`;
    await subject().bulkInsert(rows, { batchSize: 5, onInvalid: 'skip', onProgress: (p) => seen.push(p) }, 'Unique');
    expect(seen.at(-1)).toMatchObject({ total: 12, processed: 12, skipped: 1, committed: 11, pending: 0, batch: 3, batches: 3 });
  });
});
