// A call's outcomes while it runs, one byte per row (issue: 1M-row streams under 256 MB): what the
// result's array then holds is what assigning the outcomes to an array by index would give.
import { describe, expect, it } from 'vitest';
import type { RowOutcome } from '../../../packages/core/src/engine/options/bulk-options.js';
import { RowOutcomes } from '../../../packages/core/src/engine/options/row-outcomes.js';

const ALL: RowOutcome[] = ['inserted', 'updated', 'unchanged', 'removed', 'skipped'];

describe('RowOutcomes', () => {
  it('gives back each outcome at its index, past its first capacity, the last one set winning', () => {
    const outcomes = new RowOutcomes();
    const expected: RowOutcome[] = [];
    // Out of order and growing well past 1,024 rows, as overlapping key-ordered batches record them.
    for (const index of [5000, 3, 0, 1023, 1024, 2048, 4999, 3]) {
      const outcome = ALL[index % ALL.length] as RowOutcome;
      outcomes.set(index, outcome);
      expected[index] = outcome;
    }
    outcomes.set(3, 'skipped');
    expected[3] = 'skipped';
    expect(outcomes.get(3)).toBe('skipped');
    expect(outcomes.get(4)).toBeUndefined();
    expect(outcomes.get(99_999)).toBeUndefined();
    const array = outcomes.toArray();
    expect(array).toStrictEqual(expected);
    expect(array.length).toBe(5001);
    expect(1 in array).toBe(false);
  });

  it('an input of n rows, each given an outcome, gives a dense array of n', () => {
    const outcomes = new RowOutcomes();
    for (let i = 0; i < 10_000; i++) outcomes.set(i, ALL[i % 5] as RowOutcome);
    const array = outcomes.toArray();
    expect(array).toHaveLength(10_000);
    expect(Object.keys(array)).toHaveLength(10_000);
    expect(array.slice(0, 6)).toEqual(['inserted', 'updated', 'unchanged', 'removed', 'skipped', 'inserted']);
  });

  it('no outcome gives an empty array', () => {
    expect(new RowOutcomes().toArray()).toEqual([]);
  });
});
