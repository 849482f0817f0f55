import type { SqlSession } from '../../adapter/contract.js';
import type { BoundModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { drawsFromSequence, readTableCatalog, type TableCatalog } from '../../model/table-catalog.js';
import type { InsertOptions } from '../options/bulk-options.js';
import { resolveConflict } from '../upsert/conflict-plan.js';
import { COPY_MIN_ROWS, copyClientFor } from './copy-strategy.js';

/** Draws `count` values of the key's sequence, ascending (so in row order). */
export async function drawSequenceKeys(
  session: SqlSession,
  table: TableCatalog,
  keyName: string,
  count: number,
): Promise<unknown[]> {
  const key = table.columns.get(keyName);
  // One row holding every drawn key (100,000 result rows would cost more to receive than the COPY).
  const [drawn] = await session.query<{ k: string | null }>(
    `SELECT string_agg((${key?.defaultExpr})::text, ',') AS k FROM generate_series(1, $1::int)`,
    [count],
  );
  // node-postgres gives smallint/integer keys as numbers, everything else (bigint…) as text.
  const numeric = key?.castType === 'integer' || key?.castType === 'smallint';
  const texts = (drawn?.k ?? '').split(',');
  const keys: unknown[] = numeric ? texts.map(Number) : texts;
  // A sequence only grows: sorted, the drawn values follow the rows' order.
  for (let i = 1; i < keys.length; i++) if (compareKeys(keys[i - 1], keys[i]) > 0) return keys.sort(compareKeys);
  return keys;
}

/**
 * When the batch will likely be copied straight into the table with a sequence key, starts drawing
 * its keys before the hooks run, so that PostgreSQL draws them while hooks and validation run.
 * Resolves (with the draw in flight, wrapped so that awaiting this does not wait for it) once the
 * query is on its way. The write uses the keys only if it does copy directly; keys
 * it leaves unused (rows found invalid, a hook that set a key) are gaps in the sequence, as a failed
 * `save()` leaves the values it drew.
 */
export async function drawKeysEarly<E>(
  model: BoundModel<E>,
  options: InsertOptions,
  entities: readonly E[],
  session: SqlSession,
): Promise<{ drawn?: Promise<DrawnKeys> }> {
  const { strategy } = options;
  if (!session.copyClient || strategy === 'unnest') return {};
  if (entities.length < (strategy === 'copy' ? 1 : COPY_MIN_ROWS)) return {};
  if (resolveConflict(model, options.onConflict).kind !== 'error') return {};
  const [key, ...more] = primaryColumns(model);
  if (!key || more.length > 0 || model.returningOnInsert.some((c) => c !== key)) return {};
  if (key.insertable && entities.some((e) => key.read(e) !== undefined)) return {};
  const draw = async (): Promise<unknown[] | undefined> => {
    const catalog = await readTableCatalog(session, model as BoundModel<never>);
    const column = catalog.columns.get(key.name);
    if (!drawsFromSequence(column)) return undefined;
    if (model.columns.some((c) => c.insertable && catalog.columns.get(c.name)?.identityAlways)) return undefined;
    if (!(await copyClientFor(strategy, session, entities.length, true))) return undefined;
    return drawSequenceKeys(session, catalog, key.name, entities.length);
  };
  // Settles either way: a failure is raised where the keys are used, never as an unhandled rejection.
  const drawn = draw().then(
    (keys) => ({ keys }),
    (error: unknown) => ({ error }),
  );
  // Lets the query reach the server (a few promise steps in the ORM's driver) before the hooks run.
  await new Promise((resolve) => setImmediate(resolve));
  return { drawn };
}

/** Keys drawn ahead of the write, or why drawing them failed. */
export type DrawnKeys = { keys?: unknown[]; error?: unknown };

export function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = BigInt(a as string | number);
  const y = BigInt(b as string | number);
  return x < y ? -1 : x > y ? 1 : 0;
}
