// The binary COPY encoder against a real server: every type it writes, at its edges, stores exactly
// what the text form of the same value stores; so do the binary array parameters built from it.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCopy } from '../../../packages/core/src/engine/copy/copy-runner.js';
import { binaryArray, binaryCopyChunks, binaryWriters } from '../../../packages/core/src/sql/copy-binary.js';
import { copyChunks } from '../../../packages/core/src/sql/copy-text.js';
import { toPgText } from '../../../packages/core/src/sql/pg-text.js';
import { SchemaSession } from '../harness/schema-session.js';

const TYPES = [
  'smallint',
  'integer',
  'bigint',
  'boolean',
  'double precision',
  'text',
  'character varying',
  'timestamp with time zone',
];
const COLUMNS = TYPES.map((_, i) => `c${i}`);

let session: SchemaSession;
let client: pg.Client;

beforeAll(async () => {
  session = await SchemaSession.open(inject('databaseUrl'), 'copy_bin');
  const columns = TYPES.map((type, i) => `c${i} ${type}`).join(', ');
  for (const table of ['bin', 'txt']) await session.query(`CREATE TABLE ${table} (n serial, ${columns})`);
  client = new pg.Client({ connectionString: inject('databaseUrl'), options: `-c search_path="${session.name}"` });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await session?.close();
});

/** Copies the rows (column-major `columns`) into both tables, binary and text, and reads both back as text. */
async function storeBothWays(columns: unknown[][], rowCount: number) {
  const writers = binaryWriters(TYPES, columns);
  expect(writers).toBeDefined();
  await session.query('TRUNCATE bin, txt RESTART IDENTITY');
  const list = COLUMNS.join(', ');
  await runCopy(client, `COPY bin (${list}) FROM STDIN (FORMAT binary)`, binaryCopyChunks(writers ?? [], columns, rowCount));
  const zoned = TYPES.map((t) => t === 'timestamp with time zone');
  const text = copyChunks(TYPES.length, rowCount, (c, r) => toPgText(columns[c]?.[r], zoned[c]));
  await runCopy(client, `COPY txt (${list}) FROM STDIN`, text);
  // Text output of every column (timestamps as UTC wall-clock time), so that the comparison is exact.
  const output = COLUMNS.map((c, i) => (zoned[i] ? `(${c} AT TIME ZONE 'UTC')::text AS ${c}` : `${c}::text`));
  const read = (table: string) => session.query(`SELECT ${output.join(', ')} FROM ${table} ORDER BY n`);
  return { binary: await read('bin'), text: await read('txt') };
}

/**
 * Each column as a binary array parameter and as a text array cast in SQL (what the statements send
 * either way), read back as text.
 */
async function parameterBothWays(columns: unknown[][]) {
  const binary: unknown[] = [];
  const text: unknown[] = [];
  for (const [c, type] of TYPES.entries()) {
    const values = columns[c] as unknown[];
    const zoned = type === 'timestamp with time zone';
    const out = zoned ? `(x AT TIME ZONE 'UTC')::text` : 'x::text';
    const array = binaryArray(type, values);
    expect(array).toBeInstanceOf(Buffer);
    const viaBinary = await client.query(`SELECT ${out} AS v FROM unnest($1::${type}[]) WITH ORDINALITY AS s(x, n) ORDER BY n`, [
      array,
    ]);
    const texts = values.map((v) => toPgText(v, zoned));
    const viaText = await client.query(
      `SELECT ${out} AS v FROM (SELECT y::${type} AS x, n FROM unnest($1::text[]) WITH ORDINALITY AS s(y, n)) t ORDER BY n`,
      [texts],
    );
    binary.push(viaBinary.rows.map((r) => r.v));
    text.push(viaText.rows.map((r) => r.v));
  }
  return { binary, text };
}

