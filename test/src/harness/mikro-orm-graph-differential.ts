import { Collection, Reference, Utils } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { expect } from 'vitest';
import { type OwnSide, unitOfWorkState } from './own-mikro-orm-pair.js';

/** One side's run of a graph: its EntityManager and every entity to compare. */
export interface GraphRun {
  readonly em: EntityManager;
  readonly entities: object[];
}

/** The input rows of a graph and every entity of it to compare, built on one side. */
export interface Graph {
  readonly rows: object[];
  readonly entities: object[];
}

/**
 * An entity as data: own values; to-ones (plain or `Reference`-wrapped) by class and key;
 * initialized collections by their items' keys; embeddables (inline, object, arrays, nested) as
 * their own data, relations inside them by key too.
 */
export function graphStateOf(entity: object): Record<string, unknown> {
  return { class: entity.constructor.name, ...(dataOf(entity, true) as Record<string, unknown>) };
}

function keyOf(entity: object): string {
  const e = entity as { id?: unknown; __helper?: { getSerializedPrimaryKey(): string; hasPrimaryKey(): boolean } };
  const helper = e.__helper;
  const key = helper?.hasPrimaryKey() ? helper.getSerializedPrimaryKey() : (e.id ?? 'new');
  return `${entity.constructor.name}#${String(key)}`;
}

function dataOf(value: unknown, top = false): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? `${value}n` : value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => dataOf(item));
  if (value instanceof Collection) {
    return value.isInitialized() ? value.getItems(false).map((item) => keyOf(item as object)) : 'uninit';
  }
  if (Reference.isReference(value)) return `Ref<${keyOf(Reference.unwrapReference(value as object))}>`;
  if (!top && Utils.isEntity(value)) return keyOf(value);
  const out: Record<string, unknown> = {};
  if (!top && Object.getPrototypeOf(value) !== Object.prototype) out.class = value.constructor.name;
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function') continue;
    out[key] = dataOf(item);
  }
  return out;
}

/** What the side's next flush on `em` sends (schema name masked, transaction statements left out). */
export async function nextFlushOf(side: OwnSide, em: EntityManager): Promise<string[]> {
  const from = side.sql.length;
  await em.flush();
  return (
    side.sql
      .slice(from)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the logger's colours
      .map((s) => s.replace(/\x1B\[[0-9;]*m/g, '').replaceAll(side.schema, 'S'))
      .filter((s) => !/^(begin|commit|rollback)/i.test(s))
  );
}

/** Every row of every table of the side. */
export async function tablesOf(side: OwnSide, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {};
  for (const table of tables) all[table] = await side.rows(table);
  return all;
}

/**
 * Builds the graph on both sides, runs persist + flush on the reference and `call` on the subject,
 * and compares the rows of every table, the objects, the unit of work, the entity events (in
 * order, or `sorted`), what a next flush sends and the rows after it.
 */
export async function graphDifferential(
  sides: { readonly reference: OwnSide; readonly subject: OwnSide; readonly tables: readonly string[] },
  build: (side: OwnSide, em: EntityManager) => Promise<Graph> | Graph,
  call: (em: EntityManager, rows: object[]) => Promise<unknown>,
  opts: { events?: 'exact' | 'sorted' } = {},
): Promise<{ ref: GraphRun; sub: GraphRun; result: unknown }> {
  const { reference, subject, tables } = sides;
  const refEm = reference.orm.em.fork() as EntityManager;
  const refGraph = await build(reference, refEm);
  reference.events.length = 0;
  refEm.persist(refGraph.rows);
  await refEm.flush();
  const subEm = subject.orm.em.fork() as EntityManager;
  const subGraph = await build(subject, subEm);
  subject.events.length = 0;
  const result = await call(subEm, subGraph.rows);
  expect(await tablesOf(subject, tables), 'rows').toEqual(await tablesOf(reference, tables));
  expect(subGraph.entities.map(graphStateOf), 'objects').toEqual(refGraph.entities.map(graphStateOf));
  expect(unitOfWorkState(subEm, subGraph.entities), 'unit of work').toEqual(unitOfWorkState(refEm, refGraph.entities));
  const events = (e: string[]) => (opts.events === 'sorted' ? [...e].sort() : e);
  expect(events(subject.events), 'events').toEqual(events(reference.events));
  expect(await nextFlushOf(subject, subEm), 'next flush').toEqual(await nextFlushOf(reference, refEm));
  expect(await tablesOf(subject, tables), 'rows after the next flush').toEqual(await tablesOf(reference, tables));
  return { ref: { em: refEm, entities: refGraph.entities }, sub: { em: subEm, entities: subGraph.entities }, result };
}
