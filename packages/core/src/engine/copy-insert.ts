import type { ColumnModel } from '../model/entity-model.js';
import type { TableCatalog } from '../model/table-catalog.js';
import type { BatchValues } from '../sql/batch-values.js';
import { copyChunks } from '../sql/copy-text.js';
import { quoteIdent } from '../sql/identifier.js';
import { compileInsert, type InsertStatement, ORDINAL, returnedName, stageColumns } from '../sql/insert-statement.js';
import { toPgText } from '../sql/pg-text.js';
import { runCopy } from './copy-runner.js';
import type { CopyCapableClient, SqlSession } from './sql-session.js';

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
  if (strategy === 'unnest' || !session.copyClient) return undefined;
  if ((strategy ?? 'auto') === 'auto' && !(autoEligible && rows >= COPY_MIN_ROWS)) return undefined;
  return session.copyClient();
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
  return stmt.generatedKeys.length === 1 && /^nextval\(/i.test(stmt.table.columns.get(key as string)?.defaultExpr ?? '');
}

/**
 * COPY straight into the table. A sequence key is drawn first, in one statement, so every row's key
 * is known before it is written; the rows come back in the shape of the other strategies
 * (ordinal, `r*` values).
 */
export async function copyDirectly<E>(
  session: SqlSession,
  client: CopyCapableClient,
  stmt: InsertStatement,
  values: BatchValues<E>,
  returningColumns: readonly ColumnModel<E>[],
): Promise<Record<string, unknown>[]> {
  const rowCount = values.indices.length;
  const table: TableCatalog = stmt.table;
  let generated: unknown[] = [];
  const [keyName] = stmt.generatedKeys;
  if (keyName) {
    const key = table.columns.get(keyName);
    // One row holding every drawn key (100,000 result rows would cost more to receive than the COPY).
    const [drawn] = await session.query<{ k: string | null }>(
      `SELECT string_agg((${key?.defaultExpr})::text, ',') AS k FROM generate_series(1, $1::int)`,
      [rowCount],
    );
    // node-postgres gives smallint/integer keys as numbers, everything else (bigint…) as text.
    const numeric = key?.castType === 'integer' || key?.castType === 'smallint';
    const keys: unknown[] = (drawn?.k ?? '').split(',').map((k) => (numeric ? Number(k) : k));
    // A sequence only grows: sorted, the drawn values follow the rows' order.
    generated = keys.sort(compareKeys);
  }
  const columns = [...stmt.sent.map((s) => s.name), ...stmt.generatedKeys];
  const sentCount = stmt.sent.length;
  const sql = `COPY ${table.qualifiedName} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  session.logStatement?.(sql);
  await runCopy(
    client,
    sql,
    copyChunks(columns.length, rowCount, (c, r) => (c < sentCount ? (values.values[c]?.[r] ?? null) : toPgText(generated[r]))),
  );
  return values.indices.map((_, r) => {
    const row: Record<string, unknown> = { [ORDINAL]: r + 1 };
    returningColumns.forEach((column, i) => {
      const sentAt = columns.indexOf(column.name);
      row[returnedName(i)] = sentAt < sentCount ? column.read(values.entities[r] as E) : generated[r];
    });
    return row;
  });
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
): Promise<Record<string, unknown>[]> {
  const mixedAt = stmt.sent.flatMap((s, i) => (s.mixed ? [i] : []));
  const sentCount = stmt.sent.length;
  const stage = await copyIntoStage(session, client, stageColumns(stmt), values.indices.length, (c, r) => {
    if (c === 0) return String(r + 1);
    if (c <= sentCount) return values.values[c - 1]?.[r] ?? null;
    const flags = values.defaults[mixedAt[c - 1 - sentCount] as number];
    return flags ? (flags[r] ? 't' : 'f') : null;
  });
  const { sql, parameters } = compileInsert({ ...stmt, stage }, [], []);
  const rows = await session.query(sql, parameters);
  await dropStage(session, stage);
  return rows;
}

export function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = BigInt(a as string | number);
  const y = BigInt(b as string | number);
  return x < y ? -1 : x > y ? 1 : 0;
}
