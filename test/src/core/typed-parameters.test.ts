// Columns of the types in TYPED_PARAMETERS travel in typed array parameters (`$1::integer[]`)
// instead of `text[]` cast in SQL. That is sound only if parsing an array of the type gives exactly
// what casting each text gives: the same values, the same NULLs, and the same error for bad input.
// Checked here against a real server for awkward text of every such type, through node-postgres'
// own array serialization (what the statements send).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TYPED_PARAMETERS } from '../../../packages/core/src/model/table-catalog.js';
import { SchemaSession } from '../harness/schema-session.js';

let session: SchemaSession;

beforeAll(async () => {
  session = await SchemaSession.open(inject('databaseUrl'), 'typed_params');
});
afterAll(() => session?.close());

/** What PostgreSQL makes of the texts as `type`: each value as text, or the error's code and message. */
async function parsed(sql: string, texts: (string | null)[]): Promise<unknown> {
  try {
    const rows = await session.query<{ v: string | null }>(sql, [texts]);
    return rows.map((r) => r.v);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return { code, message };
  }
}

async function sameAsCast(type: string, texts: (string | null)[]): Promise<void> {
  const viaCast = await parsed(`SELECT (x::${type})::text AS v FROM unnest($1::text[]) AS x`, texts);
  const typed = await parsed(`SELECT x::text AS v FROM unnest($1::${type}[]) AS x`, texts);
  expect({ type, texts, result: typed }).toEqual({ type, texts, result: viaCast });
}

// Valid and invalid text for each type, with what array literals make special: quotes, backslashes,
// braces, commas, blanks, the word NULL, empty strings.
const awkward = ['', ' ', 'NULL', 'null', '"', '\\', '{}', '{1,2}', 'a,b', ' 1 ', 'abc', '\t\n'];
const samples: Record<string, string[]> = {
  smallint: ['0', '-32768', '32767', '32768', '+7', '1.5', '0x1F', '1_000'],
  integer: ['0', '-2147483648', '2147483647', '2147483648', '007', '1e3'],
  bigint: ['9007199254740993', '-9223372036854775808', '9223372036854775808'],
  real: ['1.5', '-0', 'NaN', 'Infinity', '-inf', '1e39', '3.4028235e38'],
  'double precision': ['1234.5678901234567', '-0', 'NaN', '1e-320', '1e309', '.5'],
  numeric: ['12345678.90', '-0.000', 'NaN', '1e1000', '+.5', 'Infinity'],
  boolean: ['true', 'f', 'yes', 'OFF', '1', '0', 't ', 'maybe'],
  text: ["multi\nline 'quoted' ünïcode ✓ \\ back", 'a "b" c', '  padded  ', '✓'],
  'character varying': ['x'.repeat(300), 'tab\there', '"quoted"'],
  uuid: [
    '0b6a3c58-8d3e-4c3a-9a53-2f0e5e1f6b7a',
    '{0b6a3c58-8d3e-4c3a-9a53-2f0e5e1f6b7a}',
    '0B6A3C588D3E4C3A9A532F0E5E1F6B7A',
    'g',
  ],
  date: ['2024-02-29', '2023-02-29', 'infinity', '0001-01-01 BC', '2024-01-02T03:04:05Z', 'today'],
  'timestamp without time zone': ['2024-01-02 03:04:05.678', '2024-01-02T03:04:05+02:00', '-infinity', '2024-13-01'],
  'timestamp with time zone': ['2024-06-30T23:59:59.999Z', '2024-01-02 03:04:05.678+05:30', 'epoch', '2024-06-31'],
  'time without time zone': ['13:45:30', '24:00:00', '24:00:01', '1:2', 'allballs'],
  interval: ['1 day', 'P1Y2M', '-1 hour 30 minutes', '1 fortnight'],
  json: ['{"a": [1, "x", null]}', '[1, 2', '"\\u0000"', '  {"b" : true}  ', '1e400'],
  jsonb: ['{"a": [1, "x", null]}', '{"a": 1, "a": 2}', '"\\u0000"', 'nul'],
};

describe('typed array parameters parse as the cast from text does', () => {
  it('covers exactly the types listed', () => {
    expect(Object.keys(samples).sort()).toEqual([...TYPED_PARAMETERS].sort());
  });

  for (const type of TYPED_PARAMETERS) {
    it(`${type}: every sample alone, and all the valid ones together with NULLs`, async () => {
      const texts = [...(samples[type] ?? []), ...awkward];
      for (const text of texts) await sameAsCast(type, [text]);
      const valid: (string | null)[] = [];
      for (const text of texts) {
        const alone = await parsed(`SELECT (x::${type})::text AS v FROM unnest($1::text[]) AS x`, [text]);
        if (Array.isArray(alone)) valid.push(text, null);
      }
      expect(valid.length).toBeGreaterThan(0);
      await sameAsCast(type, valid);
    });
  }

  it('text and character varying: any string, any mix of NULLs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.option(
            fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\0', '')),
            { nil: null },
          ),
          {
            maxLength: 8,
          },
        ),
        fc.constantFrom('text', 'character varying'),
        async (texts, type) => sameAsCast(type, texts),
      ),
      { numRuns: 150 },
    );
  });
});
