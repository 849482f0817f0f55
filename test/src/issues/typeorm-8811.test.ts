// typeorm#8811: upsert() always fires afterInsert, never afterUpdate — "events must be factual to
// maintain history integrity". cohort fires the after-hook of what happened to each row.
import { expect, it } from 'vitest';
import { describeConformance, EVENT_NAMES } from '../harness/conformance.js';

describeConformance('typeorm#8811: factual after-events on upsert', ({ subject }) => {
  it('updated rows get after-update, inserted rows after-insert, each exactly once', async () => {
    await subject().bulkInsert(['u1@x', 'u2@x'].map((email) => subject().create('Unique', { email, name: 'v1' })));
    subject().resetLogs();
    const rows = ['u1@x', 'i1@x', 'u2@x'].map((email) => subject().create('Unique', { email, name: 'v2' }));
    await subject().bulkUpsert(rows);
    const names = EVENT_NAMES[subject().orm];
    const events = subject()
      .hooks.filter((h) => h.source === 'subscriber' && h.entity === 'Unique')
      .filter((h) => h.event === names.afterInsert || h.event === names.afterUpdate);
    expect(events.map((h) => [h.key, h.event === names.afterInsert ? 'inserted' : 'updated'])).toEqual([
      ['i1@x', 'inserted'],
      ['u1@x', 'updated'],
      ['u2@x', 'updated'],
    ]);
  });
});
