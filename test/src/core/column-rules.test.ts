import { checkColumnValue } from '@cohort/core/adapter';
import { describe, expect, it } from 'vitest';
import { columnModel } from '../harness/column-model.js';

const column = (over: Parameters<typeof columnModel>[0]) => columnModel(over);

describe('checkColumnValue', () => {
  it('requires not-null columns without default or generation', () => {
    expect(checkColumnValue(column({}), undefined)?.constraint).toBe('required');
    expect(checkColumnValue(column({}), null)?.constraint).toBe('required');
    expect(checkColumnValue(column({ hasDefault: true }), undefined)).toBeUndefined();
    expect(checkColumnValue(column({ nullable: true }), null)).toBeUndefined();
  });

  it('counts string length in characters, as PostgreSQL does', () => {
    const c = column({ length: 3 });
    expect(checkColumnValue(c, '😀😀😀')).toBeUndefined();
    expect(checkColumnValue(c, 'abcd')?.constraint).toBe('maxLength');
    expect(checkColumnValue(c, 'abc')).toBeUndefined();
    expect(checkColumnValue(c, '😀😀😀😀')?.constraint).toBe('maxLength');
  });

  it('refuses NUL characters in text and JSON', () => {
    expect(checkColumnValue(column({}), 'a\u0000b')?.constraint).toBe('nulByte');
    expect(checkColumnValue(column({ kind: 'json' }), { a: '\u0000' })?.constraint).toBe('nulByte');
  });

  it('checks integer ranges and types', () => {
    expect(checkColumnValue(column({ kind: 'smallint' }), 32768)?.constraint).toBe('range');
    expect(checkColumnValue(column({ kind: 'integer' }), 1.5)?.constraint).toBe('type');
    expect(checkColumnValue(column({ kind: 'bigint' }), '9223372036854775807')).toBeUndefined();
    expect(checkColumnValue(column({ kind: 'bigint' }), '9223372036854775808')?.constraint).toBe('range');
    // Numbers at and past each bound, on both sides.
    for (const [kind, low, high] of [
      ['smallint', -32768, 32767],
      ['integer', -2147483648, 2147483647],
    ] as const) {
      expect(checkColumnValue(column({ kind }), low)).toBeUndefined();
      expect(checkColumnValue(column({ kind }), high)).toBeUndefined();
      expect(checkColumnValue(column({ kind }), low - 1)?.constraint).toBe('range');
      expect(checkColumnValue(column({ kind }), high + 1)?.constraint).toBe('range');
    }
    expect(checkColumnValue(column({ kind: 'bigint' }), Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(checkColumnValue(column({ kind: 'bigint' }), 2 ** 63 - 1024)).toBeUndefined();
    expect(checkColumnValue(column({ kind: 'bigint' }), 2 ** 63)?.constraint).toBe('range');
    expect(checkColumnValue(column({ kind: 'bigint' }), -(2 ** 63))).toBeUndefined();
  });

  it('checks numeric precision on the integer digits', () => {
    const c = column({ kind: 'numeric', precision: 5, scale: 2 });
    expect(checkColumnValue(c, '999.999')).toBeUndefined();
    expect(checkColumnValue(c, 1000)?.constraint).toBe('precision');
    expect(checkColumnValue(c, 'abc')?.constraint).toBe('type');
  });

  it('checks finite numbers, booleans, dates, uuids and enums', () => {
    expect(checkColumnValue(column({ kind: 'double' }), Number.NaN)?.constraint).toBe('type');
    expect(checkColumnValue(column({ kind: 'boolean' }), 'yes')?.constraint).toBe('type');
    expect(checkColumnValue(column({ kind: 'timestamptz' }), new Date('nope'))?.constraint).toBe('type');
    expect(checkColumnValue(column({ kind: 'timestamptz' }), 'not a date')?.constraint).toBe('type');
    expect(checkColumnValue(column({ kind: 'uuid' }), 'xyz')?.constraint).toBe('type');
    expect(checkColumnValue(column({ kind: 'other', enumValues: ['a', 'b'] }), 'c')?.constraint).toBe('enum');
  });

  it('checks each element of array columns', () => {
    const c = column({ kind: 'integer', isArray: true });
    expect(checkColumnValue(c, [1, null, 3])).toBeUndefined();
    expect(checkColumnValue(c, [1, 'x'])?.message).toContain('element 1');
    expect(checkColumnValue(c, 5)?.constraint).toBe('type');
  });
});
