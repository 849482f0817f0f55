import { expect } from 'vitest';
import type { HookLogEntry } from './hook-log.js';
import type { OrmUnderTest } from './orm-under-test.js';

/** What `expectSameOutcome` compares. */
export interface SameOutcomeOptions {
  /** Tables whose rows must be equal; give `{ table, orderBy }` when the first column is not a stable order. */
  tables: ReadonlyArray<string | { table: string; orderBy: string }>;
  /** Entities of the reference run, compared pairwise with `entitiesSub` by `objectState`. */
  entitiesRef?: readonly object[];
  /** Entities of the subject run, in the same order as `entitiesRef`. */
  entitiesSub?: readonly object[];
  /** Leave out entries without an entity (transaction and flush events) when comparing hook logs. */
  ignoreTransactionEvents?: boolean;
  /** Event names left out of the hook-log comparison (e.g. `afterLoad`). */
  ignoreEvents?: readonly string[];
  /** Keys (columns, properties, hook detail keys) compared by shape only: generated uuids, `now()` timestamps. */
  mask?: readonly string[];
}

/**
 * Asserts that `subject` ended in the same observable state as `reference`: rows of every listed
 * table, the object state of each entity pair and the hook log.
 *
 * @example
 * await expectSameOutcome(reference(), subject(), {
 *   tables: ['article'], entitiesRef: refArticles, entitiesSub: subArticles, mask: ['createdAt', 'created_at'],
 * });
 */
export async function expectSameOutcome(
  reference: OrmUnderTest,
  subject: OrmUnderTest,
  options: SameOutcomeOptions,
): Promise<void> {
  const masked = new Set(options.mask ?? []);
  for (const spec of options.tables) {
    const { table, orderBy } = typeof spec === 'string' ? { table: spec, orderBy: undefined } : spec;
    const [refRows, subRows] = await Promise.all([reference.rows(table, orderBy), subject.rows(table, orderBy)]);
    expect(mask(subRows, masked), `rows of ${table}`).toEqual(mask(refRows, masked));
  }

  const refEntities = options.entitiesRef ?? [];
  const subEntities = options.entitiesSub ?? [];
  expect(subEntities.length, 'number of entities compared').toBe(refEntities.length);
  refEntities.forEach((refEntity, index) => {
    const subState = mask(subject.objectState(subEntities[index] as object), masked);
    expect(subState, `object state of entity ${index}`).toEqual(mask(reference.objectState(refEntity), masked));
  });

  const keep = (entry: HookLogEntry) =>
    !(options.ignoreTransactionEvents && entry.entity === null) && !options.ignoreEvents?.includes(entry.event);
  const refHooks = mask(reference.hooks.filter(keep), masked);
  expect(mask(subject.hooks.filter(keep), masked), 'hook log').toEqual(refHooks);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Replaces the values of masked keys by their shape, so "a uuid was generated" still compares. */
export function mask<T>(value: T, keys: ReadonlySet<string>): T {
  if (keys.size === 0) return value;
  if (Array.isArray(value)) return value.map((item) => mask(item, keys)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = keys.has(key) ? shapeOf(item) : mask(item, keys);
  return out as T;
}

function shapeOf(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (value instanceof Date) return '<timestamp>';
  if (typeof value === 'string' && UUID.test(value)) return '<uuid>';
  if (typeof value === 'string' && ISO_TIMESTAMP.test(value)) return '<timestamp>';
  if (typeof value === 'object' && !Array.isArray(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  return `<${typeof value}>`;
}
