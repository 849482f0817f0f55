import { describe, expect, it } from 'vitest';
import { binaryCopyChunks, binaryWriters } from '../../../packages/core/src/sql/copy-binary.js';

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
