// The relation guard on its own: the error both adapters throw for a relation cohort does not write
// (one class, one message shape), the row it names, and what the finder is asked. (What each ORM's
// save writes through relations is tested through the adapters, against PostgreSQL.)
import { UnsupportedFeatureError } from '@cohort/core';
import { describe, expect, it } from 'vitest';
import type { ChangeTracker, WriteTarget } from '../../../packages/core/src/adapter/contract.js';
import { refuseChangedRelations, refuseUnwrittenRelations } from '../../../packages/core/src/engine/rows/relation-guard.js';
import type { BoundModel } from '../../../packages/core/src/model/bound-model.js';
import type { RelationWrite, UnwrittenRelation } from '../../../packages/core/src/model/entity-model.js';

type Row = { name: string; tags?: string[] };

function modelFinding(
  find?: (row: Row, write: RelationWrite, stored?: unknown) => UnwrittenRelation | undefined,
): BoundModel<Row> {
  return { name: 'Product', table: 'product', columns: [], returningOnInsert: [], uniques: [], unwrittenRelation: find };
}

const batch = {
  number: 3,
  entities: [{ name: 'a' }, { name: 'b', tags: ['x'] }, { name: 'c', tags: ['y'] }],
  indices: [30, 31, 32],
};

describe('refuseUnwrittenRelations', () => {
  it('names the class, the property and the input row of the first row found, in one message shape', () => {
    const asked: [string, RelationWrite, unknown][] = [];
    const model = modelFinding((row, write, stored) => {
      asked.push([row.name, write, stored]);
      return row.tags ? { kind: 'many-to-many link', property: 'tags', target: 'Tag' } : undefined;
    });
    let error: unknown;
    try {
      refuseUnwrittenRelations(model, batch, 'update', ['s0', 's1', 's2']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({
      name: 'UnsupportedFeatureError',
      feature: 'many-to-many link',
      entityName: 'Product',
      property: 'tags',
      index: 31,
      batch: 3,
      entity: batch.entities[1],
    });
    expect((error as Error).message).toBe(
      "cohort: Product.tags at row 31 adds or removes Tag links that the ORM's own save would write to the junction table, " +
        'in a way cohort does not write (docs/guide.md, Relations); cohort does not write this shape (many-to-many link). ' +
        "Nothing was written: write these links from the relation's owning side, or with the ORM's own save.",
    );
    // Rows are looked at in order, each with what was stored for it; the first one found stops the look.
    expect(asked).toEqual([
      ['a', 'update', 's0'],
      ['b', 'update', 's1'],
    ]);
  });

  it('a refusal of one shape (its advice given) says cohort does not write that shape, not that it writes no relations', () => {
    const model = modelFinding((row) =>
      row.tags ? { kind: 'cascade insert', property: 'tags', target: 'Tag', advice: 'insert the tags first' } : undefined,
    );
    expect(() => refuseUnwrittenRelations(model, batch, 'insert')).toThrow(
      "cohort: Product.tags at row 31 holds new Tag entities that the ORM's own save would insert (cascade); " +
        'cohort does not write this shape (cascade insert). Nothing was written: insert the tags first.',
    );
  });

  it("a check made before the change tracker's look-up lets through what the look-up may take (heldByStored); the check after it refuses it", () => {
    const model = modelFinding((row) =>
      row.tags ? { kind: 'cascade insert', property: 'shop.tags', target: 'Tag', heldByStored: true } : undefined,
    );
    expect(() => refuseUnwrittenRelations(model, batch, 'update', undefined, true)).not.toThrow();
    expect(() => refuseUnwrittenRelations(model, batch, 'update')).toThrow(UnsupportedFeatureError);
    // Any other finding is refused early too.
    const other = modelFinding((row) => (row.tags ? { kind: 'cascade insert', property: 'tags', target: 'Tag' } : undefined));
    expect(() => refuseUnwrittenRelations(other, batch, 'update', undefined, true)).toThrow(UnsupportedFeatureError);
  });

  it('a refusal without advice says cohort does not write this shape, and an unsaved reference says to insert the entity first, also when it is a row of the call', () => {
    const model = modelFinding((row) =>
      row.tags ? { kind: 'unsaved reference', property: 'parent', target: 'Product' } : undefined,
    );
    expect(() => refuseUnwrittenRelations(model, batch, 'update')).toThrow(
      "cohort: Product.parent at row 31 refers to a Product that has no key yet: the ORM's own save would insert it first (or refuse), " +
        'where cohort would write NULL; cohort does not write this shape (unsaved reference). Nothing was written: insert the Product ' +
        "first (a call of its own, or an earlier batch of this call when it is a row of it) and set the reference, or use the ORM's own save for these rows.",
    );
    const inverse = modelFinding((row) => (row.tags ? { kind: 'inverse side', property: 'items', target: 'Item' } : undefined));
    expect(() => refuseUnwrittenRelations(inverse, batch, 'update')).toThrow(
      /; cohort does not write this shape \(inverse side\)\. Nothing/,
    );
  });

  it('a row of a subclass is named by its own class', () => {
    const model = modelFinding(() => ({ kind: 'unsaved reference', property: 'owner', target: 'Person', entityName: 'Car' }));
    expect(() => refuseUnwrittenRelations(model, batch, 'insert')).toThrow(/^cohort: Car\.owner at row 30 refers to a Person/);
  });

  it('passes a batch without such relations, and a model without a finder is not looked at', () => {
    expect(() =>
      refuseUnwrittenRelations(
        modelFinding(() => undefined),
        batch,
        'insert',
      ),
    ).not.toThrow();
    expect(() => refuseUnwrittenRelations(modelFinding(), batch, 'insert')).not.toThrow();
  });
});

describe('refuseChangedRelations', () => {
  /** A write target whose tracker reports what `changed` returns, recording what it was asked. */
  function targetReporting(changed?: ChangeTracker<Row>['changedRelations']) {
    const asked: [string[], RelationWrite][] = [];
    const changes: ChangeTracker<Row> = {
      load: async () => [],
      diff: () => ({ properties: [], before: {}, columns: [] }),
      ...(changed && {
        changedRelations: (entities: readonly Row[], write: RelationWrite) => {
          asked.push([entities.map((e) => e.name), write]);
          return changed(entities, write);
        },
      }),
    };
    return { asked, target: { changes } as unknown as WriteTarget<Row> };
  }

  it('names the class, the relation path, the related class and the row, and says to save the related entities first', async () => {
    const { asked, target } = targetReporting(async () => ({
      first: { position: 2, found: { kind: 'cascade update', property: 'author.publisher', target: 'Publisher' } },
      groups: [],
    }));
    const error = await refuseChangedRelations(modelFinding(), batch, 'update', target).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({
      feature: 'cascade update',
      entityName: 'Product',
      property: 'author.publisher',
      index: 32,
      batch: 3,
      entity: batch.entities[2],
    });
    expect((error as Error).message).toBe(
      "cohort: Product.author.publisher at row 32 reaches a stored Publisher that was changed, which the ORM's own save " +
        'would update with the row (cascade); this call does not write it (cascade update). Nothing was written: ' +
        "save the changed Publisher entities yourself first (a bulk call of their own, or the ORM's save), then these rows.",
    );
    expect(asked).toEqual([[['a', 'b', 'c'], 'update']]);
  });

  it('an upsert, an empty batch and a tracker without the look are not asked; nothing found passes', async () => {
    const { asked, target } = targetReporting(async () => undefined);
    await refuseChangedRelations(modelFinding(), batch, 'upsert', target);
    await refuseChangedRelations(modelFinding(), { number: 1, entities: [], indices: [] }, 'insert', target);
    expect(asked).toEqual([]);
    await expect(refuseChangedRelations(modelFinding(), batch, 'insert', target)).resolves.toBeUndefined();
    expect(asked).toEqual([[['a', 'b', 'c'], 'insert']]);
    await expect(refuseChangedRelations(modelFinding(), batch, 'insert', targetReporting().target)).resolves.toBeUndefined();
  });
});
