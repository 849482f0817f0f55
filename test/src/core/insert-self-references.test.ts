// A tree written in one call, on its own: which references to a new parent of the row's own table
// the engine takes (to link with one follow-up UPDATE per batch) and which it refuses before anything
// is sent, and the UPDATE's text. (The rows and events against both ORMs' saves, on PostgreSQL:
// test/src/conformance/self-referencing-trees.test.ts.)
import { UnsupportedFeatureError } from '@cohort/core';
import { describe, expect, it } from 'vitest';
import type { SelfReference } from '../../../packages/core/src/adapter/contract.js';
import { SelfReferenceWrites } from '../../../packages/core/src/engine/insert/insert-self-references.js';
import type { BoundModel } from '../../../packages/core/src/model/bound-model.js';
import type { TableCatalog } from '../../../packages/core/src/model/table-catalog.js';
import { compileReferenceUpdate } from '../../../packages/core/src/sql/reference-update.js';

type Node = { id?: number; name: string; parent?: Node };

function model(nullable: boolean): BoundModel<Node> {
  return {
    name: 'Category',
    table: 'category',
    columns: [],
    returningOnInsert: [],
    uniques: [],
    selfReferences: (row) =>
      row.parent && row.parent.id === undefined
        ? [
            {
              property: 'parent',
              target: row.parent,
              columns: ['parent_id'],
              referenced: ['id'],
              nullable,
            } satisfies SelfReference,
          ]
        : undefined,
  };
}

const parent: Node = { name: 'parent' };
const child: Node = { name: 'child', parent };
const batchOf = (entities: Node[], first = 0) => ({ number: 1, entities, indices: entities.map((_, i) => first + i) });

function refusal(run: () => void): UnsupportedFeatureError {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject({ feature: 'unsaved reference', entityName: 'Category', property: 'parent' });
  return error as UnsupportedFeatureError;
}

describe('SelfReferenceWrites.collect', () => {
  it('takes a parent in the same batch, or later in an array input', () => {
    expect(() => new SelfReferenceWrites(model(true), {}).collect(batchOf([child, parent]))).not.toThrow();
    expect(() => new SelfReferenceWrites(model(true), {}, [child, parent]).collect(batchOf([child]))).not.toThrow();
  });

  it('refuses a NOT NULL join column, naming the class, the relation and the row', () => {
    const error = refusal(() => new SelfReferenceWrites(model(false), {}).collect(batchOf([parent, child], 10)));
    expect(error.index).toBe(11);
    expect(error.message).toMatch(
      /^cohort: Category\.parent at row 11 refers to a Category that has no key yet; its join column is NOT NULL/,
    );
  });

  it('refuses a parent the call does not insert, a later batch with atomic: false, and options that may skip the parent', () => {
    refusal(() => new SelfReferenceWrites(model(true), {}).collect(batchOf([child])));
    const later = refusal(() =>
      new SelfReferenceWrites(model(true), { atomic: false }, [child, parent]).collect(batchOf([child])),
    );
    expect(later.message).toContain('atomic: false');
    const skip = refusal(() => new SelfReferenceWrites(model(true), { onInvalid: 'skip' }).collect(batchOf([parent, child])));
    expect(skip.message).toContain("onInvalid: 'skip'");
  });
});

describe('compileReferenceUpdate', () => {
  const column = (name: string, castType: string, paramType?: string) =>
    [name, { name, castType, paramType, defaultExpr: null, identityAlways: false }] as const;
  const table: TableCatalog = {
    qualifiedName: '"s"."category"',
    serverVersion: 150000,
    columns: new Map([column('id', 'integer', 'integer'), column('parent_id', 'integer', 'integer'), column('code', 'bpchar')]),
  };

  it('one UPDATE … FROM unnest(…) for every row of the batch, typed parameters or text cast in SQL', () => {
    expect(
      compileReferenceUpdate({ table, keys: ['id'], set: ['parent_id'] }, [
        ['1', '3'],
        ['2', '1'],
      ]),
    ).toEqual({
      sql:
        'UPDATE "s"."category" AS t SET "parent_id" = u."parent_id" FROM unnest($1::integer[], $2::integer[]) AS u("id", "parent_id") ' +
        'WHERE t."id" = u."id"',
      parameters: [
        ['1', '3'],
        ['2', '1'],
      ],
    });
    expect(compileReferenceUpdate({ table, keys: ['code'], set: ['parent_id'] }, [['a'], ['1']]).sql).toBe(
      'UPDATE "s"."category" AS t SET "parent_id" = u."parent_id" FROM unnest($1::text[], $2::integer[]) AS u("code", "parent_id") ' +
        'WHERE t."code" = u."code"::bpchar',
    );
  });

  it("moves the version on and sets the update dates as the ORMs' own UPDATE does, returning them per row", () => {
    const versioned: TableCatalog = {
      ...table,
      columns: new Map([...table.columns, column('version', 'integer', 'integer'), column('updated_at', 'timestamp')]),
    };
    const stmt = { table: versioned, keys: ['id'], set: ['parent_id'], version: 'version', touch: ['updated_at'] };
    expect(compileReferenceUpdate({ ...stmt, returning: ['version', 'updated_at'] }, [['1'], ['2']]).sql).toBe(
      'UPDATE "s"."category" AS t SET "parent_id" = u."parent_id", "version" = t."version" + 1, "updated_at" = CURRENT_TIMESTAMP ' +
        'FROM unnest($1::integer[], $2::integer[]) WITH ORDINALITY AS u("id", "parent_id", "cohort_ordinal") WHERE t."id" = u."id" ' +
        'RETURNING u."cohort_ordinal", t."version" AS "r0", t."updated_at" AS "r1"',
    );
  });
});
