import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryCopyChunks, binaryWriters } from '../../../packages/core/src/sql/copy-binary.js';
import { isoUtcMs } from '../../../packages/core/src/sql/pg-text.js';

describe('isoUtcMs', () => {
  it("reads toISOString's form of years 1-9999 as Date does, and nothing that is not such a date", () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    fc.assert(
      fc.property(
        // Every field over a range a bit wider than valid, so impossible dates are drawn too.
        fc.tuple(
          fc.integer({ min: 0, max: 9999 }),
          fc.integer({ min: 0, max: 13 }),
          fc.integer({ min: 0, max: 32 }),
          fc.integer({ min: 0, max: 24 }),
          fc.integer({ min: 0, max: 60 }),
          fc.integer({ min: 0, max: 60 }),
          fc.integer({ min: 0, max: 999 }),
        ),
        ([y, mo, d, h, mi, s, ms]) => {
          const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`;
          const parsed = Date.parse(text);
          const exact = y >= 1 && !Number.isNaN(parsed) && new Date(parsed).toISOString() === text;
          expect(isoUtcMs(text)).toBe(exact ? parsed : undefined);
        },
      ),
      { numRuns: 5000 },
    );
    for (const t of [0, -1, 951_782_400_000, -62_135_596_800_000, 253_402_300_799_999]) {
      expect(isoUtcMs(new Date(t).toISOString())).toBe(t);
    }
    for (const bad of [
      '2024-02-30T00:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '2024-01-01T00:00:00Z',
      '+010000-01-01T00:00:00.000Z',
      '+024-01-01T00:00:00.000Z',
      '2024-0a-01T00:00:00.000Z',
      '2024-01-01T00:00:00.0-0Z',
      '2024-01-01 00:00:00.000Z',
      '2024-01-01T00:00:00.000z',
    ]) {
      expect(isoUtcMs(bad)).toBeUndefined();
    }
  });
});

describe('COPY binary encoding', () => {
  it('is chosen only when every column type and value has an exact binary form', () => {
    expect(
      binaryWriters(
        ['integer', 'character varying'],
        [
          [1, null],
          ['a', undefined],
        ],
      ),
    ).toHaveLength(2);
    // A type without a binary writer, or a value of another JavaScript type, keeps the text format.
    expect(binaryWriters(['integer', 'numeric'], [[1], ['1.5']])).toBeUndefined();
    expect(binaryWriters(['integer'], [['42']])).toBeUndefined();
    expect(binaryWriters(['integer'], [[2147483648]])).toBeUndefined();
    expect(binaryWriters(['double precision'], [[-0]])).toBeUndefined();
    expect(binaryWriters(['timestamp with time zone'], [['2024-01-01']])).toBeUndefined();
    expect(binaryWriters(['timestamp with time zone'], [['2024-01-01T00:00:00.000Z', new Date(0)]])).toHaveLength(1);
    expect(binaryWriters(['timestamp with time zone'], [[new Date(Number.NaN)]])).toBeUndefined();
    expect(binaryWriters(['bigint'], [['9223372036854775807', 1n, 5]])).toHaveLength(1);
    expect(binaryWriters(['bigint'], [['9223372036854775808']])).toBeUndefined();
  });

  it('writes the signature, one tuple per row (field count, length-prefixed fields, -1 for NULL) and the trailer', () => {
    const columns = [
      [7, null],
      ['é', 'x'],
      [new Date(Date.UTC(2000, 0, 1, 0, 0, 0, 1)), true],
    ];
    const writers = binaryWriters(['integer', 'text', 'timestamp with time zone'], [columns[0]!, columns[1]!, [columns[2]![0]]]);
    expect(writers).toBeDefined();
    const data = Buffer.concat([...binaryCopyChunks(writers!, [columns[0]!, columns[1]!, [columns[2]![0], null]], 2)]);
    const expected = Buffer.concat([
      Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]),
      // row 1: 3 fields; int4 7; text 'é' (2 bytes of UTF-8); timestamptz 1 ms after 2000-01-01 = 1000 µs
      Buffer.from([0, 3, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 2, 0xc3, 0xa9, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x03, 0xe8]),
      // row 2: NULL; 'x'; NULL
      Buffer.from([0, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0x78, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0xff, 0xff]),
    ]);
    expect(data.equals(expected)).toBe(true);
  });
});