describe('binary array parameters against PostgreSQL', () => {
  it('pass the edges of every type, NULLs and empty arrays as text arrays cast in SQL do', async () => {
    const { binary, text } = await parameterBothWays(TYPES.map((_, c) => EDGES.map((r) => r[c])));
    expect(binary).toEqual(text);
    expect(binary[2]).toEqual(['-9223372036854775808', '9223372036854775807', '9007199254740991', '-9007199254740991']);
    const empty = await parameterBothWays(TYPES.map(() => []));
    expect(empty.binary).toEqual(TYPES.map(() => []));
    const nulls = await parameterBothWays(TYPES.map(() => [null, undefined]));
    expect(nulls.binary).toEqual(TYPES.map(() => [null, null]));
  });

  it('pass arbitrary values as text arrays do', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraryRow(), { minLength: 1, maxLength: 30 }), async (rows) => {
        const { binary, text } = await parameterBothWays(TYPES.map((_, c) => rows.map((r) => r[c] as unknown)));
        expect(binary).toEqual(text);
      }),
      { numRuns: 25, ...(process.env.CI ? { seed: 20261121 } : {}) },
    );
  });

  it('refuse a value the type does not take exactly (the text form is used)', () => {
    expect(binaryArray('integer', [1, 2.5])).toBeUndefined();
    expect(binaryArray('integer', [1, '2'])).toBeUndefined();
    expect(binaryArray('double precision', [-0])).toBeUndefined();
    expect(binaryArray('timestamp with time zone', [new Date(Number.NaN)])).toBeUndefined();
    expect(binaryArray('numeric', [1])).toBeUndefined();
    // ISO strings Date.parse rolls over (a 30th of February, year 0000) are not real instants to
    // PostgreSQL: they go as text, and fail there as with the ORM's own save.
    for (const rolled of ['2024-02-30T00:00:00.000Z', '2023-02-29T12:00:00.000Z', '0000-01-01T00:00:00.000Z']) {
      expect(binaryArray('timestamp with time zone', [rolled])).toBeUndefined();
      expect(binaryWriters(['timestamp with time zone'], [[rolled]])).toBeUndefined();
    }
    expect(binaryArray('timestamp with time zone', ['2024-02-29T23:59:59.999Z'])).toBeInstanceOf(Buffer);
  });
});

describe('binary COPY against PostgreSQL', () => {
  it('stores the edges of every type as the text format does', async () => {
    const rows = EDGES;
    const columns = TYPES.map((_, c) => rows.map((r) => r[c]));
    const { binary, text } = await storeBothWays(columns, rows.length);
    expect(binary).toEqual(text);
    expect(binary).toHaveLength(rows.length);
    expect(binary[0]).toMatchObject({ c0: '-32768', c2: '-9223372036854775808', c7: '0001-01-01 00:00:00' });
    expect(binary[1]).toMatchObject({ c5: 'ü "q" \\ \t\n😀', c7: '9999-12-31 23:59:59.999' });
    expect(binary[3]).toMatchObject({ c0: null, c1: null, c4: 'Infinity', c7: '2024-02-29 12:34:56.789' });
  });

  it('stores arbitrary values as the text format does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraryRow(), { minLength: 1, maxLength: 30 }), async (rows) => {
        const columns = TYPES.map((_, c) => rows.map((r) => r[c] as unknown));
        const { binary, text } = await storeBothWays(columns, rows.length);
        expect(binary).toHaveLength(rows.length);
        expect(binary).toEqual(text);
      }),
      { numRuns: 40, ...(process.env.CI ? { seed: 20261121 } : {}) },
    );
  });
});

/** The edges of every type, one row each (column order of TYPES). */
const EDGES: unknown[][] = [
  [-32768, -2147483648, '-9223372036854775808', true, Number.MIN_VALUE, '', '', new Date(-62135596800000)],
  [32767, 2147483647, '9223372036854775807', false, Number.MAX_VALUE, 'ü "q" \\ \t\n😀', 'x', new Date(253402300799999)],
  [0, 0, 9007199254740991n, true, Number.NaN, '\\N', 'y'.repeat(300), new Date(0)],
  [null, undefined, -9007199254740991, null, Number.POSITIVE_INFINITY, null, null, '2024-02-29T12:34:56.789Z'],
];

/** A row of arbitrary values of every type (column order of TYPES), NULLs included. */
function arbitraryRow() {
  const int = (min: number, max: number) => fc.option(fc.integer({ min, max }), { nil: null });
  return fc.tuple(
    int(-32768, 32767),
    int(-2147483648, 2147483647),
    fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { nil: null }),
    fc.option(fc.boolean(), { nil: null }),
    fc.option(
      fc.double().filter((d) => !Object.is(d, -0)),
      { nil: null },
    ),
    fc.option(
      fc.string({ unit: 'binary' }).filter((s) => !s.includes('\u0000')),
      { nil: null },
    ),
    fc.option(fc.string({ unit: 'grapheme' }), { nil: null }),
    fc.option(
      fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
      {
        nil: null,
      },
    ),
  );
}
