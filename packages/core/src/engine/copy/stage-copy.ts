import type { CopyCapableClient, SqlSession } from '../../adapter/contract.js';
import type { BatchValues } from '../../sql/batch-values.js';
import { copyChunks } from '../../sql/copy-text.js';
import { quoteIdent } from '../../sql/identifier.js';
import { compileInsert, type InsertStatement, stageColumns } from '../../sql/insert-statement.js';
import { afterDispatch } from '../session/after-dispatch.js';
import { runCopy } from './copy-runner.js';

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
