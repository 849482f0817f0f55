// How a version column moves on: a counter by one; a timestamp (MikroORM's Date versions) to the
// transaction's timestamp at the column's precision — in an UPDATE and in an upsert's DO UPDATE.
import { describe, expect, it } from 'vitest';
import { resolveConflict } from '../../../packages/core/src/engine/upsert/conflict-plan.js';
import type { BoundModel } from '../../../packages/core/src/model/bound-model.js';
import type { TableCatalog } from '../../../packages/core/src/model/table-catalog.js';
import { compileUpdate } from '../../../packages/core/src/sql/update-statement.js';
import { nextVersionSql, versionStepOf } from '../../../packages/core/src/sql/version-step.js';
import { columnModel } from '../harness/column-model.js';

describe('versionStepOf / nextVersionSql', () => {
  it('a number counts up; a timestamp takes CURRENT_TIMESTAMP at its precision', () => {
    expect(nextVersionSql(versionStepOf({ kind: 'integer' }), 't."v"')).toBe('t."v" + 1');
    expect(nextVersionSql(versionStepOf({ kind: 'timestamptz', precision: 3 }), 't."v"')).toBe('CURRENT_TIMESTAMP(3)');
    expect(nextVersionSql(versionStepOf({ kind: 'timestamp', precision: 0 }), 't."v"')).toBe('CURRENT_TIMESTAMP(0)');
    expect(nextVersionSql(versionStepOf({ kind: 'timestamptz' }), 't."v"')).toBe('CURRENT_TIMESTAMP');
    expect(nextVersionSql(undefined, 't."v"')).toBe('t."v" + 1');
  });

  it('a precision outside PostgreSQL’s 0–6 is not spliced into the statement', () => {
    expect(versionStepOf({ kind: 'timestamptz', precision: 7 })).toEqual({ kind: 'clock' });
    expect(versionStepOf({ kind: 'timestamptz', precision: 1.5 })).toEqual({ kind: 'clock' });
  });
});

const model: BoundModel<never> = {
  name: 'Stamped',
  table: 'stamped',
  columns: [
    columnModel({ name: 'id', property: 'id', kind: 'integer', primary: true, updatable: false }),
    columnModel({ name: 'name', property: 'name' }),
    columnModel({ name: 'version', property: 'version', kind: 'timestamptz', precision: 3, role: 'version', hasDefault: true }),
  ],
  returningOnInsert: [],
  uniques: [{ columns: ['name'] }],
};

it("an upsert's DO UPDATE moves a timestamp version to CURRENT_TIMESTAMP(3)", () => {
  const conflict = resolveConflict(model, { target: ['name'] });
  expect(conflict.kind === 'update' && conflict.set).toEqual([{ column: 'version', expr: 'CURRENT_TIMESTAMP(3)' }]);
});

it('compileUpdate sets a timestamp version to CURRENT_TIMESTAMP(3) and still checks the expected one', () => {
  const column = (name: string, castType: string) =>
    [name, { name, castType, defaultExpr: null, identityAlways: false }] as const;
  const table: TableCatalog = {
    qualifiedName: '"s"."stamped"',
    serverVersion: 150000,
    columns: new Map([column('id', 'integer'), column('name', 'text'), column('version', 'timestamp with time zone')]),
  };
  const { sql } = compileUpdate(
    {
      table,
      key: ['id'],
      columns: [{ name: 'name' }],
      version: 'version',
      versionStep: { kind: 'clock', precision: 3 },
      touch: [],
      returning: ['version'],
    },
    { keys: [['1']], values: [['a']], changed: [[true]], expectedVersions: ['2026-01-01T00:00:00.000Z'] },
  );
  expect(sql).toContain('"version" = CURRENT_TIMESTAMP(3) FROM u');
  expect(sql).toMatch(/t\."version" = u\."ver"/);
});
