// typeorm#5226: with orIgnore(), returned ids are mapped by array position, so when a row is
// skipped the generated ids land on the wrong objects. cohort matches rows by an ordinal it sends.
import { expect, it } from 'vitest';
import { describeConformance, EVENT_NAMES } from '../harness/conformance.js';

describeConformance('typeorm#5226: ids under ignored conflicts', ({ subject }) => {
  it('ids go onto the objects whose rows were inserted; skipped objects get none', async () => {
    await subject().bulkInsert([subject().create('Unique', { email: 'taken@x', name: 'existing' })]);
    subject().resetLogs();
    const rows = ['a@x', 'taken@x', 'b@x', 'c@x'].map((email) => subject().create('Unique', { email, name: 'new' }));
    const result = await subject().bulkInsert(rows, { onConflict: 'ignore' });
    expect(result.inserted).toBe(3);
    expect(result.skipped).toEqual([expect.objectContaining({ index: 1, reason: 'conflict', entity: rows[1] })]);
    const idOf = new Map((await subject().rows('unique_fixture')).map((r) => [r.email, r.id]));
    for (const row of rows as { id?: number; email: string }[]) {
      if (row.email === 'taken@x') expect(row.id).toBeUndefined();
      else expect(row.id).toBe(idOf.get(row.email));
    }
    const names = EVENT_NAMES[subject().orm];
    const afterInsert = subject()
      .hooks.filter((h) => h.source === 'subscriber' && h.event === names.afterInsert)
      .map((h) => h.key);
    expect(afterInsert).toEqual(['a@x', 'b@x', 'c@x']);
  });
});
