// The DELETE statement of bulkRemove: its text (no database), then its shapes run against a real
// table (no ORM): simple and composite keys, rows already gone absent from the result, stale
// versions reported as not removed, and nothing of a stale row deleted.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TableCatalog } from '../../../packages/core/src/model/table-catalog.js';
import { compileDelete, DELETE_KEY, DELETE_ORDINAL, DELETE_REMOVED } from '../../../packages/core/src/sql/delete-statement.js';
import { SchemaSession } from '../harness/schema-session.js';

const column = (name: string, castType: string, paramType?: string) =>
  [name, { name, castType, paramType, defaultExpr: null, identityAlways: false }] as const;
const catalog = (qualifiedName: string): TableCatalog => ({
  qualifiedName,
  serverVersion: 150000,
  columns: new Map([
    column('id', 'integer'),
    column('a', 'integer'),
    column('b', 'text'),
    column('version', 'integer'),
    column('n', 'integer'),
  ]),
});

describe('compileDelete (text)', () => {
  const table = catalog('"s"."t"');

  it('one DELETE … USING unnest(keys) WITH ORDINALITY per batch, the keys locked in order first', () => {
    const { sql, parameters } = compileDelete({ table, key: ['id'] }, { keys: [['1', '2', '3']] });
    expect(sql).toBe(
      'WITH u AS MATERIALIZED (SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS s("k0", "__ord")), ' +
        'locked AS MATERIALIZED (SELECT 1 FROM "s"."t" AS t JOIN u ON t."id" = u."k0"::integer ORDER BY t."id" FOR UPDATE OF t), ' +
        'd AS (DELETE FROM "s"."t" AS t USING u WHERE t."id" = u."k0"::integer AND (SELECT count(*) FROM locked) >= 0 ' +
        'RETURNING u."__ord") SELECT "__ord", true AS "removed" FROM d',
    );
    expect(parameters).toEqual([['1', '2', '3']]);
  });

  it('composite keys: one array per key column; text keys ordered byte-wise; the statement text does not depend on the row count', () => {
    const one = compileDelete({ table, key: ['a', 'b'] }, { keys: [['1'], ['x']] });
    const many = compileDelete(
      { table, key: ['a', 'b'] },
      {
        keys: [
          ['1', '2'],
          ['x', 'y'],
        ],
      },
    );
    expect(one.sql).toBe(many.sql);
    expect(one.sql).toContain('unnest($1::text[], $2::text[]) WITH ORDINALITY AS s("k0", "k1", "__ord")');
    expect(one.sql).toContain('ORDER BY t."a", t."b" COLLATE "C" FOR UPDATE OF t');
    expect(many.parameters).toEqual([
      ['1', '2'],
      ['x', 'y'],
    ]);
  });

  it('a version column: checked per row (null skips the check), and stale rows come back as not removed', () => {
    const { sql, parameters } = compileDelete(
      { table, key: ['id'], version: 'version' },
      { keys: [['1', '2']], expectedVersions: ['3', null] },
    );
    expect(sql).toContain('AND (u."ver" IS NULL OR t."version" = u."ver"::integer)');
    expect(sql).toContain(
      'UNION ALL SELECT u."__ord", false FROM u JOIN "s"."t" AS t ON t."id" = u."k0"::integer WHERE NOT EXISTS (SELECT 1 FROM d WHERE d."__ord" = u."__ord")',
    );
    expect(parameters).toEqual([
      ['1', '2'],
      ['3', null],
    ]);
  });

  it('a column of a type with a typed parameter travels typed, without a cast', () => {
    const typed: TableCatalog = { ...table, columns: new Map([column('id', 'integer', 'int4')]) };
    const { sql } = compileDelete({ table: typed, key: ['id'] }, { keys: [['1']] });
    expect(sql).toContain('unnest($1::int4[])');
    expect(sql).toContain('t."id" = u."k0"');
    expect(sql).not.toContain('::integer');
  });

  it('one integer or uuid key, no version, canonical key texts: `= ANY($1)`, the removed rows told by their key text', () => {
    const typed: TableCatalog = {
      ...table,
      columns: new Map([column('id', 'integer', 'integer'), column('version', 'integer', 'integer')]),
    };
    const { sql, parameters } = compileDelete({ table: typed, key: ['id'] }, { keys: [['3', '-1', '0']] });
    expect(sql).toBe(
      'WITH locked AS MATERIALIZED (SELECT 1 FROM "s"."t" AS t WHERE t."id" = ANY($1::integer[]) ORDER BY t."id" FOR UPDATE OF t) ' +
        'DELETE FROM "s"."t" AS t WHERE t."id" = ANY($1::integer[]) AND (SELECT count(*) FROM locked) >= 0 ' +
        `RETURNING t."id"::text AS "${DELETE_KEY}", true AS "${DELETE_REMOVED}"`,
    );
    expect(parameters).toEqual([['3', '-1', '0']]);
    // Texts PostgreSQL would print otherwise, a version to check, or a type without a canonical text: the unnest form.
    for (const keys of [['01'], ['+1'], ['-0'], [null]]) {
      expect(compileDelete({ table: typed, key: ['id'] }, { keys: [keys] }).sql).toContain('unnest(');
    }
    expect(compileDelete({ table: typed, key: ['id'], version: 'version' }, { keys: [['1']] }).sql).toContain('unnest(');
    const uuid: TableCatalog = { ...table, columns: new Map([column('id', 'uuid', 'uuid'), column('b', 'text', 'text')]) };
    const id = '0b6f4c52-2f7e-4a39-9d47-6f1b1d2e3a4b';
    expect(compileDelete({ table: uuid, key: ['id'] }, { keys: [[id]] }).sql).toContain('= ANY($1::uuid[])');
    expect(compileDelete({ table: uuid, key: ['id'] }, { keys: [[id.toUpperCase()]] }).sql).toContain('unnest(');
    expect(compileDelete({ table: uuid, key: ['b'] }, { keys: [['x']] }).sql).toContain('unnest(');
  });
});

