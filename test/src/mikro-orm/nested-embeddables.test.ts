// Embeddables inside embeddables, cohort against em.persist() + em.flush() on equal input: array
// properties (`string[]`, `number[]`: MikroORM's ArrayType, text[] columns) of an inline embeddable
// nested two levels deep (`outer.inner.tags`, column `outer_inner_tags`) — the column reader takes
// such a value from the entity itself, not from flush's payload — and an `array: true` embeddable
// inside an inline one (`outer.notes`, a JSON column). Rows, objects, unit-of-work state and events
// after an insert, an update and a save; and, for a row flush cannot convert, the validation error
// naming what is wrong (the reader then reads every value from the entity: nested ones included).
import { BulkValidationError, bulkInsert, bulkSave, bulkUpdate } from '@cohort/mikro-orm';
import { Embeddable, Embedded, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { normalizeRecord } from '../harness/normalize.js';
import { type OwnMikroOrmPair, type OwnSide, ownMikroOrmPair, unitOfWorkState } from '../harness/own-mikro-orm-pair.js';

@Embeddable()
class NeInner {
  @Property({ type: 'string', length: 20 }) label!: string;
  @Property({ type: 'string[]', nullable: true }) tags?: string[] | null;
  @Property({ type: 'number[]', nullable: true }) samples?: number[] | null;
}

@Embeddable()
class NeNote {
  @Property({ type: 'string' }) text!: string;
  @Property({ type: 'integer', nullable: true }) rank?: number | null;
}

@Embeddable()
class NeOuter {
  @Property({ type: 'string', length: 20 }) title!: string;
  @Property({ type: 'string[]', nullable: true }) keywords?: string[] | null;
  @Embedded(() => NeInner) inner!: NeInner;
  @Embedded(() => NeNote, { array: true }) notes: NeNote[] = [];
}

@Entity({ tableName: 'ne_shelf' })
class NeShelf {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) name!: string;
  @Embedded(() => NeOuter) outer!: NeOuter;
  @Property({ type: 'json', nullable: true }) extra?: unknown;
}

let pair: OwnMikroOrmPair;
let reference: OwnSide;
let subject: OwnSide;

beforeAll(async () => {
  pair = await ownMikroOrmPair('mnest', { entities: [NeShelf] }, (e) => (e as { name?: string }).name ?? '?');
  ({ reference, subject } = pair);
});
beforeEach(() => pair.reset(['ne_shelf']));
afterAll(() => pair?.close());

const inner = (label: string, tags?: string[] | null, samples?: number[] | null) =>
  Object.assign(new NeInner(), { label, tags, samples });
const note = (text: string, rank?: number | null) => Object.assign(new NeNote(), { text, rank });
const shelf = (name: string, data: Partial<NeOuter>) =>
  Object.assign(new NeShelf(), { name, outer: Object.assign(new NeOuter(), { title: `${name} title`, ...data }) });

const samples = () => [
  shelf('s1', { keywords: ['a', 'b'], inner: inner('i1', ['x', 'y'], [1, 2.5]), notes: [note('n1', 1), note('n2')] }),
  shelf('s2', { keywords: [], inner: inner('i2', [], null), notes: [] }),
  shelf('s3', { keywords: null, inner: inner('i3', null, [0]), notes: [note('n3', 3)] }),
];

async function expectSame([refEm, refs]: [EntityManager, NeShelf[]], [subEm, subs]: [EntityManager, NeShelf[]]) {
  const [refRows, subRows] = await Promise.all([reference.rows('ne_shelf'), subject.rows('ne_shelf')]);
  expect(subRows, 'rows').toEqual(refRows);
  expect(
    subs.map((e) => normalizeRecord(e)),
    'objects',
  ).toEqual(refs.map((e) => normalizeRecord(e)));
  expect(unitOfWorkState(subEm, subs, []), 'unit of work').toEqual(unitOfWorkState(refEm, refs, []));
  expect(subject.events, 'events').toEqual(reference.events);
  // Read back in a fresh context: the same values on both sides.
  const reload = async (side: OwnSide) =>
    (await side.orm.em.fork().find(NeShelf, {}, { orderBy: { id: 'asc' } })).map((s) => normalizeRecord(s));
  expect(await reload(subject), 'reloaded').toEqual(await reload(reference));
}

