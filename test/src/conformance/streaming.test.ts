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

describeConformance('streaming imports', ({ subject, reference }) => {
  it('an async iterable is written batch by batch, with progress after each batch', async () => {
    const progress: { batch: number; processed: number; pending: number; committed: number }[] = [];
    const result = await subject().bulkInsert(
      seeds(subject(), 25) as unknown as object[],
      {
        batchSize: 10,
        onProgress: ({ batch, processed, pending, committed }) => progress.push({ batch, processed, pending, committed }),
      },
      'Unique',
    );
    expect(result).toMatchObject({ inserted: 25, batches: 3 });
    // One transaction: the rows stay pending until it commits, then one more report.
    expect(progress).toEqual([
      { batch: 1, processed: 10, pending: 10, committed: 0 },
      { batch: 2, processed: 20, pending: 20, committed: 0 },
      { batch: 3, processed: 25, pending: 25, committed: 0 },
      { batch: 3, processed: 25, pending: 0, committed: 25 },
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

  const calls = [
    // A stream runs batch by batch by default; `pipeline: true` makes its batches overlap.
    { name: 'bulkInsert', options: {}, save: false },
    { name: 'bulkInsert with pipeline: true', options: { pipeline: true }, save: false },
    { name: 'bulkInsert with pipeline: false', options: { pipeline: false }, save: false },
    { name: 'bulkInsert with atomic: false', options: { atomic: false }, save: false },
    { name: 'bulkSave', options: {}, save: true },
  ];
  for (const call of calls) {
    for (const failAt of [2, 12]) {
      it(`a failure closes the input: ${call.name}, failing in batch ${failAt < 10 ? 0 : 1} (an async generator runs its finally block)`, async () => {
        let closed = false;
        let pulled = 0;
        async function* source(side: OrmUnderTest) {
          try {
            for (let i = 0; i < 100; i++) {
              pulled++;
              // This row is too long for the column: validation fails (in batch 1, with pipeline: true while
              // batch 0 is in flight).
              yield side.create('Unique', { email: i === failAt ? `${'x'.repeat(200)}@x` : `c${i}@x`, name: `n${i}` });
            }
          } finally {
            closed = true;
          }
        }
        const input = source(subject()) as unknown as object[];
        const options = { batchSize: 10, ...call.options };
        const error = await (call.save
          ? subject().bulkSave(input, options, 'Unique')
          : subject().bulkInsert(input, options, 'Unique')
        ).catch((e: unknown) => e);
        const validation = error instanceof PartialImportError ? error.cause : error;
        expect(validation).toMatchObject({ name: 'BulkValidationError', batch: failAt < 10 ? 0 : 1 });
        expect(closed).toBe(true);
        expect(pulled).toBeLessThan(100);
        // Only a non-atomic call keeps the batch that committed before the failure.
        const landed = 'atomic' in call.options && failAt >= 10 ? 10 : 0;
        expect(await subject().rows('unique_fixture')).toHaveLength(landed);
      });
    }
  }

  for (const pipeline of [true, false]) {
    it(`the failure of the batch in flight wins over a failing input (pipeline: ${pipeline})`, async () => {
      async function* source(side: OrmUnderTest) {
        // Batch 0 repeats an email: its statement fails while the input fails to give batch 1.
        yield side.create('Unique', { email: 'same@x', name: 'a' });
        yield side.create('Unique', { email: 'same@x', name: 'b' });
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('the input broke');
      }
      await expect(
        subject().bulkInsert(source(subject()) as unknown as object[], { batchSize: 2, pipeline }, 'Unique'),
      ).rejects.toMatchObject({ name: 'UniqueViolationError', batch: 0 });
      expect(await subject().rows('unique_fixture')).toEqual([]);
    });
  }

  it('one entity in two batches of an insert: the same outcome as batch by batch (the later batch waits)', async () => {
    const run = async (side: OrmUnderTest, pipeline: boolean) => {
      const a = side.create('Seed', { qty: 1, label: 'a', createdAt: new Date('2024-01-01T00:00:00Z') });
      const b = side.create('Seed', { qty: 2, label: 'b', createdAt: new Date('2024-01-02T00:00:00Z') });
      const outcome = await side.bulkInsert([a, b, a], { batchSize: 2, pipeline }, 'Seed').then(
        (r) => ({ inserted: r.inserted }),
        (e: { name?: string; index?: number; batch?: number }) => ({ error: e.name, index: e.index, batch: e.batch }),
      );
      return { outcome, rows: await side.rows('seed'), hooks: side.hooks };
    };
    // The reference runs batch by batch, the subject with batches overlapping.
    expect(await run(subject(), true)).toEqual(await run(reference(), false));
  });
});
