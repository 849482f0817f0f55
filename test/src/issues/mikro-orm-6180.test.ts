// mikro-orm#6180 (and #4282): upsertMany gives no way to tell inserted rows from updated ones.
// cohort reports it per row, in the result and in the hooks it runs.
import { expect, it } from 'vitest';
import { describeConformance } from '../harness/conformance.js';

describeConformance('mikro-orm#6180: inserted-or-updated per row', ({ subject }) => {
  it('the result says for every row whether it was inserted or updated', async () => {
    await subject().bulkInsert(['e1@x', 'e3@x'].map((email) => subject().create('Unique', { email })));
    const rows = ['e1@x', 'e2@x', 'e3@x', 'e4@x'].map((email) => subject().create('Unique', { email, name: 'x' }));
    const result = await subject().bulkUpsert(rows, { batchSize: 2 });
    expect(result).toMatchObject({ inserted: 2, updated: 2, batches: 2 });
    expect(result.outcomes).toEqual(['updated', 'inserted', 'updated', 'inserted']);
  });
});