describe('embeddables inside embeddables, against persist() + flush()', () => {
  it('bulkInsert: nested array columns and an array embeddable inside an inline one are stored as flush stores them', async () => {
    const refEm = reference.orm.em.fork();
    const refs = samples();
    await refEm.persist(refs).flush();
    const subEm = subject.orm.em.fork();
    const subs = samples();
    await bulkInsert(subEm, NeShelf, subs);
    const [first] = await subject.rows('ne_shelf');
    expect(first?.outer_inner_tags).toEqual(['x', 'y']);
    expect(first?.outer_inner_samples).toEqual(['1', '2.5']);
    expect(first?.outer_keywords).toEqual(['a', 'b']);
    await expectSame([refEm, refs], [subEm, subs]);
  });

  it.each(['bulkUpdate', 'bulkSave'] as const)(
    '%s writes changed nested array columns and a changed nested array embeddable as flush does',
    async (call) => {
      const refEm = reference.orm.em.fork();
      const subEm = subject.orm.em.fork();
      const refs = samples();
      const subs = samples();
      await refEm.persist(refs).flush();
      await bulkInsert(subEm, NeShelf, subs);
      reference.events.length = 0;
      subject.events.length = 0;
      for (const list of [refs, subs]) {
        const [s1, s2, s3] = list as [NeShelf, NeShelf, NeShelf];
        s1.outer.inner.tags = ['z'];
        s1.outer.inner.samples = [3, 4.25];
        s2.outer.inner.tags = null;
        s2.outer.notes.push(note('n4', 4));
        s3.outer.keywords = ['k'];
      }
      await refEm.flush();
      const result = await (call === 'bulkUpdate' ? bulkUpdate : bulkSave)(subEm, NeShelf, subs);
      expect(result).toMatchObject({ updated: 3 });
      const rows = await subject.rows('ne_shelf');
      expect(rows.map((r) => r.outer_inner_tags)).toEqual([['z'], null, null]);
      await expectSame([refEm, refs], [subEm, subs]);
    },
  );

  it('a row flush cannot convert (a circular JSON value): the error names that row and property only, not its nested values (read from the entity); nothing written', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const refs = samples();
    (refs[1] as NeShelf).extra = circular;
    const flushError = await reference.orm.em
      .fork()
      .persist(refs)
      .flush()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(flushError).toBeInstanceOf(Error);
    const subs = samples();
    (subs[1] as NeShelf).extra = circular;
    const error = await bulkInsert(subject.orm.em.fork(), NeShelf, subs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkValidationError);
    const failures = (error as BulkValidationError<NeShelf>).failures;
    // Before nested values were read at any depth, the row's `outer.inner.label` read as missing
    // ('required') though it is set.
    expect(failures.map((f) => [f.index, f.property, f.constraint])).toEqual([[1, 'extra', 'type']]);
    expect(await subject.rows('ne_shelf')).toEqual([]);
  });

  it('invalid values of a nested embeddable are named by the path a user writes (`outer.inner.label`), as one level down (`outer.title`); an update names them the same', async () => {
    const long = 'x'.repeat(21);
    const subs = samples();
    (subs[0] as NeShelf).outer.inner.label = long;
    (subs[2] as NeShelf).outer.title = long;
    const error = await bulkInsert(subject.orm.em.fork(), NeShelf, subs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    const failures = (error as BulkValidationError<NeShelf>).failures;
    expect(failures.map((f) => [f.index, f.property, f.constraint, f.value])).toEqual([
      [0, 'outer.inner.label', 'maxLength', long],
      [2, 'outer.title', 'maxLength', long],
    ]);
    expect((error as Error).message).toContain('row 0, outer.inner.label:');
    expect(await subject.rows('ne_shelf')).toEqual([]);

    const em = subject.orm.em.fork();
    const stored = samples();
    await bulkInsert(em, NeShelf, stored);
    (stored[1] as NeShelf).outer.inner.label = long;
    const updateError = await bulkUpdate(em, NeShelf, stored).catch((e: unknown) => e);
    expect(updateError).toBeInstanceOf(BulkValidationError);
    expect((updateError as BulkValidationError<NeShelf>).failures.map((f) => [f.index, f.property])).toEqual([
      [1, 'outer.inner.label'],
    ]);
  });
});
