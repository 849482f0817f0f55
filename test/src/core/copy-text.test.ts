import { toPgText } from '@cohort/core/adapter';
import { describe, expect, it } from 'vitest';
import { copyChunks, copyField } from '../../../packages/core/src/sql/copy-text.js';

describe('COPY text encoding', () => {
  it('escapes backslash, tab, newline and carriage return, and writes NULL as \\N', () => {
    expect(copyField('plain ✓')).toBe('plain ✓');
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField(null)).toBe('\\N');
  });

  it('joins columns with tabs and rows with newlines, in chunks', () => {
    const values = [
      ['1', null],
      ['x\ty', 'z'],
    ];
    const text = [...copyChunks(2, 2, (c, r) => (values[c] as (string | null)[])[r] ?? null, 4)].join('');
    expect(text).toBe('1\tx\\ty\n\\N\tz\n');
  });

  it('renders a timestamptz Date as UTC ISO text, the same instant as the local form', () => {
    const d = new Date('2024-05-06T07:08:09.010Z');
    expect(toPgText(d, true)).toBe('2024-05-06T07:08:09.010Z');
    expect(new Date(toPgText(d) as string).getTime()).toBe(d.getTime());
  });
});
