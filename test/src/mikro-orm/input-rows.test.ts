// What a MikroORM call takes and leaves behind, against the ORM's own paths on equal input: rows
// that are not entities of the call's class are refused naming the row; plain data for a managed row
// goes through that managed instance, as em.upsert() does; entities a call did not write (skipped)
// leave the unit of work, so a later flush does not write them after all.

import { BulkHookError, BulkUsageError, bulkInsert, bulkSave, bulkUpdate, bulkUpsert } from '@cohort/mikro-orm';
import { BeforeCreate, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { identityMapEntry } from '../harness/mikro-orm-major.js';
import { normalizeRecord } from '../harness/normalize.js';
import {
  masked,
  type OwnMikroOrmPair,
  type OwnSide,
  ownMikroOrmPair,
  unitOfWorkState,
  withForcedStrategy,
} from '../harness/own-mikro-orm-pair.js';

@Entity({ tableName: 'member' })
class Member {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) name!: string;
  @Property({ type: 'integer' }) score!: number;

  @BeforeCreate() refuseBoom(): void {
    if (this.name === 'boom') throw new Error('boom is refused');
  }
}

@Entity({ tableName: 'team' })
class Team {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
}

let pair: OwnMikroOrmPair;
let reference: OwnSide;
let subject: OwnSide;

beforeAll(async () => {
  pair = await ownMikroOrmPair('minput', { entities: [Member, Team] }, (e) => (e as { name: string }).name);
  ({ reference, subject } = pair);
});
beforeEach(() => pair.reset(['member', 'team']));
afterAll(() => pair?.close());

const member = (name: string, score = 1) => Object.assign(new Member(), { name, score });

/** Stores rows on a side outside the EntityManagers under test (they manage none of them). */
async function seed(side: OwnSide, ...names: string[]) {
  await side.orm.em
    .fork()
    .persist(names.map((name) => member(name)))
    .flush();
  side.events.length = 0;
  side.sql.length = 0;
}

/** Both sides' rows, objects and unit-of-work state must be equal (`mask`: compared by type only). */
async function expectSame(
  table: string,
  [refEm, refs]: [EntityManager, object[]],
  [subEm, subs]: [EntityManager, object[]],
  mask: readonly string[] = [],
) {
  const rows = async (side: OwnSide) => (await side.rows(table, 'name')).map((r) => masked(r, mask));
  expect(await rows(subject), 'rows').toEqual(await rows(reference));
  expect(
    subs.map((e) => masked(normalizeRecord(e), mask)),
    'objects',
  ).toEqual(refs.map((e) => masked(normalizeRecord(e), mask)));
  expect(unitOfWorkState(subEm, subs, mask), 'unit of work').toEqual(unitOfWorkState(refEm, refs, mask));
}

const calls = {
  bulkInsert: (em: EntityManager, rows: object[]) => bulkInsert(em, Member, rows as Member[], withForcedStrategy()),
  bulkUpsert: (em: EntityManager, rows: object[]) =>
    bulkUpsert(em, Member, rows as Member[], withForcedStrategy({ target: ['name'] })),
  bulkSave: (em: EntityManager, rows: object[]) => bulkSave(em, Member, rows as Member[], withForcedStrategy()),
  bulkUpdate: (em: EntityManager, rows: object[]) => bulkUpdate(em, Member, rows as Member[], withForcedStrategy()),
};

