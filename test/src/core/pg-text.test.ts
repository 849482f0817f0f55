import { arrayLiteral, inIsoYears, toPgText, utcIsoText } from '@cohort/core/adapter';
import fc from 'fast-check';
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

  it('renders timestamptz values exactly as toISOString, for any instant (fast formatter)', () => {
    const edges = [0, -1, 86_399_999, 951_782_400_000, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999];
    for (const t of edges) expect(utcIsoText(new Date(t))).toBe(new Date(t).toISOString());
    fc.assert(
      fc.property(
        // Mostly years 0–9999 (formatted by hand), sometimes any valid instant (toISOString's).
        fc.oneof(
          { weight: 9, arbitrary: fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }) },
          { weight: 1, arbitrary: fc.integer({ min: -8.64e15, max: 8.64e15 }) },
        ),
        fc.integer({ min: -200_000, max: 200_000 }),
        (t, step) => {
          // Two instants, so both the cached day and a new day are exercised.
          for (const at of [t, t + step]) {
            const d = new Date(at);
            if (Number.isNaN(d.getTime())) continue;
            expect(utcIsoText(d)).toBe(d.toISOString());
            // PostgreSQL reads ISO text of years 1–9999 only; beyond, node-postgres' own form.
            expect(toPgText(d, true)).toBe(inIsoYears(d) ? d.toISOString() : toPgText(d));
          }
        },
      ),
      { numRuns: 2000 },
    );
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
