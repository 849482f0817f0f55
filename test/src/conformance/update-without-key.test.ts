// bulkUpdate of an entity whose primary key has no value: there is no row to match, so it is
// invalid input (SPEC §4), reported like every other invalid row — never skipped in silence.
import { BulkValidationError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, type OrmUnderTest } from '../harness/conformance.js';

const createdAt = new Date('2024-01-01T00:00:00Z');
const seed = (side: OrmUnderTest, qty: number, extra: Record<string, unknown> = {}) =>
  side.create('Seed', { qty, label: `label ${qty}`, createdAt, ...extra });

describeConformance('bulkUpdate of an entity without a primary key value', ({ subject }) => {
  it('bulkUpdate of an entity with no primary key value fails validation naming the row; nothing is written', async () => {
    const stored = [seed(subject(), 1), seed(subject(), 2)];
    await subject().ormSave(stored);
    const before = await subject().rows('seed');
    subject().resetLogs();
    stored[0].qty = 10;
    const keyless = [seed(subject(), 3), seed(subject(), 4, { id: null })];
    const error = await subject()
      .bulkUpdate([stored[0], keyless[0], stored[1], keyless[1]])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    expect((error as BulkValidationError).failures.map((f) => [f.index, f.property, f.constraint, f.entity])).toEqual([
      [1, 'id', 'required', keyless[0]],
      [3, 'id', 'required', keyless[1]],
    ]);
    expect(error).toMatchObject({ index: 1, entity: keyless[0] });
    expect(await subject().rows('seed')).toEqual(before);
  });

  it('an entity with no primary key value and an invalid value in another row: one error lists both', async () => {
    const stored = seed(subject(), 1);
    await subject().ormSave([stored]);
    stored.label = 'x'.repeat(300);
    const error = await subject()
      .bulkUpdate([stored, seed(subject(), 2)])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    expect((error as BulkValidationError).failures.map((f) => [f.index, f.property, f.constraint])).toEqual([
      [0, 'label', 'maxLength'],
      [1, 'id', 'required'],
    ]);
    expect((await subject().rows('seed')).map((r) => r.label)).toEqual(['label 1']);
  });

  it("onInvalid: 'skip': an entity with no primary key value is skipped as invalid, the others are written", async () => {
    const stored = seed(subject(), 1);
    await subject().ormSave([stored]);
    stored.qty = 10;
    const keyless = seed(subject(), 2);
    const result = await subject().bulkUpdate([keyless, stored], { onInvalid: 'skip' });
    expect(result).toMatchObject({ updated: 1, outcomes: ['skipped', 'updated'] });
    expect(result.skipped).toEqual([
      {
        index: 0,
        entity: keyless,
        reason: 'invalid',
        failures: [expect.objectContaining({ index: 0, property: 'id', constraint: 'required' })],
      },
    ]);
    expect((await subject().rows('seed')).map((r) => r.qty)).toEqual([10]);
  });
});
