// A cohort call that inserts related entities by cascade and then fails (a hook throwing after the
// related rows went in) leaves the objects as they were before the call, as a failed flush leaves
// them: the new targets still on their holders (an inverse one-to-one, a many-to-one, a one-to-many
// collection's items), so that the call retried after the cause is removed — or a flush — writes
// them all. Compared with persist + flush on equal inputs: the objects after the failure, the rows
// after the retry, and that a flush after it sends nothing. Default and COPY (`COHORT_STRATEGY=copy`).
import { BulkHookError, bulkInsert, bulkSave, bulkUpdate } from '@cohort/mikro-orm';
import { Collection } from '@mikro-orm/core';
import { Entity, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';
import { Card, fault, Holder, type Holders, holdersOrm, log, make, managed } from './one-to-one-holders.js';

@Entity({ tableName: 'writer' })
class Writer {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
}

@Entity({ tableName: 'novel' })
class Novel {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => Writer, { nullable: true }) writer?: Writer | null;
  @OneToMany(
    () => Chapter,
    (chapter) => chapter.novel,
  )
  chapters = new Collection<Chapter>(this);
}

@Entity({ tableName: 'chapter' })
class Chapter {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => Novel) novel!: Novel;
}

// The novels' ORM throws at the after-create event of the entity named in `failAt.name`, and logs
// its INSERT and UPDATE statements in `novelLog`.
const failAt: { name?: string } = {};
const novelHooks = {
  afterCreate(e: { entity: { name: string } }) {
    if (e.entity.name === failAt.name) throw new Error(`injected at ${failAt.name}`);
  },
};
const novelLog: string[] = [];
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

let h: Holders;
let novels: OwnMikroOrm;
beforeAll(async () => {
  h = await holdersOrm('fcsh');
  novels = await ownMikroOrm('fcsn', {
    entities: [Writer, Novel, Chapter],
    subscribers: [novelHooks],
    debug: ['query'],
    logger: (message: string) => {
      const found = /\b(insert into|update) "[\w$]+"\."(\w+)"/i.exec(message.replace(COLOURS, ''));
      if (found && !found[2]?.startsWith('cohort_stage')) novelLog.push(`${found[1]?.split(' ')[0]} ${found[2]}`);
    },
  });
});
afterAll(async () => {
  await h?.own.close();
  await novels?.close();
});
beforeEach(async () => {
  fault.at = undefined;
  failAt.name = undefined;
  await h.truncate();
  await truncateNovels();
});
const opts = forcedStrategy ? { strategy: forcedStrategy } : {};

const NOVEL_TABLES = ['writer', 'novel', 'chapter'];
const novelsFork = () => novels.orm.em.fork() as EntityManager;
const novelTable = (name: string) => `"${novels.schema}"."${name}"`;
const truncateNovels = () => novelsFork().execute(`truncate ${NOVEL_TABLES.map(novelTable).join(', ')} restart identity cascade`);
async function novelRows(): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {};
  for (const name of NOVEL_TABLES) all[name] = await novelsFork().execute(`select * from ${novelTable(name)} order by id`);
  return all;
}

/** How the entities are written: the ORM's own persist + flush, or a cohort call. */
type Write = (em: EntityManager, entities: object[]) => Promise<unknown>;
const flush: Write = async (em, entities) => {
  em.persist(entities);
  await em.flush();
};

/** One ORM's side of a scenario: its rows, its statement log, how a failure is injected. */
interface Side {
  rows(): Promise<Record<string, unknown[]>>;
  readonly sent: string[];
  inject(on: boolean): void;
}

/**
 * `write` with the failure injected (it must fail, leaving every table as it was): the objects after
 * the failure. Then, with `again` (the same call, or persist + flush) once the cause is removed: the
 * rows and objects after it and the statements a flush after that sends.
 */
async function failThenRetry<S>(
  side: Side,
  em: EntityManager,
  entities: object[],
  write: Write,
  objects: () => S,
  again?: Write,
) {
  const before = await side.rows();
  side.inject(true);
  const error = await write(em, entities).catch((e: unknown) => e);
  side.inject(false);
  expect(error).toBeInstanceOf(Error);
  if (write !== flush) expect(error).toBeInstanceOf(BulkHookError);
  expect(await side.rows()).toEqual(before);
  const failed = objects();
  if (!again) return { failed };
  await again(em, entities);
  const after = { rows: await side.rows(), objects: objects() };
  side.sent.length = 0;
  await em.flush();
  return { failed, after, following: side.sent.filter((entry) => !/^(before|after)/.test(entry)) };
}

/** What a flush without failure writes and leaves on the objects. */
async function flushed<S>(em: EntityManager, entities: object[], side: Side, objects: () => S) {
  await flush(em, entities);
  return { rows: await side.rows(), objects: objects() };
}

/**
 * Each holder's card: the same object as assigned, its name, whether it refers back, whether
 * managed; and the replaced card's reference, whether managed.
 */
