// A tree written in one call, on its own: which references to a new parent of the row's own table
// the engine takes (to link with one follow-up UPDATE per batch) and which it refuses before anything
// is sent, and the UPDATE's text. (The rows and events against both ORMs' saves, on PostgreSQL:
// test/src/conformance/self-referencing-trees.test.ts.)
import { BulkValidationError, UnsupportedFeatureError } from '@cohort/core';
import { describe, expect, it } from 'vitest';
import type {
  SelfReference,
  SqlSession,
  TreeUpdate,
  UpdateHookBatch,
  WriteTarget,
} from '../../../packages/core/src/adapter/contract.js';
import { SelfReferenceWrites } from '../../../packages/core/src/engine/insert/insert-self-references.js';
import type { BoundColumn, BoundModel } from '../../../packages/core/src/model/bound-model.js';
import type { ColumnModel } from '../../../packages/core/src/model/entity-model.js';
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

  it("takes a parent an earlier batch inserted (its key read with the model's key column), with or without atomic (MikroORM names it); with onInvalid: 'skip' refused (the row itself may be skipped, its UPDATE still sent)", () => {
    const keyed: BoundModel<Node> = {
      ...model(true),
      columns: [{ name: 'id', read: (row: Node) => row.id } as unknown as BoundColumn<Node>],
      selfReferences: (row) =>
        row.parent
          ? [{ property: 'parent', target: row.parent, columns: ['parent_id'], referenced: ['id'], nullable: true }]
          : undefined,
    };
    const stored: Node = { id: 7, name: 'stored' };
    const below: Node = { name: 'below', parent: stored };
    for (const options of [{}, { atomic: false }]) {
      expect(() => new SelfReferenceWrites(keyed, options).collect(batchOf([below]))).not.toThrow();
    }
    const skipped = refusal(() => new SelfReferenceWrites(keyed, { onInvalid: 'skip' }).collect(batchOf([below])));
    expect(skipped.message).toContain("onInvalid: 'skip'");
    // Without its key it is refused as before.
    refusal(() => new SelfReferenceWrites(keyed, {}).collect(batchOf([child])));
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

// SelfReferenceWrites.write on its own: a fake session answers the catalog query and records the
// UPDATEs; a fake TreeUpdate names, per row, columns its UPDATE writes beside the parent (as
// MikroORM's flush writes onUpdate values and what hooks changed).
describe('SelfReferenceWrites.write with other columns per row', () => {
  type Row = { id?: number; name: string; note?: string; stamp?: number; version?: number; parent?: Row };
  const column = (name: string, extra: Partial<ColumnModel> = {}): BoundColumn<Row> => ({
    name,
    property: name === 'parent_id' ? 'parent' : name,
    kind: name === 'note' ? 'string' : 'integer',
    isArray: false,
    nullable: name !== 'id',
    primary: name === 'id',
    hasDefault: false,
    insertable: true,
    updatable: name !== 'id',
    ...extra,
    read: (row) => (name === 'parent_id' ? row.parent?.id : row[name as 'id' | 'note' | 'stamp' | 'version']),
    write: () => undefined,
  });
  const columns = [
    column('id'),
    column('parent_id'),
    column('note', { length: 5 }),
    column('stamp'),
    column('version', { role: 'version' }),
  ];
  const catalog = ['id', 'parent_id', 'note', 'stamp', 'version'].map((name) => ({
    name,
    cast_type: name === 'note' ? 'character varying' : 'integer',
    default_expr: null,
    identity_always: false,
    server_version: 150000,
    partition_key: null,
  }));

  function setUp(hookNote?: string) {
    const sent: { sql: string; parameters: unknown[] }[] = [];
    const written: [string, Record<string, unknown>, readonly string[]][] = [];
    const session: SqlSession = {
      async query(sql: string, parameters: unknown[] = []) {
        if (!sql.startsWith('UPDATE')) return catalog;
        sent.push({ sql, parameters });
        const ids = parameters[0] as string[];
        return ids.map((_, i) => ({ cohort_ordinal: String(i + 1), r0: 2 }));
      },
    } as unknown as SqlSession;
    // Rows named with an s get a stamp beside the parent (an onUpdate value); `hooked` adds the note a
    // before-update hook set.
    const tree: TreeUpdate<Row> = {
      before: true,
      change(row, references) {
        const stamped = row.name.includes('s');
        if (stamped) row.stamp = 7;
        const properties = [...references.map((r) => r.property), ...(stamped ? ['stamp'] : [])];
        return { properties, before: {}, columns: [...references.flatMap((r) => r.columns), ...(stamped ? ['stamp'] : [])] };
      },
      hooked(row, change) {
        if (row.note === undefined) return change;
        return { ...change, properties: [...change.properties, 'note'], columns: [...(change.columns ?? []), 'note'] };
      },
      written(row, returned, change) {
        written.push([row.name, { ...returned }, change.columns ?? []]);
      },
    };
    const rowModel: BoundModel<Row> = {
      ...(model(true) as unknown as BoundModel<Row>),
      table: 'tree_row',
      columns,
      treeUpdate: tree,
      selfReferences: (row) =>
        row.parent && row.parent.id === undefined
          ? [{ property: 'parent', target: row.parent, columns: ['parent_id'], referenced: ['id'], nullable: true }]
          : undefined,
    };
    const target = {
      session,
      inCallerTransaction: true,
      hooks: {
        beforeInsert: async () => undefined,
        afterInsert: async () => undefined,
        async beforeUpdate(batch: UpdateHookBatch<Row>) {
          for (const row of batch.entities) if (row.name.includes('h')) row.note = hookNote;
        },
      },
    } as unknown as WriteTarget<Row>;
    return { sent, written, model: rowModel, target };
  }

  /** A batch's tree work as run-insert runs it: after its statement, then after its insert events. */
  const writeTree = async (writes: SelfReferenceWrites<Row>, target: WriteTarget<Row>) => {
    await writes.afterStatement(target, 1);
    const late = writes.afterInserts(target, 1);
    await late.before();
    await late.write();
    await late.after();
  };
  const tree = (): Row[] => {
    const root: Row = { name: 'root' };
    return [root, ...['a', 'bs', 'cs', 'dsh'].map((name) => ({ name, parent: root }))];
  };
  const insert = (rows: Row[]) => {
    rows.forEach((row, i) => {
      row.id = i + 1;
      row.version = 1;
    });
  };

  it('one UPDATE per set of columns written, the other columns read from the rows and encoded', async () => {
    const { sent, written, model, target } = setUp('hook');
    const rows = tree();
    const writes = new SelfReferenceWrites(model, {}, rows);
    writes.collect(batchOf(rows));
    insert(rows);
    await writeTree(writes, target);
    expect(sent.map((s) => s.sql.replace(/ FROM unnest.*/, ''))).toEqual([
      'UPDATE "tree_row" AS t SET "parent_id" = u."parent_id", "version" = t."version" + 1',
      'UPDATE "tree_row" AS t SET "parent_id" = u."parent_id", "stamp" = u."stamp", "version" = t."version" + 1',
      'UPDATE "tree_row" AS t SET "parent_id" = u."parent_id", "note" = u."note", "stamp" = u."stamp", "version" = t."version" + 1',
    ]);
    expect(sent.map((s) => s.parameters)).toEqual([
      [['2'], ['1']],
      [
        ['3', '4'],
        ['1', '1'],
        ['7', '7'],
      ],
      [['5'], ['1'], ['hook'], ['7']],
    ]);
    expect(written).toEqual([
      ['a', { version: 2 }, ['parent_id']],
      ['bs', { version: 2 }, ['parent_id', 'stamp']],
      ['cs', { version: 2 }, ['parent_id', 'stamp']],
      ['dsh', { version: 2 }, ['parent_id', 'stamp', 'note']],
    ]);
  });

  it('validates the other columns as an update does: a BulkValidationError naming the row, nothing sent', async () => {
    const { sent, model, target } = setUp('too long');
    const rows = tree();
    const writes = new SelfReferenceWrites(model, {}, rows);
    writes.collect(batchOf(rows));
    insert(rows);
    const error = await writeTree(writes, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    expect((error as BulkValidationError).failures).toMatchObject([{ index: 4, property: 'note' }]);
    expect(sent).toEqual([]);
    const unchecked = setUp('too long');
    const again = tree();
    const lax = new SelfReferenceWrites(unchecked.model, { validate: false }, again);
    lax.collect(batchOf(again));
    insert(again);
    await writeTree(lax, unchecked.target);
    expect(unchecked.sent).toHaveLength(3);
  });
});

// A column the adapter's change names that the tree's UPDATE may not write (not updatable, a key,
// not one of the model's): refused by name before any UPDATE is sent, not silently left out.
describe('SelfReferenceWrites.write: a named column it may not write', () => {
  type Row = { id?: number; name: string; code?: string; parent?: Row };
  const column = (name: string, extra: Partial<ColumnModel> = {}): BoundColumn<Row> => ({
    name,
    property: name === 'parent_id' ? 'parent' : name,
    kind: 'integer',
    isArray: false,
    nullable: name !== 'id',
    primary: name === 'id',
    hasDefault: false,
    insertable: true,
    updatable: name !== 'id',
    ...extra,
    read: (row) => (name === 'parent_id' ? row.parent?.id : row[name as 'id' | 'code']),
    write: () => undefined,
  });

  async function refusedFor(named: string) {
    const sent: string[] = [];
    const session = {
      async query(sql: string) {
        sent.push(sql);
        return [];
      },
    } as unknown as SqlSession;
    const rowModel: BoundModel<Row> = {
      ...(model(true) as unknown as BoundModel<Row>),
      columns: [column('id'), column('parent_id'), column('code', { updatable: false })],
      treeUpdate: {
        before: false,
        change: (_row, references) => ({
          properties: references.map((r) => r.property),
          before: {},
          columns: [...references.flatMap((r) => r.columns), named],
        }),
        written: () => undefined,
      },
      selfReferences: (row) =>
        row.parent && row.parent.id === undefined
          ? [{ property: 'parent', target: row.parent, columns: ['parent_id'], referenced: ['id'], nullable: true }]
          : undefined,
    };
    const root: Row = { name: 'root' };
    const rows: Row[] = [{ name: 'a', parent: root }, root];
    const writes = new SelfReferenceWrites(rowModel, {}, rows);
    writes.collect({ number: 2, entities: rows, indices: [4, 5] });
    rows.forEach((row, i) => {
      row.id = i + 1;
    });
    const target = { session, inCallerTransaction: true, hooks: {} } as unknown as WriteTarget<Row>;
    const error = await writes.afterStatement(target, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(sent).toEqual([]);
    return error as UnsupportedFeatureError;
  }

  it('a column that is not updatable, the primary key, a column the model does not map: tree update, naming class, property, row and batch', async () => {
    const code = await refusedFor('code');
    expect(code).toMatchObject({ feature: 'tree update', entityName: 'Category', property: 'code', index: 4, batch: 2 });
    expect(code.message).toContain('Category.code at row 4');
    expect(code.message).toContain('is not updatable');
    expect(await refusedFor('id')).toMatchObject({ feature: 'tree update', property: 'id', index: 4, batch: 2 });
    const unknown = await refusedFor('other');
    expect(unknown).toMatchObject({ feature: 'tree update', property: 'other', index: 4, batch: 2 });
    expect(unknown.message).toContain('no column cohort maps');
  });
});
