import { compileInsert, qualifiedTable, quoteIdent, type TableCatalog } from '@cohort/core/adapter';
import { describe, expect, it } from 'vitest';

const table: TableCatalog = {
  qualifiedName: '"s"."item"',
  serverVersion: 150000,
  columns: new Map([
    ['id', { name: 'id', castType: 'integer', defaultExpr: "nextval('s.item_id_seq'::regclass)", identityAlways: false }],
    ['name', { name: 'name', castType: 'character varying', defaultExpr: null, identityAlways: false }],
    ['status', { name: 'status', castType: 'text', defaultExpr: "'new'::text", identityAlways: false }],
    ['email', { name: 'email', castType: 'text', defaultExpr: null, identityAlways: false }],
  ]),
};

describe('compileInsert', () => {
  it('has the same text whatever the row count: one text[] parameter per column', () => {
    const stmt = {
      table,
      sent: [{ name: 'name', mixed: false }],
      generatedKeys: ['id'],
      rowKey: ['id'],
      returning: ['id'],
      conflict: { kind: 'error' as const },
    };
    const small = compileInsert(stmt, [['a']], [undefined]);
    const large = compileInsert(stmt, [Array.from({ length: 100_000 }, (_, i) => `n${i}`)], [undefined]);
    expect(small.sql).toBe(large.sql);
    expect(large.parameters).toHaveLength(1);
    expect(small.sql).toContain('unnest($1::text[]) WITH ORDINALITY');
    expect(small.sql).toContain(`nextval('s.item_id_seq'::regclass) AS "c1"`);
    expect(small.sql).toContain('JOIN u ON i."k0" = u."c1"');
  });

  it('falls back to the column default per row for mixed columns', () => {
    const { sql, parameters } = compileInsert(
      {
        table,
        sent: [
          { name: 'name', mixed: false },
          { name: 'status', mixed: true },
        ],
        generatedKeys: ['id'],
        rowKey: ['id'],
        returning: ['status'],
        conflict: { kind: 'error' },
      },
      [
        ['a', 'b'],
        ['x', null],
      ],
      [undefined, [false, true]],
    );
    expect(sql).toContain(`CASE WHEN s."d1" THEN 'new'::text ELSE s."v1"::text END`);
    expect(parameters).toEqual([
      ['a', 'b'],
      ['x', null],
      [false, true],
    ]);
  });

  it('matches updated rows of an upsert by the conflict target and orders writes by it', () => {
    const { sql } = compileInsert(
      {
        table,
        sent: [
          { name: 'email', mixed: false },
          { name: 'name', mixed: false },
        ],
        generatedKeys: ['id'],
        rowKey: ['id'],
        returning: ['id'],
        conflict: { kind: 'update', target: ['email'], set: [{ column: 'name' }] },
        orderBy: ['email'],
      },
      [['a@x'], ['A']],
      [undefined, undefined],
    );
    expect(sql).toContain('ON CONFLICT ("email") DO UPDATE SET "name" = excluded."name"');
    // A text key in byte order, the order an array is cut into batches in (engine/key-order.ts).
    expect(sql).toContain('ORDER BY "c0" COLLATE "C", "__ord"');
    expect(sql).toContain('(t.xmax = 0) AS "__inserted"');
    expect(sql).toContain('UNION ALL');
  });

  it('on a partitioned table (no xmax to return) an upserted row is new when no row had its conflict key before', () => {
    const { sql } = compileInsert(
      {
        table: { ...table, partitionKey: 'LIST (status)' },
        sent: [
          { name: 'email', mixed: false },
          { name: 'status', mixed: false },
        ],
        generatedKeys: ['id'],
        rowKey: ['id'],
        returning: ['id'],
        conflict: { kind: 'update', target: ['email', 'status'], set: [] },
      },
      [['a@x'], ['eu']],
      [undefined, undefined],
    );
    expect(sql).not.toContain('xmax');
    expect(sql).toContain(
      '(NOT EXISTS (SELECT 1 FROM "s"."item" p WHERE p."email" = t."email" AND p."status" = t."status")) AS "__inserted"',
    );
  });

  it("an upsert's rows that keep a column write the stored value back, found through the conflict target", () => {
    const { sql, parameters } = compileInsert(
      {
        table,
        sent: [
          { name: 'email', mixed: false },
          { name: 'name', mixed: false, kept: true },
        ],
        generatedKeys: ['id'],
        rowKey: ['id'],
        returning: ['id'],
        conflict: { kind: 'update', target: ['email'], set: [{ column: 'name', fromRow: true, unlessKept: true }] },
        orderBy: ['email'],
      },
      [
        ['a@x', 'b@x'],
        ['A', null],
      ],
      [undefined, undefined],
      [undefined, [false, true]],
    );
    expect(sql).toContain('s."k1" AS "k1"');
    expect(sql).toContain(
      'DO UPDATE SET "name" = CASE WHEN (excluded."email") IN (SELECT u."c0" FROM u WHERE u."k1") THEN t."name" ELSE excluded."name" END',
    );
    expect(parameters).toEqual([
      ['a@x', 'b@x'],
      ['A', null],
      [false, true],
    ]);
  });

  it('quotes identifiers and never splices values', () => {
    const evil = "x'); DROP TABLE item; --";
    const { sql, parameters } = compileInsert(
      {
        table,
        sent: [{ name: 'name', mixed: false }],
        generatedKeys: ['id'],
        rowKey: ['id'],
        returning: [],
        conflict: { kind: 'ignore' },
      },
      [[evil]],
      [undefined],
    );
    expect(sql).not.toContain(evil);
    expect(parameters).toEqual([[evil]]);
    expect(sql).toContain('ON CONFLICT DO NOTHING');
  });
});

describe('identifiers', () => {
  it('are quoted, embedded quotes doubled', () => {
    expect(quoteIdent('select')).toBe('"select"');
    expect(quoteIdent('odd "name"')).toBe('"odd ""name"""');
    expect(qualifiedTable('t', 'my "schema"')).toBe('"my ""schema"""."t"');
  });
});