function holderState(em: EntityManager, holders: Holder[], cards: (Card | undefined)[], old?: Card) {
  return [
    ...holders.map((holder, at) => ({
      card: holder.card === cards[at] ? (holder.card?.name ?? null) : `changed: ${String(holder.card?.name)}`,
      back: holder.card ? holder.card.holder === holder : null,
      managed: holder.card ? managed(em, holder.card) : null,
    })),
    ...(old ? [{ card: old.name, back: old.holder?.name ?? null, managed: managed(em, old) }] : []),
  ];
}

/**
 * Stored holders h0..h2 without a card, h1 given a new one (the holders loaded in `em`); `replacing`:
 * h0 with a stored card `old0`, given a new one `new0` too (flush's early step clears old0 first).
 */
async function storedHolders(em: EntityManager, replacing = false) {
  const seedEm = h.fork();
  const seeded = ['h0', 'h1', 'h2'].map((name) => make(Holder, { name }));
  if (replacing) seeded[0]!.card = make(Card, { name: 'old0', holder: seeded[0] });
  seedEm.persist(seeded);
  await seedEm.flush();
  const holders = await em.find(Holder, {}, { populate: ['card'], orderBy: { id: 'asc' } });
  const old = holders[0]?.card ?? undefined;
  const cards = holders.map((holder, at) => {
    if (at === 2 || (at === 0 && !replacing)) return undefined;
    const card = make(Card, { name: `new${at}` });
    holder.card = card;
    card.holder = holder;
    return card;
  });
  return { holders, cards, old };
}

/** New holders n0..n2, each with a new card c0..c2. */
function newHolders() {
  const holders = ['n0', 'n1', 'n2'].map((name) => make(Holder, { name }));
  const cards = holders.map((holder, at) => {
    const card = make(Card, { name: `c${at}`, holder });
    holder.card = card;
    return card;
  });
  return { holders, cards };
}

const retries = [
  ['call', 'the call retried'],
  ['flush', 'persist + flush'],
] as const;
// A failed flush leaves what it inserted managed (its rows gone: a next flush takes it for stored,
// docs/differences.md); the call leaves it unmanaged, new again. Compared: the references.
const references = (state: { managed: unknown }[]) => state.map(({ managed: _, ...rest }) => rest);

const holderSide = (at: string): Side => ({
  rows: () => h.tables(),
  sent: log,
  inject: (on) => {
    fault.at = on ? at : undefined;
  },
});

describe('inverse one-to-one: a failed call leaves the new cards on their holders, as a failed flush does', () => {
  const stored: [string, Write][] = [
    ['bulkSave', (em, rows) => bulkSave(em, Holder, rows as Holder[], opts)],
    ['bulkUpdate', (em, rows) => bulkUpdate(em, Holder, rows as Holder[], opts)],
  ];
  for (const [method, call, replacing] of stored.flatMap(([m, c]) => [[m, c, false] as const, [m, c, true] as const])) {
    for (const [retry, label] of retries) {
      const what = replacing
        ? 'h1 (no card) and h0 (a stored card old0) each given a new card'
        : 'h1 (no card before) given a new card';
      it(`${method} of stored holders, ${what}, afterCreate of new1 throwing; then ${label} writes them`, async () => {
        const side = holderSide('afterCreate Card new1');
        const refEm = h.fork();
        const ref = await storedHolders(refEm, replacing);
        const reference = await failThenRetry(side, refEm, ref.holders, flush, () =>
          holderState(refEm, ref.holders, ref.cards, ref.old),
        );
        await h.truncate();
        const cleanEm = h.fork();
        const clean = await storedHolders(cleanEm, replacing);
        const expected = await flushed(cleanEm, clean.holders, side, () =>
          holderState(cleanEm, clean.holders, clean.cards, clean.old),
        );
        await h.truncate();
        const em = h.fork();
        const mine = await storedHolders(em, replacing);
        const got = await failThenRetry(
          side,
          em,
          mine.holders,
          call,
          () => holderState(em, mine.holders, mine.cards, mine.old),
          retry === 'call' ? call : flush,
        );
        expect(references(got.failed)).toEqual(references(reference.failed));
        expect(got.failed[1]).toEqual({ card: 'new1', back: true, managed: false });
        // The replaced card as before the call: its reference cleared on the object, still managed
        // (its snapshot holds the row's key: a flush writes the clearing UPDATE).
        if (replacing) expect(got.failed[3]).toEqual({ card: 'old0', back: null, managed: true });
        expect(got.after).toEqual(expected);
        expect(got.following).toEqual([]);
      });
    }
  }

  for (const [retry, label] of retries) {
    it(`bulkInsert of new holders with new cards, afterCreate of c1 throwing; then ${label} writes them`, async () => {
      const side = holderSide('afterCreate Card c1');
      const insert: Write = (em, rows) => bulkInsert(em, Holder, rows as Holder[], opts);
      const refEm = h.fork();
      const ref = newHolders();
      const reference = await failThenRetry(side, refEm, ref.holders, flush, () => holderState(refEm, ref.holders, ref.cards));
      await h.truncate();
      const cleanEm = h.fork();
      const clean = newHolders();
      const expected = await flushed(cleanEm, clean.holders, side, () => holderState(cleanEm, clean.holders, clean.cards));
      await h.truncate();
      const em = h.fork();
      const mine = newHolders();
      const got = await failThenRetry(
        side,
        em,
        mine.holders,
        insert,
        () => holderState(em, mine.holders, mine.cards),
        retry === 'call' ? insert : flush,
      );
      expect(references(got.failed)).toEqual(references(reference.failed));
      expect(got.failed.map((state) => state.managed)).toEqual([false, false, false]);
      expect(got.after).toEqual(expected);
      expect(got.following).toEqual([]);
    });
  }
});

