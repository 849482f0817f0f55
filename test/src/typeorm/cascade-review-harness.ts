// The harness of the TypeORM cascade-insert review (cascade-review.test.ts, cascade-review-mappings.test.ts):
// save() and the cohort call on equal inputs in two schemas, compared as the review's header says.
import { bulkInsert, bulkSave, UnsupportedFeatureError } from '@cohort/typeorm';
import type { DataSource, Logger } from 'typeorm';
import { expect } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { journal, normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';
import {
  REVIEW_ENTITIES,
  REVIEW_TABLES,
  TrAuthor,
  TrBook,
  TrComment,
  TrCover,
  TrPhoto,
  TrPost,
  TrPublisher,
} from './cascade-review-entities.js';

/** Statements the sides send while `capturing` (the following save()). */
export const captured = { on: false, sql: [] as string[] };
export const logger: Logger = {
  logQuery(query, parameters) {
    if (captured.on && /^\s*(insert|update|delete)\b/i.test(query)) captured.sql.push(`${query} ${JSON.stringify(parameters)}`);
  },
  logQueryError: () => {},
  logQuerySlow: () => {},
  logSchemaBuild: () => {},
  logMigration: () => {},
  log: () => {},
};
export const pair = typeormPair('tyrev', { entities: REVIEW_ENTITIES, logger, maxQueryExecutionTime: 0 });

export const strategy = forcedStrategy;
export const opts = <O extends object>(options?: O): O => ({ ...(strategy && { strategy }), ...options }) as O;
export const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
export const publisher = (name: string) => make(TrPublisher, { name, contact: { email: `${name}@x` } });

export const ORDER: Record<string, string> = { tr_cover: 'image', tr_author_tags: '1, 2' };
export const TABLES = REVIEW_TABLES.map((table) => (ORDER[table] ? { table, orderBy: ORDER[table] } : table));
export const MASK = ['created', 'coverId', 'cover_id'];
export type Call = 'bulkInsert' | 'bulkSave';

/** Every object reachable from the roots through own properties, each once, in the order met. */
export function graphOf(roots: readonly object[]): object[] {
  const seen: object[] = [];
  const walk = (value: unknown) => {
    if (value === null || typeof value !== 'object' || value instanceof Date) return;
    if (Array.isArray(value)) return value.forEach(walk);
    if (seen.includes(value)) return;
    if (Object.getPrototypeOf(value) !== Object.prototype) seen.push(value);
    for (const item of Object.values(value)) walk(item);
  };
  roots.forEach(walk);
  return seen;
}

/** Every table's rows, as the sides compare them. */
export async function tablesOf(side: TypeormSide): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {};
  for (const table of REVIEW_TABLES) all[table] = await rowsOf(side, table, ORDER[table] ?? '1');
  return all;
}

/** The writes of a following save() of the roots, schema names left out. */
export async function followingSave(side: TypeormSide, roots: object[]): Promise<string[]> {
  captured.sql = [];
  captured.on = true;
  try {
    await side.dataSource.manager.save(roots);
  } finally {
    captured.on = false;
  }
  return captured.sql.map((sql) => sql.replaceAll(`"${side.schema}".`, ''));
}

/** The call of the side: save() of all the roots (the reference), or the cohort call. */
export async function write(side: TypeormSide, roots: object[], call: Call, given: { target?: Function } = {}): Promise<void> {
  // The class the cohort call names: `target`, or the first root's.
  const { target, ...options } = given;
  const cls = (target ?? roots[0]?.constructor) as typeof TrPost;
  if (side.mode === 'orm') await side.dataSource.manager.save(roots);
  else if (call === 'bulkInsert') await bulkInsert(side.dataSource, cls, roots as TrPost[], opts(options));
  else await bulkSave(side.dataSource, cls, roots as TrPost[], opts(options));
}

/**
 * Compares save() and the cohort call on the roots `build` makes (on each side): every table right
 * after the call, every object of the graph, the set of beforeInsert hooks, a following save()'s
 * writes, and the tables after it.
 */
export async function expectSameAsSave(build: (ds: DataSource) => Promise<object[]>, call: Call, options: object = {}) {
  await pair.compare(
    async (side) => {
      const roots = await build(side.dataSource);
      journal.take();
      await write(side, roots, call, options);
      const hooks = journal
        .take()
        .map((h) => JSON.stringify(h))
        .sort();
      const objects = graphOf(roots);
      const afterCall = { rows: await tablesOf(side), objects: objects.map((o) => normalizeState(o)) };
      const following = await followingSave(side, roots);
      return { objects, value: { afterCall, hooks, following } };
    },
    { tables: TABLES, mask: MASK, ignoreJournal: true },
  );
}

/** The error a call fails with (undefined when it succeeds). */
export const failure = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (e: unknown) => e,
  );

/** Stored rows made with save() (on each side), then loaded back as the caller would load them. */
export async function storedAuthor(ds: DataSource, name: string, relations: object = {}): Promise<TrAuthor> {
  await ds.manager.save(make(TrAuthor, { name }));
  return ds.getRepository(TrAuthor).findOneOrFail({ where: { name }, relations });
}

/**
 * save() writes the graph `build` makes (the reference side shows it); the cohort call refuses it with
 * `UnsupportedFeatureError` (`refusal`) and leaves every table as it was.
 */
export async function expectRefused(
  build: (ds: DataSource) => Promise<object[]>,
  call: Call,
  refusal: { feature: string; entityName: string; property: string; index: number; relation?: object },
  saveWrites: (rows: Record<string, unknown[]>) => void,
) {
  const ref = pair.reference();
  await write(ref, await build(ref.dataSource), call);
  saveWrites(await tablesOf(ref));
  const side = pair.subject();
  const roots = await build(side.dataSource);
  const before = await tablesOf(side);
  const error = await failure(write(side, roots, call));
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject(refusal);
  expect(await tablesOf(side)).toEqual(before);
}

/**
 * p0: author ann (new, her new publisher "pub" and new book), coauthor bob (new, same publisher), a
 * new uuid cover, a new photo (child class), comment k0 by bob (reached twice); p1: author and
 * coauthor ann (the same new entity through two relations), comment k1 by new cy; p2: nothing.
 */
export function newGraph(): TrPost[] {
  const pub = publisher('pub');
  const ann = make(TrAuthor, { name: 'ann', publisher: pub });
  ann.books = [make(TrBook, { title: 'b1', author: ann })];
  const bob = make(TrAuthor, { name: 'bob', publisher: pub });
  const p0 = make(TrPost, {
    title: 'p0',
    author: ann,
    coauthor: bob,
    cover: make(TrCover, { image: 'c0' }),
    media: make(TrPhoto, { url: 'u0' }),
  });
  p0.comments = [make(TrComment, { body: 'k0', post: p0, by: bob })];
  const p1 = make(TrPost, { title: 'p1', author: ann, coauthor: ann });
  p1.comments = [make(TrComment, { body: 'k1', post: p1, by: make(TrAuthor, { name: 'cy' }) })];
  const p2 = make(TrPost, { title: 'p2', author: null });
  return [p0, p1, p2];
}
