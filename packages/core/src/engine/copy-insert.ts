import type { CopyCapableClient, SqlSession } from '../adapter/contract.js';
import type { BoundColumn, BoundModel } from '../model/bound-model.js';
import { type ColumnKind, primaryColumns } from '../model/entity-model.js';
import { drawsFromSequence, readTableCatalog, type TableCatalog } from '../model/table-catalog.js';
import type { BatchValues } from '../sql/batch-values.js';
import { binaryCopyChunks, binaryWriters } from '../sql/copy-binary.js';
import { copyChunks, copyField, copyFieldChunks } from '../sql/copy-text.js';
import { quoteIdent } from '../sql/identifier.js';
import { compileInsert, type InsertStatement, stageColumns } from '../sql/insert-statement.js';
import { inIsoYears, toPgText, utcIsoText } from '../sql/pg-text.js';
import type { InsertOptions } from './bulk-options.js';
import { resolveConflict } from './conflict-plan.js';
import { afterDispatch, runCopy } from './copy-runner.js';

/** Rows at or above which `strategy: 'auto'` uses COPY for a plain insert (see docs/benchmark.md). */
export const COPY_MIN_ROWS = 2_000;

/** The strategy option: how rows travel to PostgreSQL. */
export type WriteStrategy = 'auto' | 'unnest' | 'copy';

/**
 * The client to COPY through, or undefined for `unnest`: `'copy'` uses COPY whenever the adapter
 * can reach the transaction's client; `'auto'` when the batch is large enough for COPY to pay.
 */
export async function copyClientFor(
  strategy: WriteStrategy | undefined,
  session: SqlSession,
  rows: number,
  autoEligible: boolean,
): Promise<CopyCapableClient | undefined> {
  return mayCopy(strategy, session, rows, autoEligible) ? session.copyClient?.() : undefined;
}

/** Whether {@link copyClientFor} would look for a COPY client (it may still find none). */
export function mayCopy(strategy: WriteStrategy | undefined, session: SqlSession, rows: number, autoEligible: boolean): boolean {
  if (strategy === 'unnest' || !session.copyClient) return false;
  return (strategy ?? 'auto') !== 'auto' || (autoEligible && rows >= COPY_MIN_ROWS);
}

/**
 * Whether the batch can be copied straight into the table: a plain insert whose keys are either
 * sent or come from a sequence, with no per-row defaults and nothing to read back but the keys.
 */
export function canCopyDirectly(stmt: InsertStatement, returning: readonly string[]): boolean {
  if (stmt.conflict.kind !== 'error' || stmt.sent.some((s) => s.mixed)) return false;
  if (returning.some((r) => !stmt.rowKey.includes(r))) return false;
  const targets = [...stmt.sent.map((s) => s.name), ...stmt.generatedKeys];
  if (targets.some((n) => stmt.table.columns.get(n)?.identityAlways)) return false;
  if (stmt.generatedKeys.length === 0) return true;
  const [key] = stmt.generatedKeys;
  return stmt.generatedKeys.length === 1 && drawsFromSequence(stmt.table.columns.get(key as string));
}

/**
 * COPY straight into the table. A sequence key is drawn first, in one statement, so every row's key
 * is known before it is written (`drawn`: keys drawn ahead for these rows). Each row is encoded while the COPY streams (PostgreSQL stores one
 * chunk while the next is encoded). Returns the drawn keys, in row order (empty when none).
 */
export async function copyDirectly<E>(
  session: SqlSession,
  client: CopyCapableClient,
  stmt: InsertStatement,
  sent: readonly BoundColumn<E>[],
  values: BatchValues<E>,
  drawn?: readonly unknown[],
  onSent?: () => void,
): Promise<unknown[]> {
  const rowCount = values.indices.length;
  const table: TableCatalog = stmt.table;
  let generated: unknown[] = [];
  const [keyName] = stmt.generatedKeys;
  // Keys drawn ahead (for at least these rows, ascending) are used in order.
  if (keyName && drawn && drawn.length >= rowCount) generated = drawn.slice(0, rowCount);
  else if (keyName) generated = await drawSequenceKeys(session, table, keyName, rowCount);
  const columns = [...stmt.sent.map((s) => s.name), ...stmt.generatedKeys];
  const sources = [...values.raw, ...stmt.generatedKeys.map(() => generated)];
  // The binary format when every column's type and values allow it (see copy-binary.ts).
  const writers = binaryWriters(
    columns.map((name) => table.columns.get(name)?.castType ?? ''),
    sources,
  );
  const sql = `COPY ${table.qualifiedName} (${columns.map(quoteIdent).join(', ')}) FROM STDIN${writers ? ' (FORMAT binary)' : ''}`;
  session.logStatement?.(sql);
  await runCopy(
    client,
    sql,
    writers ? binaryCopyChunks(writers, sources, rowCount) : textChunks(sent, sources, rowCount),
    onSent,
  );
  return generated;
}

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

