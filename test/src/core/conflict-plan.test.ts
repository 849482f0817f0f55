// `duplicates: 'keepFirst' | 'keepLast'` on its own: rows of a batch with the same conflict key, where a
// timestamptz key may come as a Date or as its UTC ISO text (MikroORM's adapter hands over either),
// are one key, as the statement itself (and the duplicate check behind it) sees them.
import { describe, expect, it } from 'vitest';
import { emptyResult } from '../../../packages/core/src/engine/options/bulk-options.js';
import { dropDuplicates } from '../../../packages/core/src/engine/upsert/conflict-plan.js';
import type { BoundColumn, BoundModel } from '../../../packages/core/src/model/bound-model.js';
import { columnModel } from '../harness/column-model.js';

interface Reading {
  at: Date | string;
  n: number;
}

const column = (name: keyof Reading, kind: BoundColumn<Reading>['kind']) =>
  columnModel<Reading>({ name, property: name, kind, read: (entity) => entity[name] });

const model: BoundModel<Reading> = {
  name: 'Reading',
  table: 'reading',
  columns: [column('at', 'timestamptz'), column('n', 'integer')],
  returningOnInsert: [],
  uniques: [{ columns: ['at'] }],
};

const instant = new Date(Date.UTC(2026, 2, 4, 5, 6, 7, 890));
const rows: Reading[] = [
  { at: instant, n: 1 },
  { at: '2026-03-04T05:06:07.890Z', n: 2 },
  { at: new Date(instant.getTime() + 1), n: 3 },
];

describe('dropDuplicates with a timestamptz conflict key', () => {
  for (const [mode, kept] of [
    ['keepFirst', [1, 3]],
    ['keepLast', [2, 3]],
  ] as const) {
    it(`${mode}: a Date and its UTC ISO text are the same key`, () => {
      const result = emptyResult<Reading>();
      const batch = { number: 0, entities: rows, indices: [0, 1, 2] };
      const left = dropDuplicates(
        model,
        { onConflict: { target: ['at'], action: 'ignore' }, duplicates: mode },
        batch,
        new Map(),
        result,
      );
      expect(left.entities.map((r) => r.n)).toEqual(kept);
      expect(result.skipped).toEqual([expect.objectContaining({ index: mode === 'keepFirst' ? 1 : 0, reason: 'duplicate' })]);
    });
  }
});
