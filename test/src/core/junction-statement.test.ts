// The junction statements of many-to-many links (issue 22): their text, without a database. One
// INSERT and one DELETE per junction table and batch, whatever the number of links; typed array
// parameters where the column's type allows, text cast in SQL otherwise.
import { describe, expect, it } from 'vitest';
import type { TableCatalog } from '../../../packages/core/src/model/table-catalog.js';
import { compileHolderText, exactHolderText } from '../../../packages/core/src/sql/holder-text.js';
import {
  compileForeignKeyUpdate,
  compileJunctionDelete,
  compileJunctionInsert,
} from '../../../packages/core/src/sql/junction-statement.js';

const column = (name: string, castType: string, paramType?: string) =>
  [name, { name, castType, paramType, defaultExpr: null, identityAlways: false }] as const;
const table: TableCatalog = {
  qualifiedName: '"s"."post_tag"',
  serverVersion: 150000,
  columns: new Map([column('post_id', 'integer', 'integer'), column('tag_id', 'integer', 'integer'), column('code', 'bpchar')]),
};

describe('compileJunctionInsert', () => {
  it('one INSERT … SELECT FROM unnest(…) for every link, typed parameters', () => {
    const { sql, parameters } = compileJunctionInsert({ table, columns: ['post_id', 'tag_id'] }, [
      ['1', '1', '2'],
      ['7', '8', '7'],
    ]);
    expect(sql).toBe(
      'INSERT INTO "s"."post_tag" ("post_id", "tag_id") SELECT u."post_id", u."tag_id" ' +
        'FROM unnest($1::integer[], $2::integer[]) AS u("post_id", "tag_id")',
    );
    expect(parameters).toEqual([
      ['1', '1', '2'],
      ['7', '8', '7'],
    ]);
  });

  it('a column without a typed parameter travels as text and is cast in SQL; the text does not depend on the link count', () => {
    const one = compileJunctionInsert({ table, columns: ['post_id', 'code'] }, [['1'], ['ab']]);
    const many = compileJunctionInsert({ table, columns: ['post_id', 'code'] }, [
      ['1', '2'],
      ['ab', 'cd'],
    ]);
    expect(one.sql).toBe(
      'INSERT INTO "s"."post_tag" ("post_id", "code") SELECT u."post_id", u."code"::bpchar ' +
        'FROM unnest($1::integer[], $2::text[]) AS u("post_id", "code")',
    );
    expect(many.sql).toBe(one.sql);
  });

  it('a column the table lacks is refused', () => {
    expect(() => compileJunctionInsert({ table, columns: ['post_id', 'nope'] }, [['1'], ['2']])).toThrow(
      /column nope does not exist in "s"."post_tag"/,
    );
  });
});

describe('compileJunctionDelete', () => {
  it('one DELETE … USING unnest(…) matching every column of each link', () => {
    const { sql, parameters } = compileJunctionDelete({ table, columns: ['post_id', 'tag_id'] }, [['1'], ['2']]);
    expect(sql).toBe(
      'DELETE FROM "s"."post_tag" AS j USING unnest($1::integer[], $2::integer[]) AS u("post_id", "tag_id") ' +
        'WHERE j."post_id" = u."post_id" AND j."tag_id" = u."tag_id"',
    );
    expect(parameters).toEqual([['1'], ['2']]);
  });

  it('text columns are cast where they are compared', () => {
    const { sql } = compileJunctionDelete({ table, columns: ['code', 'tag_id'] }, [['ab'], ['2']]);
    expect(sql).toContain('WHERE j."code" = u."code"::bpchar AND j."tag_id" = u."tag_id"');
  });
});