/** The text-format COPY data of the rows: the sent columns, then the generated keys. */
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

function textChunks<E>(sent: readonly BoundColumn<E>[], sources: readonly unknown[][], rowCount: number): Generator<string> {
  const encoders = sources.map((_, c) => fieldEncoder(sent[c]?.kind ?? 'other'));
  return copyFieldChunks(sources.length, rowCount, (c, r) => (encoders[c] as FieldEncoder)((sources[c] as unknown[])[r]));
}

type FieldEncoder = (value: unknown) => string;

/** The COPY field of a value of a column of this kind (text that needs no escaping skips the check). */
function fieldEncoder(kind: ColumnKind): FieldEncoder {
  const zoned = kind === 'timestamptz';
  return (value) => {
    if (value === null || value === undefined) return '\\N';
    if (typeof value === 'number') return String(value);
    if (zoned && value instanceof Date && inIsoYears(value)) return utcIsoText(value);
    return copyField(toPgText(value, zoned));
  };
}

let stageSeq = 0;

/**
 * Creates a temporary table (`ON COMMIT DROP`, so a failed transaction leaves none) and fills it by
 * COPY: `field(c, r)` gives the text of column c of row r. Returns its name.
 */
export async function copyIntoStage(
  session: SqlSession,
  client: CopyCapableClient,
  columns: readonly { name: string; type: string }[],
  rowCount: number,
  field: (column: number, row: number) => string | null,
): Promise<string> {
  const stage = `cohort_stage_${++stageSeq}`;
  await session.query(
    `CREATE TEMP TABLE ${quoteIdent(stage)} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')}) ON COMMIT DROP`,
  );
  const copy = `COPY ${quoteIdent(stage)} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`;
  session.logStatement?.(copy);
  await runCopy(client, copy, copyChunks(columns.length, rowCount, field));
  return stage;
}

/** Drops a stage table once its statement ran (the next batch of a large call makes its own). */
export async function dropStage(session: SqlSession, stage: string): Promise<void> {
  await session.query(`DROP TABLE ${quoteIdent(stage)}`);
}

/**
 * COPY into a temporary stage table, then the same statement as with `unnest`, reading the stage:
 * keys, defaults, conflicts and returned values work exactly as there.
 */
export async function insertThroughStage<E>(
  session: SqlSession,
  client: CopyCapableClient,
  stmt: InsertStatement,
  values: BatchValues<E>,
  kept: readonly (boolean[] | undefined)[] = [],
  onSent?: () => void,
): Promise<Record<string, unknown>[]> {
  const sentCount = stmt.sent.length;
  // After the ordinal and the values: the default flags of mixed columns, then the keep flags.
  const flagColumns = [
    ...stmt.sent.flatMap((s, i) => (s.mixed ? [values.defaults[i]] : [])),
    ...stmt.sent.flatMap((s, i) => (s.kept ? [kept[i]] : [])),
  ];
  const stage = await copyIntoStage(session, client, stageColumns(stmt), values.indices.length, (c, r) => {
    if (c === 0) return String(r + 1);
    if (c <= sentCount) return values.values[c - 1]?.[r] ?? null;
    const flags = flagColumns[c - 1 - sentCount];
    return flags ? (flags[r] ? 't' : 'f') : null;
  });
  const { sql, parameters } = compileInsert({ ...stmt, stage }, [], []);
  const query = session.query(sql, parameters);
  afterDispatch(onSent);
  const rows = await query;
  await dropStage(session, stage);
  return rows;
}

export function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = BigInt(a as string | number);
  const y = BigInt(b as string | number);
  return x < y ? -1 : x > y ? 1 : 0;
}
