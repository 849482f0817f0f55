// Encoding properties (issue: COPY fast path): arbitrary strings (quotes, backslashes, tabs,
// newlines, unicode), numbers, dates, JSON, arrays and nulls must round-trip unchanged through both
// strategies — checked differentially against the ORM's own save of the same rows.
import { BulkValidationError, CheckViolationError } from '@cohort/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { countStatements, describeConformance, type OrmUnderTest, statements } from '../harness/conformance.js';

// PostgreSQL text cannot hold U+0000 (that case has its own test below).
const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
// TypeORM's own save drops JSON keys named like Object.prototype members whose value is an object
// ({"valueOf": {}} is stored as {}; docs/differences.md): the oracle cannot judge those, so they
// have their own test below.
const PROTOTYPE_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));
const hasPrototypeKey = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && Object.entries(v).some(([k, x]) => PROTOTYPE_KEYS.has(k) || hasPrototypeKey(x));
const json = fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('\\u0000') && !hasPrototypeKey(v));
const special = fc.constantFrom("'", '"', '\\', '\t', '\n', '\r', '\\N', '{}', ',', '😀', 'ß', '\u2028');

const kitchen = fc.record({
  name: fc.string({ maxLength: 20 }).filter((s) => !s.includes('\u0000')),
  textVal: fc.option(
    fc.oneof(
      text,
      fc.array(special, { maxLength: 8 }).map((parts) => parts.join('x')),
    ),
    { nil: null },
  ),
  intVal: fc.option(fc.integer({ min: -2147483648, max: 2147483647 }), { nil: null }),
  doubleVal: fc.option(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
    { nil: null },
  ),
  boolVal: fc.option(fc.boolean(), { nil: null }),
  timestamptzVal: fc.option(fc.date({ min: new Date('1900-01-01Z'), max: new Date('2200-01-01Z'), noInvalidDate: true }), {
    nil: null,
  }),
  jsonbVal: fc.option(json, { nil: null }),
  textArray: fc.option(fc.array(fc.option(fc.oneof(text, special), { nil: null }), { maxLength: 5 }), { nil: null }),
  intArray: fc.option(fc.array(fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }), { maxLength: 5 }), { nil: null }),
});

async function roundTrip(pair: { reference: () => OrmUnderTest; subject: () => OrmUnderTest }, strategy: 'copy' | 'unnest') {
  await fc.assert(
    fc.asyncProperty(fc.array(kitchen, { minLength: 1, maxLength: 25 }), async (rows) => {
      for (const side of [pair.reference(), pair.subject()]) await side.query('TRUNCATE kitchen RESTART IDENTITY');
      // MikroORM's own flush cannot store some text[] elements (whitespace, 'NULL', control characters:
      // docs/differences.md), so the reference stores none and cohort's arrays are checked against the input.
      await pair.reference().ormSave(rows.map((r) => pair.reference().create('Kitchen', { ...r, textArray: null })));
      await pair.subject().bulkInsert(
        rows.map((r) => pair.subject().create('Kitchen', r)),
        { strategy },
      );
      const withoutArrays = (all: Record<string, unknown>[]) => all.map(({ text_array: _, ...rest }) => rest);
      const stored = await pair.subject().rows('kitchen');
      expect(withoutArrays(stored)).toEqual(withoutArrays(await pair.reference().rows('kitchen')));
      expect(stored.map((r) => r.text_array)).toEqual(rows.map((r) => r.textArray));
    }),
    // CI replays a fixed sample so that a landing is reproducible; local runs explore new ones.
    { numRuns: 25, ...(process.env.CI ? { seed: 20261121 } : {}) },
  );
}

// The seed entity's columns (serial, integer, varchar, timestamptz) all have a binary COPY form.
const seedRow = fc.record({
  qty: fc.integer({ min: -2147483648, max: 2147483647 }),
  label: fc
    .oneof(
      text,
      fc.array(special, { maxLength: 8 }).map((parts) => parts.join('x')),
    )
    .filter((s) => [...s].length <= 255),
  createdAt: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
});