describe('rows that are not entities of the call’s class', () => {
  it.each(Object.keys(calls) as (keyof typeof calls)[])(
    '%s refuses a plain object naming the row; no hook runs, nothing is written',
    async (call) => {
      const em = subject.orm.em.fork();
      const plain = { name: 'p', score: 2 };
      const error = await calls[call](em, [member('m'), plain]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkUsageError);
      expect(error).toMatchObject({ index: 1, entity: plain, batch: 0 });
      expect((error as Error).message).toBe(
        'cohort: row 1 is a plain object, not a Member entity: cohort writes entities ' +
          '(make one with em.create(Member, data, { persist: false }))',
      );
      expect(subject.events).toEqual([]);
      expect(await subject.rows('member')).toEqual([]);
    },
  );

  it('a plain object in a later batch rolls the earlier batches back and leaves their entities unmanaged', async () => {
    const em = subject.orm.em.fork();
    const first = member('m1');
    const error = await bulkInsert(
      em,
      Member,
      [first, member('m2'), { name: 'p' } as Member],
      withForcedStrategy({ batchSize: 2 }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkUsageError);
    expect(error).toMatchObject({ index: 2, batch: 1 });
    expect(await subject.rows('member')).toEqual([]);
    expect(unitOfWorkState(em, [first])).toEqual([
      { managed: false, inIdentityMap: false, scheduled: false, snapshot: undefined },
    ]);
  });

  it('an entity of another class is refused naming the row and its class', async () => {
    const team = Object.assign(new Team(), { name: 't' });
    const error = await bulkInsert(subject.orm.em.fork(), Member, [member('m'), team as never]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkUsageError);
    expect(error).toMatchObject({ index: 1, entity: team });
    expect((error as Error).message).toBe(
      'cohort: row 1 is a Team entity, not a Member: write each entity class with its own call',
    );
    const other = await bulkInsert(subject.orm.em.fork(), Member, [new Date() as never]).catch((e: unknown) => e);
    expect((other as Error).message).toBe('cohort: row 0 is an instance of Date, which is not a MikroORM entity, not a Member');
    expect(await subject.rows('member')).toEqual([]);
  });

  it('plain data made into entities with em.create(…, { persist: false }) is written as em.create + flush writes it', async () => {
    const data = [
      { name: 'd1', score: 1 },
      { name: 'd2', score: 2 },
    ];
    const refEm = reference.orm.em.fork();
    const refs = data.map((d) => refEm.create(Member, d));
    await refEm.flush();
    const subEm = subject.orm.em.fork();
    const subs = data.map((d) => subEm.create(Member, d, { persist: false }));
    await bulkInsert(subEm, Member, subs, withForcedStrategy());
    await expectSame('member', [refEm, refs], [subEm, subs]);
    expect(subject.events).toEqual(reference.events);
  });
});

describe('plain data for a row the EntityManager manages', () => {
  it('em.upsert() updates and returns the managed instance; cohort takes that instance with the data assigned', async () => {
    await seed(reference, 'a', 'b');
    await seed(subject, 'a', 'b');
    const refEm = reference.orm.em.fork();
    const subEm = subject.orm.em.fork();
    const [refManaged, subManaged] = [await refEm.findOneOrFail(Member, 1), await subEm.findOneOrFail(Member, 1)];
    const data = { id: 1, name: 'a', score: 5 };

    const returned = await refEm.upsert(Member, { ...data });
    expect(returned).toBe(refManaged);
    // cohort refuses the plain row (naming it) rather than writing a second instance of the row.
    const error = await bulkUpsert(subEm, Member, [{ ...data } as Member], { target: ['id'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkUsageError);
    expect(error).toMatchObject({ index: 0 });
    subEm.assign(subManaged, { ...data });
    const result = await bulkUpsert(subEm, Member, [subManaged], withForcedStrategy({ target: ['id'] }));
    expect(result.outcomes).toEqual(['updated']);
    expect(subEm.getUnitOfWork().getById(Member, 1)).toBe(subManaged);
    await expectSame('member', [refEm, [refManaged]], [subEm, [subManaged]]);

    // A later change to it is flushed, the same way.
    reference.events.length = 0;
    subject.events.length = 0;
    refManaged.score = 6;
    subManaged.score = 6;
    await refEm.flush();
    await subEm.flush();
    await expectSame('member', [refEm, [refManaged]], [subEm, [subManaged]]);
    expect(subject.events).toEqual(reference.events);
    expect(subject.events).toEqual(['beforeUpdate Member a [score]', 'afterUpdate Member a [score]']);
  });

  it('a new instance with the key of a managed one replaces it in the identity map, as em.upsert(entity) does', async () => {
    await seed(reference, 'a');
    await seed(subject, 'a');
    const refEm = reference.orm.em.fork();
    const subEm = subject.orm.em.fork();
    const [refOld, subOld] = [await refEm.findOneOrFail(Member, 1), await subEm.findOneOrFail(Member, 1)];
    const [refNew, subNew] = [Object.assign(member('a', 7), { id: 1 }), Object.assign(member('a', 7), { id: 1 })];
    await refEm.upsert(refNew);
    await bulkUpsert(subEm, Member, [subNew], withForcedStrategy({ target: ['id'] }));
    expect(await subject.rows('member')).toEqual(await reference.rows('member'));
    expect(normalizeRecord(subNew)).toEqual(normalizeRecord(refNew));
    expect(unitOfWorkState(subEm, [subNew])).toEqual(unitOfWorkState(refEm, [refNew]));
    expect(subEm.getUnitOfWork().getById(Member, 1)).toBe(subNew);
    expect(unitOfWorkState(subEm, [subOld])[0]).toMatchObject({ inIdentityMap: false });
    // With a `schema` in the config (as here), MikroORM files the new instance under the platform's
    // default schema: the loaded one stays where em.findOne looks (docs/differences.md).
    expect(refEm.getUnitOfWork().getById(Member, 1)).toBe(refOld);
  });
});

describe('entities a call skipped leave the unit of work', () => {
  it("onConflict: 'ignore': the skipped entity is no longer scheduled; a later flush sends nothing for it", async () => {
    await seed(reference, 'taken');
    await seed(subject, 'taken');
    // The ORM's own path writes only what it is given: the conflicting entity is made, not persisted.
    const refEm = reference.orm.em.fork();
    const refs = [
      refEm.create(Member, { name: 'taken', score: 2 }, { persist: false }),
      refEm.create(Member, { name: 'new', score: 3 }),
    ];
    await refEm.flush();
    // em.create() schedules both for the next flush; bulkInsert skips the conflicting one.
    const subEm = subject.orm.em.fork();
    const subs = [subEm.create(Member, { name: 'taken', score: 2 }), subEm.create(Member, { name: 'new', score: 3 })];
    expect(unitOfWorkState(subEm, subs).map((s) => s.scheduled)).toEqual([true, true]);
    const result = await bulkInsert(subEm, Member, subs, withForcedStrategy({ onConflict: 'ignore' }));
    expect(result.skipped).toEqual([{ index: 0, entity: subs[0], reason: 'conflict' }]);
    // ON CONFLICT DO NOTHING draws a key for the skipped row too: keys compare by type.
    await expectSame('member', [refEm, refs], [subEm, subs], ['id']);
    // Skipped rows get their before-hooks, not their after-hooks (SPEC §5).
    expect(subject.events).toEqual(['beforeCreate Member taken [name,score]', ...reference.events]);
    subject.sql.length = 0;
    await subEm.flush();
    expect(subject.sql).toEqual([]);
    expect((await subject.rows('member', 'name')).map((r) => masked(r, ['id']))).toEqual(
      (await reference.rows('member', 'name')).map((r) => masked(r, ['id'])),
    );
  });

  it('a skipped entity that persist() put in the identity map by its key leaves it; a managed one of that key stays', async () => {
    await seed(subject, 'taken', 'other');
    const em = subject.orm.em.fork();
    const managed = await em.findOneOrFail(Member, 2);
    const persisted = Object.assign(member('x'), { id: 1 });
    em.persist(persisted);
    expect(identityMapEntry(em, persisted)).toBe(persisted);
    const unscheduled = Object.assign(member('y'), { id: 2 });
    const result = await bulkInsert(em, Member, [persisted, unscheduled], withForcedStrategy({ onConflict: 'ignore' }));
    expect(result.skipped.map((s) => s.index)).toEqual([0, 1]);
    expect(unitOfWorkState(em, [persisted, unscheduled])).toEqual([
      { managed: false, inIdentityMap: false, scheduled: false, snapshot: undefined },
      { managed: false, inIdentityMap: false, scheduled: false, snapshot: undefined },
    ]);
    expect(em.getUnitOfWork().getById(Member, 2)).toBe(managed);
    subject.sql.length = 0;
    await em.flush();
    expect(subject.sql).toEqual([]);
  });

  it.each([
    [
      'bulkInsert',
      'invalid',
      (em: EntityManager, rows: Member[]) => bulkInsert(em, Member, rows, withForcedStrategy({ onInvalid: 'skip' })),
    ],
    [
      'bulkSave',
      'invalid',
      (em: EntityManager, rows: Member[]) => bulkSave(em, Member, rows, withForcedStrategy({ onInvalid: 'skip' })),
    ],
    [
      'bulkUpsert',
      'condition',
      (em: EntityManager, rows: Member[]) =>
        bulkUpsert(em, Member, rows, withForcedStrategy({ target: ['name'], where: 'excluded.score > t.score' })),
    ],
  ] as const)('%s, a row skipped as %s: not scheduled afterwards, a later flush sends nothing', async (_, reason, run) => {
    await seed(subject, 'kept');
    const em = subject.orm.em.fork();
    const skipped = reason === 'invalid' ? { name: 'far too long a name for it', score: 1 } : { name: 'kept', score: 0 };
    const rows = [em.create(Member, skipped), em.create(Member, { name: 'ok', score: 2 })];
    const result = await run(em, rows);
    expect(result.skipped).toEqual([expect.objectContaining({ index: 0, reason })]);
    for (const { entity } of result.skipped)
      expect(unitOfWorkState(em, [entity])[0]).toMatchObject({ managed: false, scheduled: false });
    subject.sql.length = 0;
    await em.flush();
    expect(subject.sql).toEqual([]);
  });

  it('managed: false: the inserted entities are not left scheduled either', async () => {
    const em = subject.orm.em.fork();
    const rows = [em.create(Member, { name: 'a', score: 1 }), em.create(Member, { name: 'b', score: 2 })];
    await bulkInsert(em, Member, rows, withForcedStrategy({ managed: false }));
    expect(unitOfWorkState(em, rows)).toEqual([
      { managed: false, inIdentityMap: false, scheduled: false, snapshot: undefined },
      { managed: false, inIdentityMap: false, scheduled: false, snapshot: undefined },
    ]);
    subject.sql.length = 0;
    await em.flush();
    expect(subject.sql).toEqual([]);
    expect((await subject.rows('member')).map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('a call that fails leaves the skipped entities scheduled, as they were before it', async () => {
    const em = subject.orm.em.fork();
    const rows = [
      em.create(Member, { name: 'far too long a name for it', score: 1 }),
      em.create(Member, { name: 'boom', score: 2 }),
    ];
    const error = await bulkInsert(em, Member, rows, withForcedStrategy({ onInvalid: 'skip', batchSize: 1 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkHookError);
    expect(unitOfWorkState(em, rows).map((s) => s.scheduled)).toEqual([true, true]);
    expect(await subject.rows('member')).toEqual([]);
  });
});
