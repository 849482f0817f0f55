// The soft-delete UPDATE of bulkSoftRemove, as text (no database): the delete date (update date,
// version) set on rows not soft-deleted yet, the new values returned, stale versions reported.
import { describe, expect, it } from 'vitest';
import type { TableCatalog } from '../../../packages/core/src/model/table-catalog.js';
import { compileSoftDelete } from '../../../packages/core/src/sql/soft-delete-statement.js';

const column = (name: string, castType: string, paramType?: string) =>
  [name, { name, castType, paramType, defaultExpr: null, identityAlways: false }] as const;
const table: TableCatalog = {
  qualifiedName: '"s"."t"',
  serverVersion: 150000,
  columns: new Map([
    column('id', 'integer'),
    column('deleted_at', 'timestamp with time zone'),
    column('updated_at', 'timestamp with time zone'),
    column('version', 'integer'),
  ]),
};
const head =
  'WITH u AS MATERIALIZED (SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS s("k0", "__ord")), ' +
  'locked AS MATERIALIZED (SELECT 1 FROM "s"."t" AS t JOIN u ON t."id" = u."k0"::integer ORDER BY t."id" FOR UPDATE OF t), ';

describe('compileSoftDelete (text)', () => {
  it('one UPDATE … FROM unnest(keys) per batch: the delete date set where it is not yet, and returned', () => {
    const { sql, parameters } = compileSoftDelete(
      { table, key: ['id'], deleteDate: 'deleted_at', returning: ['deleted_at'] },
      { keys: [['1', '2']] },
    );
    expect(sql).toBe(
      `${head}d AS (UPDATE "s"."t" AS t SET "deleted_at" = CURRENT_TIMESTAMP FROM u WHERE t."id" = u."k0"::integer ` +
        'AND (SELECT count(*) FROM locked) >= 0 AND t."deleted_at" IS NULL RETURNING u."__ord", t."deleted_at" AS "r0") ' +
        'SELECT "__ord", true AS "removed", "r0" FROM d',
    );
    expect(parameters).toEqual([['1', '2']]);
  });

  it('update date and version maintained; a checked version adds the stale rows (not soft-deleted yet) with nulls', () => {
    const { sql, parameters } = compileSoftDelete(
      {
        table,
        key: ['id'],
        version: 'version',
        deleteDate: 'deleted_at',
        updateDate: 'updated_at',
        bumpVersion: 'version',
        returning: ['deleted_at', 'updated_at', 'version'],
      },
      { keys: [['1', '2']], expectedVersions: ['3', null] },
    );
    expect(sql).toContain(
      'SET "deleted_at" = CURRENT_TIMESTAMP, "version" = t."version" + 1, "updated_at" = CURRENT_TIMESTAMP FROM u',
    );
    expect(sql).toContain('AND t."deleted_at" IS NULL AND (u."ver" IS NULL OR t."version" = u."ver"::integer)');
    expect(sql).toContain('SELECT "__ord", true AS "removed", "r0", "r1", "r2" FROM d UNION ALL ');
    expect(sql).toMatch(
      /SELECT u\."__ord", false, NULL, NULL, NULL FROM u JOIN "s"\."t" AS t ON t\."id" = u\."k0"::integer WHERE t\."deleted_at" IS NULL AND NOT EXISTS \(SELECT 1 FROM d WHERE d\."__ord" = u\."__ord"\)$/,
    );
    expect(parameters).toEqual([
      ['1', '2'],
      ['3', null],
    ]);
  });

  it('the unchecked version is still incremented, and no stale rows are looked for', () => {
    const { sql } = compileSoftDelete(
      { table, key: ['id'], deleteDate: 'deleted_at', bumpVersion: 'version', returning: [] },
      { keys: [['1']] },
    );
    expect(sql).toContain('"version" = t."version" + 1');
    expect(sql).not.toContain('UNION ALL');
    expect(sql).not.toContain('"ver"');
  });
});
