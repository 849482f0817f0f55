// typeorm#10214: upsert results do not correlate with the input. cohort reports an outcome per
// input index and writes rows in key order without losing which input row is which.
import { expect, it } from 'vitest';
import { describeConformance } from '../harness/conformance.js';

describeConformance('typeorm#10214: upsert results correlate with the input', ({ subject }) => {
  it('outcomes and ids follow input order even though rows are written in key order', async () => {
    await subject().bulkInsert([subject().create('Unique', { email: 'm@x', name: 'stored' })]);
    const emails = ['z@x', 'm@x', 'a@x', 'q@x'];
    const rows = emails.map((email) => subject().create('Unique', { email, name: `new ${email}` }));
    const result = await subject().bulkUpsert(rows);
    expect(result.outcomes).toEqual(['inserted', 'updated', 'inserted', 'inserted']);
    const stored = await subject().rows('unique_fixture');
    const byEmail = new Map(stored.map((r) => [r.email, r]));
    for (const row of rows as { id: number; email: string; name: string }[]) {
      expect(byEmail.get(row.email)).toMatchObject({ id: row.id, name: row.name });
    }
    expect((rows[1] as { id: number }).id).toBe(1);
  });
});
