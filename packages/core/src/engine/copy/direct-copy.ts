import type { CopyCapableClient, SqlSession } from '../../adapter/contract.js';
import type { BoundColumn } from '../../model/bound-model.js';
import type { ColumnKind } from '../../model/entity-model.js';
import { drawsFromSequence, type TableCatalog } from '../../model/table-catalog.js';
import type { BatchValues } from '../../sql/batch-values.js';
import { binaryCopyChunks, binaryWriters } from '../../sql/copy-binary.js';
import { copyField, copyFieldChunks } from '../../sql/copy-text.js';
import { quoteIdent } from '../../sql/identifier.js';
import type { InsertStatement } from '../../sql/insert-statement.js';
import { inIsoYears, toPgText, utcIsoText } from '../../sql/pg-text.js';
import { runCopy } from './copy-runner.js';
import { drawSequenceKeys } from './sequence-keys.js';

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

/** The text-format COPY data of the rows: the sent columns, then the generated keys. */
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
