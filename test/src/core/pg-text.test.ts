import { arrayLiteral, toPgText } from '@cohort/core';
import { describe, expect, it } from 'vitest';

describe('toPgText', () => {
  it('passes strings through and renders scalars as PostgreSQL input text', () => {
    expect(toPgText('a "b" \\ c')).toBe('a "b" \\ c');
    expect(toPgText(42)).toBe('42');
    expect(toPgText(12345678901234567890n)).toBe('12345678901234567890');
    expect(toPgText(true)).toBe('true');
    expect(toPgText(null)).toBeNull();
    expect(toPgText(undefined)).toBeNull();
  });

  it('renders Dates with the local offset, as node-postgres does, so the instant is kept', () => {
    const d = new Date('2024-02-29T12:34:56.789Z');
    const text = toPgText(d) as string;
    expect(new Date(text).getTime()).toBe(d.getTime());
  });

  it('renders Buffers as bytea hex and objects as JSON', () => {
    expect(toPgText(Buffer.from([0, 255, 16]))).toBe('\\x00ff10');
    expect(toPgText({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}');
  });

  it('builds array literals with quoting, NULLs and nesting', () => {
    expect(arrayLiteral([1, null, 3])).toBe('{"1",NULL,"3"}');
    expect(arrayLiteral(['a,b', 'say "hi"', 'back\\slash'])).toBe('{"a,b","say \\"hi\\"","back\\\\slash"}');
    expect(arrayLiteral([[1, 2], [3]])).toBe('{{"1","2"},{"3"}}');
  });
});