describeConformance('encoding round-trips', (pair) => {
  it('through COPY', () => roundTrip(pair, 'copy'));
  it('through unnest', () => roundTrip(pair, 'unnest'));

  it('through binary COPY: integers, strings and timestamps stored as save() stores them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(seedRow, { minLength: 1, maxLength: 25 }), async (rows) => {
        for (const side of [pair.reference(), pair.subject()]) await side.query('TRUNCATE seed RESTART IDENTITY');
        await pair.reference().ormSave(rows.map((r) => pair.reference().create('Seed', { ...r })));
        const entities = rows.map((r) => pair.subject().create('Seed', { ...r }));
        await pair.subject().bulkInsert(entities, { strategy: 'copy' });
        expect(await pair.subject().rows('seed')).toEqual(await pair.reference().rows('seed'));
        expect(entities.map((e) => pair.subject().objectState(e).id)).toEqual(rows.map((_, i) => i + 1));
      }),
      { numRuns: 25, ...(process.env.CI ? { seed: 20261121 } : {}) },
    );
    expect(countStatements(pair.subject().sql, /^copy "[^"]+"\."seed" .* from stdin \(format binary\)$/i)).toBeGreaterThan(0);
  });

  it('through a binary stage: updates of integers, strings and timestamps store what save() stores', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(seedRow, seedRow), { minLength: 1, maxLength: 25 }), async (pairs) => {
        for (const side of [pair.reference(), pair.subject()]) {
          await side.query('TRUNCATE seed RESTART IDENTITY');
          await side.ormSave(pairs.map(([before]) => side.create('Seed', { ...before })));
        }
        const changed = async (side: OrmUnderTest) => {
          const loaded = await side.find('Seed');
          for (const [i, e] of loaded.entries()) Object.assign(e, (pairs[i] as [unknown, object])[1]);
          return loaded;
        };
        await pair.reference().ormSave(await changed(pair.reference()));
        await pair.subject().bulkUpdate(await changed(pair.subject()), { strategy: 'copy' });
        expect(await pair.subject().rows('seed')).toEqual(await pair.reference().rows('seed'));
      }),
      { numRuns: 20, ...(process.env.CI ? { seed: 20261206 } : {}) },
    );
    expect(countStatements(pair.subject().sql, /^copy "cohort_stage_\d+" .* from stdin \(format binary\)$/i)).toBeGreaterThan(0);
  });

  it('a stage with a column that has no binary form here (jsonb) travels as text: updates store what save() stores', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(kitchen, kitchen), { minLength: 1, maxLength: 10 }), async (pairs) => {
        // Arrays stay null: MikroORM's own flush cannot store some text[] elements (see roundTrip).
        // The jsonb value always changes (wrapped apart before and after), so every stage carries
        // the jsonb column; a row whose random jsonb stayed the same would go in a stage without it.
        const plain = (r: object, when: 'before' | 'after') => ({
          ...r,
          textArray: null,
          jsonbVal: { [when]: (r as { jsonbVal?: unknown }).jsonbVal ?? null },
        });
        for (const side of [pair.reference(), pair.subject()]) {
          await side.query('TRUNCATE kitchen RESTART IDENTITY');
          await side.ormSave(pairs.map(([before]) => side.create('Kitchen', plain(before, 'before'))));
        }
        const changed = async (side: OrmUnderTest) => {
          const loaded = await side.find('Kitchen');
          for (const [i, e] of loaded.entries()) Object.assign(e, plain((pairs[i] as [unknown, object])[1], 'after'));
          return loaded;
        };
        await pair.reference().ormSave(await changed(pair.reference()));
        await pair.subject().bulkUpdate(await changed(pair.subject()), { strategy: 'copy' });
        expect(await pair.subject().rows('kitchen')).toEqual(await pair.reference().rows('kitchen'));
      }),
      { numRuns: 10, ...(process.env.CI ? { seed: 20261206 } : {}) },
    );
    const stages = statements(pair.subject().sql, /^copy "cohort_stage_\d+"/i);
    expect(stages.length).toBeGreaterThan(0);
    expect(stages.filter((s) => /format binary/i.test(s.sql))).toEqual([]);
  });

  it('a CHECK violation names the row: in a COPY from the line PostgreSQL reports, in a multi-row INSERT from the failing row it prints', async () => {
    await pair.subject().query('ALTER TABLE seed ADD CONSTRAINT seed_qty_small CHECK (qty < 100)');
    try {
      for (const strategy of ['copy', 'unnest'] as const) {
        for (const label of ['plain', 'tab\there', 'comma, space']) {
          const rows = [1, 2, 3, 100, 4].map((qty) =>
            pair.subject().create('Seed', { qty, label, createdAt: new Date('2024-01-01T00:00:00Z') }),
          );
          const error = await pair
            .subject()
            .bulkInsert(rows, { strategy })
            .catch((e: unknown) => e);
          expect(error, `${strategy} ${label}`).toBeInstanceOf(CheckViolationError);
          expect(error, `${strategy} ${label}`).toMatchObject({ index: 3, entity: rows[3], constraint: 'seed_qty_small' });
          expect((error as Error).message).toMatch(/ at row 3 \(batch 0\)/);
          expect(await pair.subject().rows('seed')).toEqual([]);
        }
      }
      // Two rows print alike where they can be told apart (qty, label; the instants print otherwise):
      // a multi-row INSERT's error names no row rather than guess.
      const alike = [100, 100].map((qty, i) =>
        pair.subject().create('Seed', { qty, label: 'same', createdAt: new Date(Date.UTC(2024, 0, 1 + i)) }),
      );
      const error = await pair
        .subject()
        .bulkInsert(alike, { strategy: 'unnest' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckViolationError);
      expect(error).toMatchObject({ index: undefined, batch: 0, constraint: 'seed_qty_small' });
    } finally {
      await pair.subject().query('ALTER TABLE seed DROP CONSTRAINT seed_qty_small');
    }
  });

  it('JSON keys named like Object.prototype members are stored as given', async () => {
    const values: Record<string, unknown>[] = [{ valueOf: {} }, { hasOwnProperty: { a: 1 } }, { a: { toString: { b: [1] } } }];
    await pair.subject().bulkInsert(values.map((jsonbVal, i) => pair.subject().create('Kitchen', { name: `j${i}`, jsonbVal })));
    const stored = await pair.subject().query<{ jsonb_val: unknown }>('SELECT jsonb_val FROM kitchen ORDER BY id');
    expect(stored.map((r) => r.jsonb_val)).toEqual(values);
  });

  it('a NUL character is refused with the row and property named, for both strategies', async () => {
    for (const strategy of ['copy', 'unnest'] as const) {
      const rows = ['ok', 'bad\u0000value', 'ok'].map((textVal, i) =>
        pair.subject().create('Kitchen', { name: `n${i}`, textVal }),
      );
      const error = await pair
        .subject()
        .bulkInsert(rows, { strategy })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkValidationError);
      expect((error as BulkValidationError).failures).toEqual([
        expect.objectContaining({ index: 1, property: 'textVal', constraint: 'nulByte' }),
      ]);
      expect(await pair.subject().rows('kitchen')).toEqual([]);
    }
  });
});
