// Values whose MikroORM mapping is special, cohort against em.persist() + em.flush() on equal
// input: a `number[]` property (a text[] column), a Date version (set to current_timestamp(3) and
// checked), and a raw SQL fragment as a value (refused: flush evaluates it per row).

import {
  BulkValidationError,
  bulkInsert,
  bulkSave,
  bulkUpdate,
  bulkUpsert,
  OptimisticLockError,
  UnsupportedFeatureError,
} from '@cohort/mikro-orm';
import { helper, OptimisticLockError as MikroOrmOptimisticLockError, raw } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { normalizeRecord } from '../harness/normalize.js';
import {
  masked,
  type OwnMikroOrmPair,
  type OwnSide,
  ownMikroOrmPair,
  unitOfWorkState,
  withForcedStrategy,
} from '../harness/own-mikro-orm-pair.js';

@Entity({ tableName: 'gauge' })
class Gauge {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) name!: string;
  @Property({ type: 'integer' }) level!: number;
  @Property({ type: 'number[]', nullable: true }) samples?: number[] | null;
}

@Entity({ tableName: 'stamped' })
class Stamped {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) name!: string;
  @Property({ type: 'integer' }) level!: number;
  @Property({ version: true }) version!: Date;
}

let pair: OwnMikroOrmPair;
let reference: OwnSide;
let subject: OwnSide;

beforeAll(async () => {
  pair = await ownMikroOrmPair('mvals', { entities: [Gauge, Stamped] }, (e) => (e as { name: string }).name);
  ({ reference, subject } = pair);
});
beforeEach(() => pair.reset(['gauge', 'stamped']));
afterAll(() => pair?.close());

const gauge = (name: string, level: number, samples?: number[] | null) =>
  Object.assign(new Gauge(), { name, level }, samples === undefined ? {} : { samples });
const stamped = (name: string, level: number) => Object.assign(new Stamped(), { name, level });

/** The rows of both sides (`mask`: compared by type only). */
async function expectSameRows(table: string, mask: readonly string[] = []) {
  const [refRows, subRows] = await Promise.all([reference.rows(table), subject.rows(table)]);
  expect(
    subRows.map((r) => masked(r, mask)),
    'rows',
  ).toEqual(refRows.map((r) => masked(r, mask)));
}

/** Both sides' rows, objects and unit-of-work state must be equal (`mask`: compared by type only). */
async function expectSame(
  table: string,
  [refEm, refs]: [EntityManager, object[]],
  [subEm, subs]: [EntityManager, object[]],
  mask: readonly string[] = [],
) {
  await expectSameRows(table, mask);
  expect(
    subs.map((e) => masked(normalizeRecord(e), mask)),
    'objects',
  ).toEqual(refs.map((e) => masked(normalizeRecord(e), mask)));
  expect(unitOfWorkState(subEm, subs, mask), 'unit of work').toEqual(unitOfWorkState(refEm, refs, mask));
}

/** The version stored for the row, in epoch milliseconds. */
async function storedVersion(side: OwnSide, id: number): Promise<number> {
  const rows = await side.execute(
    `select round(extract(epoch from version) * 1000)::int8 as ms from "${side.schema}"."stamped" where id = ${id}`,
  );
  return Number(rows[0]?.ms);
}

