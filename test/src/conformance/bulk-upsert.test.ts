// bulkUpsert (SPEC §5): one INSERT … ON CONFLICT per batch that reports each row's outcome, puts
// values only on rows that were written, and runs the after-hooks of what really happened.
import { DuplicateKeyInBatchError } from '@cohort/core';
import { expect, it } from 'vitest';
import { countStatements, describeConformance, EVENT_NAMES, type OrmUnderTest } from '../harness/conformance.js';

const person = (side: OrmUnderTest, email: string, name: string | null = email.split('@')[0] ?? null) =>
  side.create('Unique', { email, name, version: 1 });
const upserts = (side: OrmUnderTest) =>
  countStatements(side.sql, /^(with .*)?insert into "[^"]+"\."unique_fixture".*on conflict/is);

describeConformance('bulkUpsert', ({ subject }) => {
  it('inserts the new, updates the existing, and says which per row', async () => {
    const [a, b] = [person(subject(), 'a@x'), person(subject(), 'b@x')];
    await subject().bulkInsert([a, b]);
    subject().resetLogs();
    const rows = [
      person(subject(), 'a@x', 'A2'),
      person(subject(), 'c@x'),
      person(subject(), 'b@x', 'B2'),
      person(subject(), 'd@x'),
    ];
    const result = await subject().bulkUpsert(rows);
    expect(result).toMatchObject({
      inserted: 2,
      updated: 2,
      skipped: [],
      outcomes: ['updated', 'inserted', 'updated', 'inserted'],
    });
    const stored = await subject().rows('unique_fixture');
    expect(stored.map(({ id, email, name }) => ({ id, email, name }))).toEqual([
      { id: 1, email: 'a@x', name: 'A2' },
      { id: 2, email: 'b@x', name: 'B2' },
      { id: expect.any(Number), email: 'c@x', name: 'c' },
      { id: expect.any(Number), email: 'd@x', name: 'd' },
    ]);
    // Each object carries the id of the row it became.
    const idOf = new Map(stored.map((r) => [r.email, r.id]));
    for (const row of rows as { id: number; email: string }[]) expect(row.id).toBe(idOf.get(row.email));
    expect(upserts(subject())).toBe(1);
  });

  it("strategy 'copy': the upsert reads a COPY-filled stage table, with the same outcomes and keys", async () => {
    await subject().bulkInsert([person(subject(), 'a@x', 'A')]);
    subject().resetLogs();
    const rows = [person(subject(), 'n@x', 'N'), person(subject(), 'a@x', 'A2')];
    const result = await subject().bulkUpsert(rows, { strategy: 'copy' });
    expect(result.outcomes).toEqual(['inserted', 'updated']);
    expect(countStatements(subject().sql, /^copy "cohort_stage_\d+"/i)).toBe(1);
    expect(upserts(subject())).toBe(1);
    expect((rows as { id: number }[]).map((r) => r.id)).toEqual([2, 1]);
    expect((await subject().rows('unique_fixture')).map(({ id, name }) => ({ id, name }))).toEqual([
      { id: 1, name: 'A2' },
      { id: 2, name: 'N' },
    ]);
  });

  it('after-hooks follow the real outcome: insert hooks for inserted rows, update hooks for updated', async () => {
    await subject().bulkInsert([person(subject(), 'old@x')]);
    subject().resetLogs();
    await subject().bulkUpsert([person(subject(), 'new@x'), person(subject(), 'old@x', 'renamed')]);
    const names = EVENT_NAMES[subject().orm];
    const after = subject()
      .hooks.filter((h) => h.source === 'subscriber' && (h.event === names.afterInsert || h.event === names.afterUpdate))
      .map((h) => `${h.event === names.afterInsert ? 'afterInsert' : 'afterUpdate'}:${h.key}`);
    expect(after).toEqual(['afterInsert:new@x', 'afterUpdate:old@x']);
  });

  it("an updated row's after-update event lists what the upsert wrote", async () => {
    await subject().bulkInsert([person(subject(), 'a@x', 'A')]);
    subject().resetLogs();
    await subject().bulkUpsert([person(subject(), 'a@x', 'B')], { update: ['name'] });
    const names = EVENT_NAMES[subject().orm];
    const [event] = subject().hooks.filter((h) => h.source === 'subscriber' && h.event === names.afterUpdate);
    // TypeORM's UpdateEvent.updatedColumns; MikroORM's changeSet.payload.
    expect(event?.detail).toEqual(
      subject().orm === 'typeorm' ? { updatedColumns: ['name'], updatedRelations: [] } : { changed: ['name'] },
    );
  });

  it('a condition that is false skips the row: no values, no after-hooks, reported as skipped', async () => {
    const stored = person(subject(), 'keep@x', 'original');
    await subject().bulkInsert([stored]);
    subject().resetLogs();
    const attempt = person(subject(), 'keep@x', 'overwrite');
    const result = await subject().bulkUpsert([attempt, person(subject(), 'fresh@x')], { where: 't.name IS NULL' });
    expect(result.outcomes).toEqual(['skipped', 'inserted']);
    expect(result.skipped).toEqual([expect.objectContaining({ index: 0, reason: 'condition', entity: attempt })]);
    expect((attempt as { id?: number }).id).toBeUndefined();
    expect((await subject().rows('unique_fixture')).map((r) => r.name)).toEqual(['original', 'fresh']);
    const names = EVENT_NAMES[subject().orm];
    expect(
      subject().hooks.filter((h) => h.key === 'keep@x' && (h.event === names.afterInsert || h.event === names.afterUpdate)),
    ).toEqual([]);
  });

  it('two rows of one batch with the same key: an error naming both, nothing written', async () => {
    const rows = [person(subject(), 'a@x'), person(subject(), 'b@x'), person(subject(), 'a@x', 'again')];
    const error = await subject()
      .bulkUpsert(rows)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateKeyInBatchError);
    expect(error).toMatchObject({ indices: [0, 2] });
    expect((error as Error).message).toMatch(/rows 0 and 2/);
    expect(await subject().rows('unique_fixture')).toEqual([]);
    expect(upserts(subject())).toBe(0);
  });

  it("duplicates: 'keepLast' writes the last occurrence and reports the others", async () => {
    const rows = [person(subject(), 'a@x', 'first'), person(subject(), 'b@x'), person(subject(), 'a@x', 'last')];
    const result = await subject().bulkUpsert(rows, { duplicates: 'keepLast' });
    expect(result.outcomes).toEqual(['skipped', 'inserted', 'inserted']);
    expect(result.skipped).toEqual([expect.objectContaining({ index: 0, reason: 'duplicate' })]);
    expect((await subject().rows('unique_fixture')).map((r) => r.name).sort()).toEqual(['b', 'last']);
  });

  it('expressions compute the update from the stored and the proposed row', async () => {
    await subject().bulkInsert([person(subject(), 'n@x')]);
    const bump = person(subject(), 'n@x');
    (bump as { version: number }).version = 5;
    await subject().bulkUpsert([bump], { update: ['version'], expressions: { version: '{current} + {value}' } });
    expect((await subject().rows('unique_fixture'))[0]?.version).toBe(6);
    expect((bump as { id: number }).id).toBe(1);
  });

  it('upsert by primary key: rows with a key update it, rows without one are inserted with a new key', async () => {
    const stored = [person(subject(), 'a@x', 'A'), person(subject(), 'b@x', 'B')];
    await subject().bulkInsert(stored);
    const changed = person(subject(), 'a@x', 'A2');
    (changed as { id: number }).id = (stored[0] as { id: number }).id;
    const fresh = person(subject(), 'c@x', 'C');
    const result = await subject().bulkUpsert([changed, fresh], { target: ['id'], update: ['name'] });
    expect(result.outcomes).toEqual(['updated', 'inserted']);
    expect((fresh as { id: number }).id).toBe(3);
    expect((await subject().rows('unique_fixture')).map((r) => [r.id, r.name])).toEqual([
      [1, 'A2'],
      [2, 'B'],
      [3, 'C'],
    ]);
  });

  it('an explicit target and update list', async () => {
    await subject().bulkInsert([person(subject(), 'a@x', 'name')]);
    const again = person(subject(), 'a@x', 'changed');
    (again as { version: number }).version = 9;
    const result = await subject().bulkUpsert([again], { target: ['email'], update: ['version'] });
    expect(result.updated).toBe(1);
    expect(await subject().rows('unique_fixture')).toMatchObject([{ email: 'a@x', name: 'name', version: 9 }]);
  });
});
