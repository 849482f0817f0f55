// Streaming (issue: COPY fast path, streaming imports): an async iterable of any length is processed
// batch by batch, progress is reported per batch, and a non-atomic import says which batches landed.
import { PartialImportError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, type OrmUnderTest } from '../harness/conformance.js';

async function* seeds(side: OrmUnderTest, n: number, duplicateAt?: number) {
  for (let i = 0; i < n; i++) {
    yield side.create('Unique', { email: `s${i === duplicateAt ? 0 : i}@x`, name: `n${i}` });
  }
}

describeConformance('streaming imports', ({ subject }) => {
  it('an async iterable is written batch by batch, with progress after each batch', async () => {
    const progress: { batch: number; validated: number; written: number }[] = [];
    const result = await subject().bulkInsert(
      seeds(subject(), 25) as unknown as object[],
      {
        batchSize: 10,
        onProgress: ({ batch, validated, written }) => progress.push({ batch, validated, written }),
      },
      'Unique',
    );
    expect(result).toMatchObject({ inserted: 25, batches: 3 });
    expect(progress).toEqual([
      { batch: 0, validated: 10, written: 10 },
      { batch: 1, validated: 20, written: 20 },
      { batch: 2, validated: 25, written: 25 },
    ]);
    expect((await subject().rows('unique_fixture')).length).toBe(25);
  });

  it('atomic: false commits batch by batch and reports what landed, so the import can resume', async () => {
    const error = await subject()
      .bulkInsert(seeds(subject(), 25, 14) as unknown as object[], { batchSize: 10, atomic: false }, 'Unique')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialImportError);
    expect(error).toMatchObject({ landedBatches: [0], resumeFrom: 10 });
    expect((error as PartialImportError).cause).toMatchObject({ name: 'UniqueViolationError', index: 14 });
    expect((await subject().rows('unique_fixture')).length).toBe(10);
  });

  it('atomic (default): a failure in a later batch leaves nothing of the call', async () => {
    await expect(
      subject().bulkInsert(seeds(subject(), 25, 14) as unknown as object[], { batchSize: 10 }, 'Unique'),
    ).rejects.toMatchObject({ name: 'UniqueViolationError', index: 14, batch: 1 });
    expect(await subject().rows('unique_fixture')).toEqual([]);
  });

  it('a failure closes the input: an async generator runs its finally block (its cursor or file is released)', async () => {
    let closed = false;
    let pulled = 0;
    async function* source(side: OrmUnderTest) {
      try {
        for (let i = 0; i < 100; i++) {
          pulled++;
          // Row 12 (batch 1) is too long for the column: validation fails while batch 0 is in flight.
          yield side.create('Unique', { email: i === 12 ? `${'x'.repeat(200)}@x` : `c${i}@x`, name: `n${i}` });
        }
      } finally {
        closed = true;
      }
    }
    await expect(
      subject().bulkInsert(source(subject()) as unknown as object[], { batchSize: 10 }, 'Unique'),
    ).rejects.toMatchObject({ name: 'BulkValidationError', batch: 1 });
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(100);
    expect(await subject().rows('unique_fixture')).toEqual([]);
  });
});
