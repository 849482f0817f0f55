// The UPDATE statement's shapes, run against a real table (no ORM): columns every row changes are
// set without a per-row flag, and with nothing to read back one summary row tells which rows matched.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CatalogColumn, TableCatalog } from '../../../packages/core/src/model/table-catalog.js';
import { compileUpdate, type UpdateStatement } from '../../../packages/core/src/sql/update-statement.js';
import { SchemaSession } from '../harness/schema-session.js';

let session: SchemaSession;
let table: TableCatalog;

beforeAll(async () => {
  session = await SchemaSession.open(inject('databaseUrl'), 'upd_stmt');
  await session.query('CREATE TABLE t (id integer PRIMARY KEY, qty integer NOT NULL, label text NOT NULL)');
  const column = (name: string, castType: string) =>
    [name, { name, castType, defaultExpr: null, identityAlways: false }] as const;
  table = {
    qualifiedName: `"${session.name}"."t"`,
    serverVersion: 150000,
    columns: new Map([column('id', 'integer'), column('qty', 'integer'), column('label', 'text')]),
  };
});
afterAll(() => session?.close());

const statement = (returning: string[] = []): UpdateStatement => ({
  table,
  key: ['id'],
  columns: [{ name: 'qty' }, { name: 'label' }],
  touch: [],
  returning,
});

describe('compileUpdate', () => {
  it('sets a column every row changes directly, and one some rows change per row', async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b')`);
    const values = {
      keys: [['1', '2']],
      values: [
        ['11', '21'],
        ['A', 'B'],
      ],
      changed: [
        [true, true],
        [true, false],
      ],
    };
    const { sql, parameters } = compileUpdate(statement(), values);
    expect(sql).toContain('"qty" = u."v0"::integer,');
    expect(sql).toContain('"label" = CASE WHEN u."ch1"');
    expect(parameters).toHaveLength(4);
    expect(await session.query(sql, [...parameters])).toEqual([{ matched_count: '2', matched: null }]);
    expect(await session.query('SELECT * FROM t ORDER BY id')).toEqual([
      { id: 1, qty: 11, label: 'A' },
      { id: 2, qty: 21, label: 'b' },
    ]);
  });

  it("a column's `otherwise` is what the rows that do not change it get", async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b')`);
    const stmt: UpdateStatement = { ...statement(), columns: [{ name: 'qty', otherwise: 't."qty" * 100' }, { name: 'label' }] };
    const values = {
      keys: [['1', '2']],
      values: [
        ['11', null],
        ['A', 'B'],
      ],
      changed: [
        [true, false],
        [true, true],
      ],
    };
    const { sql, parameters } = compileUpdate(stmt, values);
    await session.query(sql, [...parameters]);
    expect(await session.query('SELECT * FROM t ORDER BY id')).toEqual([
      { id: 1, qty: 11, label: 'A' },
      { id: 2, qty: 2000, label: 'B' },
    ]);
  });

  it('with nothing to read back, names the rows that matched when some did not', async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 10, 'a'), (3, 30, 'c')`);
    const values = {
      keys: [['1', '2', '3']],
      values: [
        ['1', '2', '3'],
        ['x', 'y', 'z'],
      ],
      changed: [
        [true, true, true],
        [true, true, true],
      ],
    };
    const { sql, parameters } = compileUpdate(statement(), values);
    const [row] = await session.query<{ matched_count: string; matched: string[] }>(sql, [...parameters]);
    expect(row?.matched_count).toBe('2');
    expect([...(row?.matched ?? [])].map(Number).sort()).toEqual([1, 3]);
    const none = compileUpdate(statement(), {
      keys: [['8', '9']],
      values: [
        ['1', '2'],
        ['x', 'y'],
      ],
      changed: [
        [true, true],
        [true, true],
      ],
    });
    expect(await session.query(none.sql, [...none.parameters])).toEqual([{ matched_count: '0', matched: null }]);
  });

  it('with values to read back, returns one row per matched row', async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b')`);
    const values = {
      keys: [['2', '1']],
      values: [
        ['5', '6'],
        ['p', 'q'],
      ],
      changed: [
        [true, true],
        [false, true],
      ],
    };
    const { sql, parameters } = compileUpdate(statement(['qty']), values);
    expect(await session.query(sql, [...parameters])).toEqual([
      { __ord: '1', r0: 5 },
      { __ord: '2', r0: 6 },
    ]);
  });

  it('sends columns of a type with a typed parameter as that type, uncast; others as text, cast', async () => {
    await session.query(`TRUNCATE t; INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b')`);
    const columns = new Map<string, CatalogColumn>(table.columns);
    for (const name of ['id', 'qty']) columns.set(name, { ...(columns.get(name) as CatalogColumn), paramType: 'integer' });
    const stmt: UpdateStatement = { ...statement(['qty']), table: { ...table, columns } };
    const values = {
      keys: [['2', '1']],
      values: [
        ['7', '8'],
        ['s', 't'],
      ],
      changed: [
        [true, true],
        [true, true],
      ],
    };
    const { sql, parameters } = compileUpdate(stmt, values);
    expect(sql).toContain('unnest($1::integer[], $2::integer[], $3::text[])');
    expect(sql).toContain('"qty" = u."v0",');
    expect(sql).toContain('"label" = u."v1"::text');
    expect(sql).toContain('t."id" = u."k0"');
    expect(await session.query(sql, [...parameters])).toEqual([
      { __ord: '1', r0: 7 },
      { __ord: '2', r0: 8 },
    ]);
    expect(await session.query('SELECT * FROM t ORDER BY id')).toEqual([
      { id: 1, qty: 8, label: 't' },
      { id: 2, qty: 7, label: 's' },
    ]);
  });
});