describe('compileDelete (against a table)', () => {
  let session: SchemaSession;
  let table: TableCatalog;
  beforeAll(async () => {
    session = await SchemaSession.open(inject('databaseUrl'), 'del_stmt');
    await session.query(
      'CREATE TABLE t (id integer PRIMARY KEY, a integer NOT NULL, b text NOT NULL, version integer NOT NULL, n integer, UNIQUE (a, b))',
    );
    table = catalog(`"${session.name}"."t"`);
  });
  afterAll(() => session?.close());
  const run = async (sql: string, parameters: readonly unknown[]) =>
    (await session.query<Record<string, unknown>>(sql, [...parameters]))
      .map((r) => [Number(r[DELETE_ORDINAL]), r[DELETE_REMOVED]])
      .sort((x, y) => (x[0] as number) - (y[0] as number));
  const ids = async () => (await session.query<{ id: number }>('SELECT id FROM t ORDER BY id')).map((r) => r.id);

  it('removes the rows it finds and leaves the ones already gone out of the result', async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 1, 'a', 1), (2, 2, 'b', 1), (3, 3, 'c', 1)`);
    const { sql, parameters } = compileDelete({ table, key: ['id'] }, { keys: [['3', '9', '1']] });
    expect(await run(sql, parameters)).toEqual([
      [1, true],
      [3, true],
    ]);
    expect(await ids()).toEqual([2]);
  });

  it('composite keys match on every column', async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 1, 'a', 1), (2, 1, 'b', 1), (3, 2, 'a', 1)`);
    const { sql, parameters } = compileDelete(
      { table, key: ['a', 'b'] },
      {
        keys: [
          ['1', '2', '2'],
          ['b', 'a', 'b'],
        ],
      },
    );
    expect(await run(sql, parameters)).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(await ids()).toEqual([1]);
  });

  it('a stale version: the row stays and comes back as not removed; a row already gone is absent', async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 1, 'a', 1), (2, 2, 'b', 5), (3, 3, 'c', 1)`);
    const { sql, parameters } = compileDelete(
      { table, key: ['id'], version: 'version' },
      { keys: [['1', '2', '4', '3']], expectedVersions: ['1', '4', '1', null] },
    );
    expect(await run(sql, parameters)).toEqual([
      [1, true],
      [2, false],
      [4, true],
    ]);
    expect(await ids()).toEqual([2]);
  });

  it('the `= ANY` form removes the rows it finds and returns their keys as the engine wrote them', async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 1, 'a', 1), (2, 2, 'b', 1), (3, 3, 'c', 1)`);
    const typed: TableCatalog = { ...table, columns: new Map([column('id', 'integer', 'integer')]) };
    const { sql, parameters } = compileDelete({ table: typed, key: ['id'] }, { keys: [['3', '9', '1']] });
    const returned = await session.query<Record<string, unknown>>(sql, [...parameters]);
    expect(returned.map((r) => [r[DELETE_KEY], r[DELETE_REMOVED]]).sort()).toEqual([
      ['1', true],
      ['3', true],
    ]);
    expect(await ids()).toEqual([2]);
  });
});
