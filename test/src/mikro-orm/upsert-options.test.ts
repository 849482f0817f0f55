// MikroORM's own option names (SPEC §8): em.upsertMany()'s `onConflictFields`, `onConflictMergeFields`,
// `onConflictExcludeFields` and `onConflictAction: 'merge'` are honoured — the rows and keys equal to
// em.upsertMany()'s, one schema each — and its other names are refused by name, nothing written.
import { BulkEntityRepository, BulkUsageError, bulkInsert, bulkUpsert, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'shelf' })
class Shelf {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) sku!: string;
  @Property({ type: 'integer' }) qty!: number;
  @Property({ type: 'string', length: 20, nullable: true }) note!: string | null;
}

let ref: OwnMikroOrm;
let sub: OwnMikroOrm;

beforeAll(async () => {
  [ref, sub] = await Promise.all([
    ownMikroOrm('mupopt_ref', { entities: [Shelf] }),
    ownMikroOrm('mupopt_sub', { entities: [Shelf], entityRepository: BulkEntityRepository }),
  ]);
});
beforeEach(async () => {
  for (const side of [ref, sub]) await side.orm.em.fork().execute(`truncate "${side.schema}"."shelf" restart identity`);
});
afterAll(async () => {
  await Promise.all([ref?.close(), sub?.close()]);
});

const shelves = (...specs: [string, number, string | null][]) =>
  specs.map(([sku, qty, note]) => Object.assign(new Shelf(), { sku, qty, note }));
const rows = (side: OwnMikroOrm) =>
  side.orm.em.fork().execute(`select id, sku, qty, note from "${side.schema}"."shelf" order by id`);

/** Seeds both schemas alike, then upserts equal input: em.upsertMany in one, bulkUpsert in the other. */
async function differential(options: Record<string, unknown>) {
  for (const side of [ref, sub]) {
    const em = side.orm.em.fork();
    em.persist(shelves(['a', 1, 'one'], ['b', 2, 'two']));
    await em.flush();
  }
  const input = () => shelves(['b', 20, 'changed'], ['c', 3, 'new'], ['a', 10, null]);
  const refEntities = input();
  // A copy: MikroORM 6's upsertMany writes its logger context into the options object it is given.
  await ref.orm.em.fork().upsertMany(Shelf, refEntities, { ...options } as never);
  const subEntities = input();
  const result = await bulkUpsert(sub.orm.em.fork(), Shelf, subEntities, options);
  expect(await rows(sub)).toEqual(await rows(ref));
  expect(subEntities.map((e) => e.id)).toEqual(refEntities.map((e) => e.id));
  expect(result.outcomes).toEqual(['updated', 'inserted', 'updated']);
  return rows(sub);
}

describe("em.upsertMany()'s option names", () => {
  it('onConflictFields: the rows and keys of em.upsertMany', async () => {
    const stored = await differential({ onConflictFields: ['sku'] });
    expect(stored.map((r) => [r.sku, r.qty, r.note])).toEqual([
      ['a', 10, null],
      ['b', 20, 'changed'],
      ['c', 3, 'new'],
    ]);
  });

  it('onConflictMergeFields: only those properties are updated, as em.upsertMany does', async () => {
    const stored = await differential({ onConflictFields: ['sku'], onConflictMergeFields: ['qty'], onConflictAction: 'merge' });
    expect(stored.map((r) => [r.sku, r.qty, r.note])).toEqual([
      ['a', 10, 'one'],
      ['b', 20, 'two'],
      ['c', 3, 'new'],
    ]);
  });

  it('onConflictExcludeFields: every other property is updated, as em.upsertMany does', async () => {
    const stored = await differential({ onConflictFields: ['sku'], onConflictExcludeFields: ['note'] });
    expect(stored.map((r) => [r.sku, r.qty, r.note])).toEqual([
      ['a', 10, 'one'],
      ['b', 20, 'two'],
      ['c', 3, 'new'],
    ]);
  });

  it('through the repository: the same names, the same rows', async () => {
    await bulkInsert(sub.orm.em.fork(), Shelf, shelves(['a', 1, 'one']));
    const em = sub.orm.em.fork();
    const result = await (em.getRepository(Shelf) as BulkEntityRepository<Shelf>).bulkUpsert(shelves(['a', 5, 'x']), {
      onConflictFields: ['sku'],
      onConflictMergeFields: ['note'],
    });
    expect(result.outcomes).toEqual(['updated']);
    expect((await rows(sub)).map((r) => [r.qty, r.note])).toEqual([[1, 'x']]);
  });
});

describe('refused', () => {
  const refused = async (
    options: Record<string, unknown>,
    option: string,
    kind: abstract new (...args: never[]) => BulkUsageError,
    pattern: RegExp,
  ) => {
    const error = await bulkUpsert(sub.orm.em.fork(), Shelf, shelves(['a', 1, null]), options as never).catch((e: unknown) => e);
    expect(error, option).toBeInstanceOf(kind);
    expect(error).toMatchObject({ option });
    expect((error as Error).message).toMatch(pattern);
  };

  it("onConflictAction: 'ignore' (em.upsertMany loads the stored row onto the entity; cohort would not)", async () => {
    await refused({ onConflictAction: 'ignore' }, 'onConflictAction', UnsupportedFeatureError, /onConflict: 'ignore'/);
    await refused({ onConflictAction: 'skip' }, 'onConflictAction', BulkUsageError, /must be one of "merge", "ignore"/);
    expect(await rows(sub)).toEqual([]);
  });

  it("em.upsertMany()'s and insertMany()'s other names, each by name; nothing is written", async () => {
    for (const option of ['onConflictWhere', 'disableIdentityMap', 'ctx', 'convertCustomTypes', 'logging', 'filters', 'signal']) {
      await refused(
        { [option]: {} },
        option,
        UnsupportedFeatureError,
        new RegExp(`option "${option}" \\(MikroORM's .*\\) is not supported`),
      );
    }
    const error = await bulkInsert(sub.orm.em.fork(), Shelf, shelves(['a', 1, null]), {
      disableIdentityMap: true,
    } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect((error as Error).message).toMatch(/managed: false/);
    expect(await rows(sub)).toEqual([]);
  });

  it("a MikroORM name and cohort's that disagree, or exclude and merge fields together", async () => {
    await refused({ onConflictFields: ['sku'], target: ['id'] }, 'onConflictFields', BulkUsageError, /disagree/);
    await refused({ onConflictMergeFields: ['qty'], update: ['note'] }, 'onConflictMergeFields', BulkUsageError, /disagree/);
    await refused(
      { onConflictMergeFields: ['qty'], onConflictExcludeFields: ['note'] },
      'onConflictExcludeFields',
      BulkUsageError,
      /cannot be combined with "onConflictMergeFields"/,
    );
    await refused(
      { onConflictExcludeFields: ['qtty'] },
      'onConflictExcludeFields',
      BulkUsageError,
      /no column or property "qtty" \(did you mean "qty"\?\)/,
    );
    expect(await rows(sub)).toEqual([]);
  });

  it("upsertMany's names belong to bulkUpsert: on bulkInsert they are unknown options", async () => {
    const error = await bulkInsert(sub.orm.em.fork(), Shelf, shelves(['a', 1, null]), {
      onConflictFields: ['sku'],
    } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkUsageError);
    expect((error as Error).message).toMatch(/bulkInsert has no option "onConflictFields" \(an option of bulkUpsert\)/);
  });
});
