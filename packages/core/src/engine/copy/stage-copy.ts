import type { CopyCapableClient, SqlSession } from '../../adapter/contract.js';
import type { BatchValues } from '../../sql/batch-values.js';
import { binaryCopyChunks, binaryWriters } from '../../sql/copy-binary.js';
import { copyChunks } from '../../sql/copy-text.js';
import { quoteIdent } from '../../sql/identifier.js';
import { compileInsert, type InsertStatement, stageColumns } from '../../sql/insert-statement.js';
import { afterDispatch } from '../session/after-dispatch.js';
import { runCopy } from './copy-runner.js';

let stageSeq = 0;

/**
 * A stage's rows as values, for COPY's binary format: `raw[c][r]` is the value of column c for row
 * r as the driver would get it (null or undefined = NULL), `types[c]` the column's type in the
 * stage (the target column's type, so no value is cast in the statement).
 */
export interface StageValues {
  readonly types: readonly string[];
  readonly raw: readonly (readonly unknown[])[];
}

/**
 * Creates a temporary table (`ON COMMIT DROP`, so a failed transaction leaves none) and fills it by
 * COPY. With `values` whose every column has a binary form (copy-binary.ts: the types and values
 * binary COPY takes exactly), the stage's columns have those types and the rows travel in the
 * binary format; otherwise its columns are `columns`' types and `field(c, r)` gives the text of
 * column c of row r. Returns its name.
 */
export async function copyIntoStage(
  session: SqlSession,
  client: CopyCapableClient,
  columns: readonly { name: string; type: string }[],
  rowCount: number,
  field: (column: number, row: number) => string | null,
  values?: StageValues,
): Promise<string> {
  const stage = `cohort_stage_${++stageSeq}`;
  const writers = values?.types.length === columns.length ? binaryWriters(values.types, values.raw) : undefined;
  const types = writers && values ? values.types : columns.map((c) => c.type);
  await session.query(
    `CREATE TEMP TABLE ${quoteIdent(stage)} (${columns.map((c, i) => `${quoteIdent(c.name)} ${types[i]}`).join(', ')}) ON COMMIT DROP`,
  );
  const copy = `COPY ${quoteIdent(stage)} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN${writers ? ' (FORMAT binary)' : ''}`;
  session.logStatement?.(copy);
  await runCopy(
    client,
    copy,
    writers && values ? binaryCopyChunks(writers, values.raw, rowCount) : copyChunks(columns.length, rowCount, field),
  );
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
  const rowCount = values.indices.length;
  const typed: StageValues = {
    types: [
      'bigint',
      ...stmt.sent.map((s) => stmt.table.columns.get(s.name)?.castType ?? ''),
      ...flagColumns.map(() => 'boolean'),
    ],
    raw: [ordinals(rowCount), ...values.raw, ...flagColumns.map((f) => f ?? [])],
  };
  const field = (c: number, r: number) => {
    if (c === 0) return String(r + 1);
    if (c <= sentCount) return values.values[c - 1]?.[r] ?? null;
    const flags = flagColumns[c - 1 - sentCount];
    return flags ? (flags[r] ? 't' : 'f') : null;
  };
  const stage = await copyIntoStage(session, client, stageColumns(stmt), rowCount, field, typed);
  const { sql, parameters } = compileInsert({ ...stmt, stage }, [], []);
  const query = session.query(sql, parameters);
  afterDispatch(onSent);
  const rows = await query;
  await dropStage(session, stage);
  return rows;
}

/** 1 … n: a stage's ordinal column, the rows' positions in the batch. */
export function ordinals(rowCount: number): number[] {
  const out = new Array<number>(rowCount);
  for (let r = 0; r < rowCount; r++) out[r] = r + 1;
  return out;
}
