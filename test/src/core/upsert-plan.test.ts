// planUpsert on its own: what one batch's upsert writes, per row, from the rows' values (SPEC §8: an
// upsert never overwrites a column the input leaves undefined).
import { describe, expect, it } from 'vitest';
import { planUpsert, resolveConflict } from '../../../packages/core/src/engine/upsert/conflict-plan.js';
import type { BoundColumn, BoundModel } from '../../../packages/core/src/model/bound-model.js';
import { readBatchValues } from '../../../packages/core/src/sql/batch-values.js';
import { columnModel } from '../harness/column-model.js';

interface Person {
  id?: number;
  email: string;
  name?: string | null;
  score?: number;
  made?: string;
  version?: number;
}

const column = (name: keyof Person, over: Partial<BoundColumn<Person>> = {}) =>
  columnModel<Person>({ name, property: name, nullable: true, read: (entity) => entity[name], ...over });

const id = column('id', { primary: true, hasDefault: true, generated: 'increment', updatable: false, upsertable: true });
const model: BoundModel<Person> = {
  name: 'Person',
  table: 'person',
  columns: [
    id,
    column('email', { nullable: false }),
    column('name'),
    column('score', { kind: 'integer', hasDefault: true }),
    column('made'),
    column('version', { kind: 'integer', role: 'version', hasDefault: true }),
  ],
  returningOnInsert: [id],
  uniques: [{ columns: ['email'] }],
  insertOnly: (entity) => (entity.made === 'generated' ? ['made'] : undefined),
};

const conflict = (options: { update?: string[]; expressions?: Record<string, string> } = {}) => {
  const resolved = resolveConflict(model, { action: 'update', ...options });
  if (resolved.kind !== 'update') throw new Error('not an upsert');
  return resolved;
};

function plan(rows: Person[], options?: Parameters<typeof conflict>[0], over: Partial<BoundModel<Person>> = {}) {
  const own = { ...model, ...over };
  const columns = own.columns.filter((c) => c.insertable);
  const { batch, sent } = readBatchValues(
    columns,
    rows,
    rows.map((_, i) => i),
  );
  return planUpsert(own, conflict(options), rows, sent, batch.unset);
}

describe('planUpsert', () => {
  it('writes a column every row gives as it is, and a key a row gives', () => {
    const {
      writes,
      kept,
      conflict: action,
    } = plan([
      { id: 7, email: 'a', name: 'A', score: 1, made: 'x' },
      { id: 8, email: 'b', name: null, score: 2, made: 'y' },
    ]);
    expect(writes.map((w) => [w.column, w.unlessKept ?? false])).toEqual([
      ['id', false],
      ['name', false],
      ['score', false],
      ['made', false],
      ['version', false],
    ]);
    expect(kept.every((k) => k === undefined)).toBe(true);
    expect(action.set).toBe(writes);
  });

  it('does not write a column no row gives; keeps it for the rows of a batch that leave it undefined', () => {
    const { writes, kept } = plan([
      { email: 'a', name: 'A' },
      { email: 'b', score: 3 },
      { email: 'c', name: 'C', score: 4 },
    ]);
    // id and made: no row gives them. name and score: some rows do. version: not from the row.
    expect(writes.map((w) => [w.column, w.unlessKept ?? false])).toEqual([
      ['name', true],
      ['score', true],
      ['version', false],
    ]);
    expect(kept.filter((k) => k !== undefined)).toEqual([
      [false, true, false],
      [true, false, false],
    ]);
  });

  it("keeps a value made for the insert only (the model's insertOnly), per row", () => {
    const { writes, kept } = plan([
      { email: 'a', made: 'generated' },
      { email: 'b', made: 'given' },
    ]);
    expect(writes.find((w) => w.column === 'made')).toMatchObject({ unlessKept: true });
    expect(kept.filter((k) => k !== undefined)).toEqual([[true, false]]);
    // Made for the insert in every row: not written at all.
    expect(plan([{ email: 'a', made: 'generated' }]).writes.map((w) => w.column)).not.toContain('made');
  });

  it('with nothing to write, the SET is a no-op on the conflict target and `writes` is empty', () => {
    const { writes, conflict: action } = plan([{ email: 'a' }], { update: ['name'] });
    expect(writes).toEqual([]);
    expect(action.set).toEqual([{ column: 'email', expr: 't."email"' }]);
  });

  it('an expression on the row value follows the row; one without it is always written', () => {
    const rows = [{ email: 'a', score: 1 }, { email: 'b' }];
    const expressions = { score: '{current} + {value}', name: "'fixed'" };
    const { writes } = plan(rows, { update: ['score', 'name'], expressions });
    expect(writes.map((w) => [w.column, w.fromRow ?? false, w.unlessKept ?? false])).toEqual([
      ['score', true, true],
      ['name', false, false],
    ]);
  });

  it('reads back, for models that ask for it, every column a found row may not have written', () => {
    const rows = [{ email: 'a', name: 'A', made: 'generated' }];
    expect(plan(rows).readBack).toEqual([]);
    expect(plan(rows, undefined, { upsertReadsBack: true }).readBack.map((c) => c.name)).toEqual(['score', 'made', 'version']);
  });
});
