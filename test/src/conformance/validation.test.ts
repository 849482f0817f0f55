// SPEC §4: every rule, through each adapter, with an error naming the row and the property, and
// nothing written. Rules come from the entity's own metadata (and class-validator decorators).
import { BulkValidationError, type ValidationFailure } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, type OrmUnderTest } from '../harness/conformance.js';

const ok = { name: 'ok' };

/** Inserts [valid, bad, valid] and returns the failures; asserts nothing was written. */
async function failuresOf(
  side: OrmUnderTest,
  fixture: 'Kitchen' | 'Seed' | 'Article',
  bad: Record<string, unknown>,
  base: Record<string, unknown> = ok,
) {
  const rows = [side.create(fixture, { ...base }), side.create(fixture, { ...base, ...bad }), side.create(fixture, { ...base })];
  const error = await side.bulkInsert(rows).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BulkValidationError);
  const table = { Kitchen: 'kitchen', Seed: 'seed', Article: 'article' }[fixture];
  expect(await side.rows(table)).toEqual([]);
  const failures = (error as BulkValidationError).failures as ValidationFailure[];
  for (const f of failures) {
    expect(f.index).toBe(1);
    expect(f.entity).toBe(rows[1]);
    expect(f.message.length).toBeGreaterThan(5);
  }
  return failures.map(({ property, constraint }) => ({ property, constraint }));
}

describeConformance('validation', ({ subject }) => {
  const seedBase = { qty: 1, label: 'x', createdAt: new Date('2024-01-01T00:00:00Z') };

  it('required: a NOT NULL column without default, left undefined or null', async () => {
    expect(await failuresOf(subject(), 'Seed', { label: undefined }, seedBase)).toEqual([
      { property: 'label', constraint: 'required' },
    ]);
    expect(await failuresOf(subject(), 'Seed', { qty: null }, seedBase)).toEqual([{ property: 'qty', constraint: 'required' }]);
  });

  it('string length: varchar(n) and char(n), counted in characters', async () => {
    expect(await failuresOf(subject(), 'Kitchen', { name: 'x'.repeat(21) })).toEqual([
      { property: 'name', constraint: 'maxLength' },
    ]);
    expect(await failuresOf(subject(), 'Kitchen', { charVal: 'abcd' })).toEqual([
      { property: 'charVal', constraint: 'maxLength' },
    ]);
  });

  it('numeric precision and integer ranges', async () => {
    expect(await failuresOf(subject(), 'Kitchen', { numericVal: '123456789.00' })).toEqual([
      { property: 'numericVal', constraint: 'precision' },
    ]);
    expect(await failuresOf(subject(), 'Kitchen', { smallInt: 40000 })).toEqual([{ property: 'smallInt', constraint: 'range' }]);
    expect(await failuresOf(subject(), 'Kitchen', { intVal: 2 ** 31 })).toEqual([{ property: 'intVal', constraint: 'range' }]);
  });

  it('enum membership', async () => {
    expect(await failuresOf(subject(), 'Kitchen', { status: 'deleted' })).toEqual([{ property: 'status', constraint: 'enum' }]);
  });

  it('value types: a Date for a timestamp, a finite number, a boolean, a uuid, an array', async () => {
    expect(await failuresOf(subject(), 'Kitchen', { timestamptzVal: new Date('not a date') })).toEqual([
      { property: 'timestamptzVal', constraint: 'type' },
    ]);
    expect(await failuresOf(subject(), 'Kitchen', { doubleVal: Number.POSITIVE_INFINITY })).toEqual([
      { property: 'doubleVal', constraint: 'type' },
    ]);
    expect(await failuresOf(subject(), 'Kitchen', { boolVal: 'yes' })).toEqual([{ property: 'boolVal', constraint: 'type' }]);
    expect(await failuresOf(subject(), 'Kitchen', { uuidVal: 'not-a-uuid' })).toEqual([
      { property: 'uuidVal', constraint: 'type' },
    ]);
    expect(await failuresOf(subject(), 'Kitchen', { intArray: [1, 'two'] })).toEqual([
      { property: 'intArray', constraint: 'type' },
    ]);
  });

  it('strings PostgreSQL cannot store: NUL characters in text and JSON', async () => {
    expect(await failuresOf(subject(), 'Kitchen', { textVal: 'a\u0000b' })).toEqual([
      { property: 'textVal', constraint: 'nulByte' },
    ]);
    expect(await failuresOf(subject(), 'Kitchen', { jsonbVal: { k: '\u0000' } })).toEqual([
      { property: 'jsonbVal', constraint: 'nulByte' },
    ]);
  });

  it('strings PostgreSQL cannot store: unpaired UTF-16 surrogates in text and JSON (text would get U+FFFD)', async () => {
    for (const bad of ['a\ud800b', 'end\udfff', '\udc00\ud800']) {
      expect(await failuresOf(subject(), 'Kitchen', { textVal: bad })).toEqual([
        { property: 'textVal', constraint: 'unpairedSurrogate' },
      ]);
      expect(await failuresOf(subject(), 'Kitchen', { jsonbVal: { k: [bad] } })).toEqual([
        { property: 'jsonbVal', constraint: 'unpairedSurrogate' },
      ]);
    }
  });

  it('paired surrogates (emoji) and backslash-u text are stored exactly', async () => {
    const side = subject();
    const values = ['😀 ok', 'a\\ud800 is text, not an escape', '\\\\ud800'];
    await side.bulkInsert(values.map((v, i) => side.create('Kitchen', { name: `s${i}`, textVal: v, jsonbVal: { v } })));
    const stored = await side.query<{ text_val: string; jsonb_val: { v: string } }>(
      'SELECT text_val, jsonb_val FROM kitchen ORDER BY id',
    );
    expect(stored.map((r) => r.text_val)).toEqual(values);
    expect(stored.map((r) => r.jsonb_val.v)).toEqual(values);
  });

  it('class-validator decorators on the entity are honoured', async () => {
    expect(await failuresOf(subject(), 'Article', { title: 'forbidden' }, { title: 'fine' })).toEqual([
      { property: 'title', constraint: 'isNotIn' },
    ]);
  });

  it('every failure of the batch is collected into one error', async () => {
    const rows = [
      subject().create('Kitchen', { name: 'x'.repeat(30), status: 'nope' }),
      subject().create('Kitchen', { name: 'fine' }),
      subject().create('Kitchen', { name: 'y', smallInt: 1.5 }),
    ];
    const error = (await subject()
      .bulkInsert(rows)
      .catch((e: unknown) => e)) as BulkValidationError;
    expect(error.failures.map(({ index, property }) => `${index}.${property}`)).toEqual(['0.name', '0.status', '2.smallInt']);
    expect(error.message).toMatch(/^3 invalid value\(s\); first: row 0, name:/);
  });
});