/** Each novel's writer and chapters: the same objects as assigned, whether managed. */
function novelState(em: EntityManager, list: Novel[], writers: (Writer | undefined)[], chapters: Chapter[][]) {
  return list.map((novel, at) => ({
    writer: novel.writer === writers[at] ? (novel.writer?.name ?? null) : `changed: ${String(novel.writer?.name)}`,
    chapters: novel.chapters.getItems().map((chapter) => `${chapter.name}${chapter.novel === novel ? '' : ' (not back)'}`),
    same: (chapters[at] ?? []).every((chapter) => novel.chapters.contains(chapter, false)),
    managed: [...(novel.writer ? [novel.writer] : []), ...(chapters[at] ?? [])].map((entity) => managed(em, entity)),
  }));
}

/** Stored novels s0, s1 (no writer, no chapter); s1 given a new writer and two new chapters. */
async function storedNovels(em: EntityManager) {
  const seedEm = novelsFork();
  seedEm.persist(['s0', 's1'].map((name) => make(Novel, { name })));
  await seedEm.flush();
  const list = await em.find(Novel, {}, { populate: ['chapters'], orderBy: { id: 'asc' } });
  const novel = list[1] as Novel;
  const writer = make(Writer, { name: 'w1' });
  novel.writer = writer;
  const chapters = ['k1', 'k2'].map((name) => make(Chapter, { name }));
  novel.chapters.add(chapters);
  return { list, writers: [undefined, writer], chapters: [[], chapters] };
}

/** New novels n0, n1, each with a new writer and a new chapter. */
function newNovels() {
  const list = ['n0', 'n1'].map((name) => make(Novel, { name }));
  const writers = list.map((novel, at) => {
    const writer = make(Writer, { name: `w${at}` });
    novel.writer = writer;
    return writer;
  });
  const chapters = list.map((novel, at) => {
    const chapter = make(Chapter, { name: `k${at}` });
    novel.chapters.add(chapter);
    return [chapter];
  });
  return { list, writers, chapters };
}

describe('many-to-one and one-to-many: a failed call leaves the new writers and chapters on their novels, as a failed flush does', () => {
  const side = (at: string): Side => ({
    rows: novelRows,
    sent: novelLog,
    inject: (on) => {
      failAt.name = on ? at : undefined;
    },
  });
  const calls: [string, Write, boolean][] = [
    ['bulkSave', (em, rows) => bulkSave(em, Novel, rows as Novel[], opts), true],
    ['bulkUpdate', (em, rows) => bulkUpdate(em, Novel, rows as Novel[], opts), true],
    ['bulkInsert', (em, rows) => bulkInsert(em, Novel, rows as Novel[], opts), false],
  ];
  for (const [method, call, storedRows] of calls) {
    for (const [retry, label] of retries) {
      const what = storedRows
        ? 'stored novels, s1 given a new writer and chapters k1, k2, afterCreate of k2 throwing'
        : 'new novels with new writers and chapters k0, k1, afterCreate of k1 throwing';
      it(`${method} of ${what}; then ${label} writes them`, async () => {
        const fails = side(storedRows ? 'k2' : 'k1');
        const refEm = novelsFork();
        const ref = storedRows ? await storedNovels(refEm) : newNovels();
        const reference = await failThenRetry(fails, refEm, ref.list, flush, () =>
          novelState(refEm, ref.list, ref.writers, ref.chapters),
        );
        await truncateNovels();
        const cleanEm = novelsFork();
        const clean = storedRows ? await storedNovels(cleanEm) : newNovels();
        const expected = await flushed(cleanEm, clean.list, fails, () =>
          novelState(cleanEm, clean.list, clean.writers, clean.chapters),
        );
        await truncateNovels();
        const em = novelsFork();
        const mine = storedRows ? await storedNovels(em) : newNovels();
        const got = await failThenRetry(
          fails,
          em,
          mine.list,
          call,
          () => novelState(em, mine.list, mine.writers, mine.chapters),
          retry === 'call' ? call : flush,
        );
        expect(references(got.failed)).toEqual(references(reference.failed));
        expect(got.failed.flatMap((state) => state.managed)).not.toContain(true);
        expect(got.after).toEqual(expected);
        expect(got.following).toEqual([]);
      });
    }
  }
});