describe('compileForeignKeyUpdate', () => {
  it("one UPDATE … FROM unnest(…) setting each item's foreign key by its key, NULLs included", () => {
    const foreignKey = { keyColumns: 1 };
    const { sql, parameters } = compileForeignKeyUpdate({ table, columns: ['post_id', 'tag_id'], foreignKey }, [
      ['1', '2'],
      ['7', null],
    ]);
    expect(sql).toBe(
      'UPDATE "s"."post_tag" AS j SET "tag_id" = u."tag_id" FROM unnest($1::integer[], $2::integer[]) AS u("post_id", "tag_id") ' +
        'WHERE j."post_id" = u."post_id"',
    );
    expect(parameters).toEqual([
      ['1', '2'],
      ['7', null],
    ]);
  });

  it("update-date and version columns change as in the ORM's UPDATE", () => {
    const foreignKey = { keyColumns: 1, now: ['code'], increment: ['tag_id'] };
    const { sql } = compileForeignKeyUpdate({ table, columns: ['post_id', 'tag_id'], foreignKey }, [['1'], ['2']]);
    expect(sql).toContain('SET "tag_id" = u."tag_id", "code" = CURRENT_TIMESTAMP, "tag_id" = j."tag_id" + 1 FROM');
  });

  it("with returnHolders, the items' table joined again returns each item's foreign key before and after the UPDATE (PostgreSQL's text of one value per value) and its link's position", () => {
    const foreignKey = { keyColumns: 1 };
    const { sql } = compileForeignKeyUpdate({ table, columns: ['post_id', 'tag_id'], foreignKey }, [['1'], ['2']], true);
    expect(sql).toBe(
      'UPDATE "s"."post_tag" AS j SET "tag_id" = u."tag_id" FROM unnest($1::integer[], $2::integer[]) WITH ORDINALITY AS u("post_id", "tag_id", "cohort_link"), ' +
        '"s"."post_tag" AS o WHERE j."post_id" = u."post_id" AND o."post_id" = j."post_id" ' +
        'RETURNING o."tag_id"::text AS "old0", j."tag_id"::text AS "new0", u."cohort_link" AS "link"',
    );
    // A numeric foreign key without its scale ('1.50' and '1.5' are one holder), an instant in UTC.
    const typed: TableCatalog = {
      ...table,
      columns: new Map([
        column('id', 'integer', 'integer'),
        column('amount', 'numeric'),
        column('at', 'timestamp with time zone'),
      ]),
    };
    const both = compileForeignKeyUpdate(
      { table: typed, columns: ['id', 'amount', 'at'], foreignKey },
      [['1'], ['2'], ['3']],
      true,
    ).sql;
    expect(both).toContain(
      'RETURNING trim_scale(o."amount")::text AS "old0", (o."at" AT TIME ZONE \'UTC\')::text AS "old1", trim_scale(j."amount")::text AS "new0"',
    );
  });

  it('without returnHolders (no later batch of the call), the statement reads no old holder', () => {
    const { sql } = compileForeignKeyUpdate({ table, columns: ['post_id', 'tag_id'], foreignKey: { keyColumns: 1 } }, [
      ['1'],
      ['2'],
    ]);
    expect(sql).not.toContain('RETURNING');
    expect(sql).not.toContain(' AS o ');
  });
});

describe('compileHolderText', () => {
  it("a batch's holder values, sent as text, cast to the foreign key's types and printed as the item UPDATE prints the old holder, in row order", () => {
    const { sql, parameters } = compileHolderText(
      ['numeric', 'timestamp with time zone', 'text'],
      [
        ['1.5', null],
        ['2026-01-01T00:00:00.000Z', null],
        ['A', 'a'],
      ],
    );
    // A numeric is cast only from a decimal's text, NaN, or (PostgreSQL 14 on) an infinity: NULL otherwise.
    const decimal = "'^[[:space:]]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,4})?[[:space:]]*$'";
    const numeric =
      `CASE WHEN u."v0" ~ ${decimal} OR u."v0" ~* '^[[:space:]]*nan[[:space:]]*$' OR ` +
      `(u."v0" ~* '^[[:space:]]*[+-]?inf(inity)?[[:space:]]*$' AND current_setting('server_version_num')::int >= 140000) THEN u."v0"::numeric END`;
    expect(sql).toBe(
      `SELECT trim_scale(${numeric})::text AS "c0", ` +
        '(u."v1"::timestamp with time zone AT TIME ZONE \'UTC\')::text AS "c1", ' +
        'u."v2"::text::text AS "c2" FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u("v0", "v1", "v2", "ord") ORDER BY u."ord"',
    );
    expect(parameters).toEqual([
      ['1.5', null],
      ['2026-01-01T00:00:00.000Z', null],
      ['A', 'a'],
    ]);
    expect(exactHolderText('numeric')).toBe(true);
    expect(exactHolderText('citext')).toBe(false);
  });

  it('an integer foreign key: a text that is no integer of its range (a wider key: 2^40, 1.5, NaN) is cast to NULL; 5.000 to 5', () => {
    const { sql } = compileHolderText(['integer'], [['1099511627776']]);
    expect(sql).toContain(
      `CASE WHEN u."v0"::numeric = trunc(u."v0"::numeric) AND u."v0"::numeric BETWEEN -2147483648 AND 2147483647 THEN u."v0"::numeric::integer END`,
    );
    expect(compileHolderText(['smallint'], [['1']]).sql).toContain('BETWEEN -32768 AND 32767 THEN u."v0"::numeric::smallint');
  });
});