describe("type: 'number[]' (a text[] column)", () => {
  const samples = () => [
    gauge('g1', 1, [1, 2.5, -0, 1e21, -7, Number.NaN]),
    gauge('g2', 2, []),
    gauge('g3', 3, null),
    gauge('g4', 4),
  ];

  it('bulkInsert stores the text flush stores; objects, snapshots and reloaded values are the same', async () => {
    const refEm = reference.orm.em.fork();
    const refs = samples();
    await refEm.persist(refs).flush();
    const subEm = subject.orm.em.fork();
    const subs = samples();
    await bulkInsert(subEm, Gauge, subs, withForcedStrategy());
    expect((await subject.rows('gauge'))[0]?.samples).toEqual(['1', '2.5', '0', '1e+21', '-7', 'NaN']);
    await expectSame('gauge', [refEm, refs], [subEm, subs]);
    expect(subject.events).toEqual(reference.events);
    // Read back through MikroORM's ArrayType (`+element`) in a fresh context: the same numbers.
    const reload = async (side: OwnSide) =>
      (await side.orm.em.fork().find(Gauge, {}, { orderBy: { id: 'asc' } })).map((g) => normalizeRecord(g));
    expect(await reload(subject)).toEqual(await reload(reference));
    expect((await reload(subject))[0]?.samples).toEqual([1, 2.5, 0, 1e21, -7, Number.NaN]);
  });

  it.each(['bulkUpdate', 'bulkSave'] as const)('%s writes a changed number[] as flush does', async (call) => {
    const refEm = reference.orm.em.fork();
    const subEm = subject.orm.em.fork();
    const refs = samples();
    const subs = samples();
    await refEm.persist(refs).flush();
    await bulkInsert(subEm, Gauge, subs, withForcedStrategy());
    reference.events.length = 0;
    subject.events.length = 0;
    for (const list of [refs, subs]) {
      (list[0] as Gauge).samples = [3, 4.25];
      (list[2] as Gauge).samples = [0.5];
    }
    await refEm.flush();
    const run = call === 'bulkUpdate' ? bulkUpdate : bulkSave;
    const result = await run(subEm, Gauge, subs, withForcedStrategy());
    expect(result).toMatchObject({ updated: 2, unchanged: 2 });
    await expectSame('gauge', [refEm, refs], [subEm, subs]);
    expect(subject.events).toEqual(reference.events);
  });

  it('bulkUpsert writes number[] elements as em.upsert() does', async () => {
    const refs = samples();
    const subs = samples();
    await reference.orm.em.fork().upsertMany(Gauge, refs);
    await bulkUpsert(subject.orm.em.fork(), Gauge, subs, withForcedStrategy({ target: ['name'] }));
    expect(await subject.rows('gauge')).toEqual(await reference.rows('gauge'));
  });

  it('an element that is neither a number nor text is still refused, naming the row', async () => {
    const row = gauge('bad', 1, [1, true as never]);
    const error = await bulkInsert(subject.orm.em.fork(), Gauge, [gauge('ok', 1, [1]), row]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    expect((error as BulkValidationError).failures).toEqual([expect.objectContaining({ index: 1, property: 'samples' })]);
    expect(await subject.rows('gauge')).toEqual([]);
  });
});

describe('a Date version property', () => {
  /** Inserts equal rows on both sides (flush / bulkInsert) and returns the managed objects. */
  async function inserted() {
    const refEm = reference.orm.em.fork();
    const subEm = subject.orm.em.fork();
    const refs = [stamped('s1', 1), stamped('s2', 2)];
    const subs = [stamped('s1', 1), stamped('s2', 2)];
    await refEm.persist(refs).flush();
    await bulkInsert(subEm, Stamped, subs, withForcedStrategy());
    reference.events.length = 0;
    subject.events.length = 0;
    reference.sql.length = 0;
    subject.sql.length = 0;
    return { refEm, subEm, refs, subs };
  }

  /** The version each object holds is the one stored for its row. */
  async function expectVersionsStored(side: OwnSide, entities: Stamped[]) {
    for (const entity of entities) expect(entity.version.getTime()).toBe(await storedVersion(side, entity.id));
  }

  it('bulkInsert takes the column default (current_timestamp(3)) back onto the objects, as flush', async () => {
    const { refEm, subEm, refs, subs } = await inserted();
    await expectSame('stamped', [refEm, refs], [subEm, subs], ['version']);
    for (const entity of subs) expect(entity.version).toBeInstanceOf(Date);
    await expectVersionsStored(reference, refs);
    await expectVersionsStored(subject, subs);
  });

  it.each(['bulkUpdate', 'bulkSave'] as const)(
    '%s sets the version to current_timestamp(3) and checks it, as flush; a later flush checks the new one',
    async (call) => {
      const { refEm, subEm, refs, subs } = await inserted();
      const before = subs.map((s) => s.version.getTime());
      for (const list of [refs, subs]) (list[1] as Stamped).level = 20;
      await refEm.flush();
      const run = call === 'bulkUpdate' ? bulkUpdate : bulkSave;
      expect(await run(subEm, Stamped, subs, withForcedStrategy())).toMatchObject({ updated: 1, unchanged: 1 });
      // Flush's UPDATE and cohort's set the same SQL value and check the version the object held.
      expect(reference.sql.join('\n')).toMatch(/"version" = current_timestamp\(3\) where .*"version" = /);
      expect(subject.sql.join('\n')).toMatch(/"version" = CURRENT_TIMESTAMP\(3\) FROM u WHERE .*t\."version" = u\."ver"/);
      await expectSame('stamped', [refEm, refs], [subEm, subs], ['version']);
      expect(subject.events).toEqual(reference.events);
      await expectVersionsStored(reference, refs);
      await expectVersionsStored(subject, subs);
      expect((subs[1] as Stamped).version.getTime()).toBeGreaterThanOrEqual(before[1] as number);
      expect((subs[0] as Stamped).version.getTime()).toBe(before[0]);
      // The object's version is exactly the stored one: flush's own check of it passes.
      for (const list of [refs, subs]) (list[1] as Stamped).level = 21;
      await refEm.flush();
      await subEm.flush();
      await expectSame('stamped', [refEm, refs], [subEm, subs], ['version']);
      await expectVersionsStored(subject, subs);
    },
  );

  it('a stale version fails bulkUpdate (OptimisticLockError) as it fails flush, and writes nothing', async () => {
    const { refEm, subEm, refs, subs } = await inserted();
    for (const side of [reference, subject]) {
      await side.execute(`update "${side.schema}"."stamped" set version = version + interval '1 second' where name = 's2'`);
    }
    for (const list of [refs, subs]) (list[1] as Stamped).level = 20;
    await expect(refEm.flush()).rejects.toBeInstanceOf(MikroOrmOptimisticLockError);
    const error = await bulkUpdate(subEm, Stamped, subs, withForcedStrategy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptimisticLockError);
    expect((error as OptimisticLockError).indices).toEqual([1]);
    await expectSameRows('stamped', ['version']);
    expect((await subject.rows('stamped')).map((r) => r.level)).toEqual([1, 2]);
    expect((subs[1] as Stamped).version.getTime()).toBe((await storedVersion(subject, 2)) - 1000);
  });

  it('bulkUpsert works too; an updated row moves its version on (em.upsert() leaves it: docs/differences.md)', async () => {
    await inserted();
    const refEm = reference.orm.em.fork();
    const subEm = subject.orm.em.fork();
    const [refBefore, subBefore] = [await storedVersion(reference, 1), await storedVersion(subject, 1)];
    const ref = await refEm.upsert(stamped('s1', 10));
    const sub = stamped('s1', 10);
    const result = await bulkUpsert(subEm, Stamped, [sub, stamped('s3', 3)], withForcedStrategy({ target: ['name'] }));
    expect(result.outcomes).toEqual(['updated', 'inserted']);
    expect(await storedVersion(reference, 1)).toBe(refBefore);
    expect(ref.version.getTime()).toBe(refBefore);
    expect(await storedVersion(subject, 1)).toBeGreaterThanOrEqual(subBefore);
    expect(subject.sql.join('\n')).toMatch(/DO UPDATE SET .*"version" = CURRENT_TIMESTAMP\(3\)/);
    await expectVersionsStored(subject, [sub]);
    // A later change is flushed against the version the upsert stored.
    sub.level = 11;
    await subEm.flush();
    expect((await subject.rows('stamped')).map((r) => r.level)).toEqual([11, 2, 3]);
  });
});

describe('a raw SQL fragment as a value', () => {
  const rawLevel = () => raw('level + 1') as unknown as number;

  it('flush evaluates it in the UPDATE and reads the value back onto the entity', async () => {
    const em = reference.orm.em.fork();
    const gauges = [gauge('r1', 1), gauge('r2', 2)];
    await em.persist(gauges).flush();
    (gauges[1] as Gauge).level = rawLevel();
    await em.flush();
    expect((await reference.rows('gauge')).map((r) => r.level)).toEqual([1, 3]);
    expect((gauges[1] as Gauge).level).toBe(3);
  });

  it('bulkUpdate and bulkSave refuse it naming the class, the property and the row; nothing is written', async () => {
    const em = subject.orm.em.fork();
    const gauges = [gauge('r1', 1), gauge('r2', 2), gauge('r3', 3)];
    await bulkInsert(em, Gauge, gauges, withForcedStrategy());
    const snapshot = { ...helper(gauges[2] as Gauge).__originalEntityData };
    (gauges[0] as Gauge).level = 10;
    (gauges[2] as Gauge).level = rawLevel();
    for (const run of [bulkUpdate, bulkSave]) {
      subject.events.length = 0;
      const error = await run(em, Gauge, gauges, withForcedStrategy()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'raw SQL value', entityName: 'Gauge', property: 'level', index: 2 });
      expect((error as Error).message).toMatch(/Gauge\.level of row 2 is a raw SQL fragment \(level \+ 1\)/);
      expect(await subject.rows('gauge')).toEqual([
        { id: 1, level: 1, name: 'r1', samples: null },
        { id: 2, level: 2, name: 'r2', samples: null },
        { id: 3, level: 3, name: 'r3', samples: null },
      ]);
      expect(subject.events.filter((e) => e.startsWith('after'))).toEqual([]);
      // Still pending for the ORM's own path: the snapshot was not refreshed.
      expect(helper(gauges[2] as Gauge).__originalEntityData).toEqual(snapshot);
    }
    await em.flush();
    expect((await subject.rows('gauge')).map((r) => r.level)).toEqual([10, 2, 4]);
  });

  it('bulkInsert and bulkUpsert refuse it too', async () => {
    for (const run of [
      (rows: Gauge[]) => bulkInsert(subject.orm.em.fork(), Gauge, rows, withForcedStrategy()),
      (rows: Gauge[]) => bulkUpsert(subject.orm.em.fork(), Gauge, rows, withForcedStrategy({ target: ['name'] })),
    ]) {
      const rows = [gauge('i1', 1), Object.assign(gauge('i2', 0), { level: raw('41 + 1') as unknown as number })];
      const error = await run(rows).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ entityName: 'Gauge', property: 'level', index: 1, entity: rows[1] });
      expect(await subject.rows('gauge')).toEqual([]);
    }
  });
});
