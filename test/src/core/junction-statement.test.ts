// The junction statements of many-to-many links (issue 22): their text, without a database. One
// INSERT and one DELETE per junction table and batch, whatever the number of links; typed array
// parameters where the column's type allows, text cast in SQL otherwise.
import { describe, expect, it } from 'vitest';
import type { TableCatalog } from '../../../packages/core/src/model/table-catalog.js';
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

  it("with returnHolders, the items' table joined again returns each item's foreign key before and after the UPDATE, and its key", () => {
    const foreignKey = { keyColumns: 1 };
    const { sql } = compileForeignKeyUpdate({ table, columns: ['post_id', 'tag_id'], foreignKey }, [['1'], ['2']], true);
    expect(sql).toBe(
      'UPDATE "s"."post_tag" AS j SET "tag_id" = u."tag_id" FROM unnest($1::integer[], $2::integer[]) AS u("post_id", "tag_id"), ' +
        '"s"."post_tag" AS o WHERE j."post_id" = u."post_id" AND o."post_id" = j."post_id" ' +
        'RETURNING o."tag_id"::text AS "old0", j."tag_id"::text AS "new0", j."post_id"::text AS "key0"',
    );
  });
});
