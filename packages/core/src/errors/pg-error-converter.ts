import type { TableCatalog } from '../model/table-catalog.js';
import type { BatchValues } from '../sql/batch-values.js';
import type { ConflictAction } from '../sql/conflict-clause.js';
import { BulkWriteError, errorMessage } from './bulk-write-error.js';
import { ConnectionLostError, connectionLoss } from './connection-loss.js';
import {
  BulkDatabaseError,
  CheckViolationError,
  ForeignKeyViolationError,
  NotNullViolationError,
  type PgErrorFields,
  TransientDatabaseError,
  UniqueViolationError,
} from './database-errors.js';
import { findFailingRow } from './failing-row.js';
import { notePosition } from './message-positions.js';
import { BulkUsageError } from './usage-errors.js';

/** What locating a failed row needs of a batch's values. */
export type LocatableBatch<E> = Pick<BatchValues<E>, 'columns' | 'values' | 'indices' | 'entities'> &
  Partial<Pick<BatchValues<E>, 'defaults'>>;

/** The statement that failed, for errors about the call rather than a row (an INSERT's conflict target). */
export interface FailedStatement {
  readonly table: TableCatalog;
  readonly conflict?: ConflictAction;
}

type ErrorClass = new (...args: ConstructorParameters<typeof BulkDatabaseError>) => BulkDatabaseError;

const BY_SQLSTATE: Record<string, ErrorClass> = {
  '23505': UniqueViolationError,
  '23502': NotNullViolationError,
  '23503': ForeignKeyViolationError,
  '23514': CheckViolationError,
  '40P01': TransientDatabaseError,
  '40001': TransientDatabaseError,
};

/**
 * SQLSTATEs that say the call itself is wrong, whatever the rows hold: refused as a BulkUsageError
 * (the PostgreSQL error is its `cause`).
 */
const USAGE_SQLSTATE: Record<string, string> = {
  '42P10': 'the conflict target matches no unique index or constraint of the table',
  '42P01': 'the table does not exist',
  '42703':
    'a column of the statement does not exist in the table (one the entity maps, or one named in `where` or `expressions`)',
};

/**
 * Converts an error raised by PostgreSQL while writing `batch` into a typed cohort error that names
 * the input row, when PostgreSQL's detail allows finding it.
 */
export function convertDatabaseError<E>(
  error: unknown,
  batch: LocatableBatch<E>,
  batchIndex: number,
  statement?: FailedStatement,
): BulkWriteError<E> {
  if (error instanceof BulkWriteError) return error as BulkWriteError<E>;
  const lost = connectionLoss(error);
  if (lost !== undefined) return new ConnectionLostError<E>(lost, { batch: batchIndex }, false, 'its statement ran');
  const pg = (error ?? {}) as PgErrorFields;
  if (typeof pg.code !== 'string') {
    const after = ` failed: ${errorMessage(error)}`;
    const failed = new BulkWriteError<E>(`batch ${batchIndex}${after}`, { batch: batchIndex }, { cause: error });
    notePosition(failed, 'batch', `batch ${batchIndex}`, after);
    return failed;
  }
  if (pg.code === '42P10' && statement) return unmatchedTarget(pg, batch, batchIndex, statement, error);
  const wrongCall = USAGE_SQLSTATE[pg.code];
  if (wrongCall) {
    const usage = new BulkUsageError<E>(`${wrongCall}: ${pg.message ?? 'database error'} (batch ${batchIndex})`, {
      batch: batchIndex,
      cause: error,
    });
    notePosition(usage, 'batch', `batch ${batchIndex}`, ')');
    return usage;
  }
  // An upsert's DO UPDATE prints the stored row merged with the sent one: not the values sent.
  const position = locateRow(pg, batch, statement?.conflict?.kind === 'update' ? undefined : statement?.table);
  const index = position === undefined ? undefined : batch.indices[position];
  const entity = position === undefined ? undefined : batch.entities[position];
  const where = index === undefined ? `batch ${batchIndex}` : `row ${index} (batch ${batchIndex})`;
  const what = [pg.constraint && `constraint ${pg.constraint}`, pg.detail].filter(Boolean).join(': ');
  const rest = what ? ` — ${what}` : '';
  const message = `${pg.message ?? 'database error'} at ${where}${rest}`;
  const Kind = BY_SQLSTATE[pg.code] ?? BulkDatabaseError;
  const converted = new Kind(message, pg, { batch: batchIndex, index, entity }, error) as BulkWriteError<E>;
  notePosition(converted, 'batch', `batch ${batchIndex}`, `${index === undefined ? '' : ')'}${rest}`);
  if (index !== undefined) notePosition(converted, 'row', `row ${index}`, ` (batch ${batchIndex})${rest}`);
  return converted;
}

/**
 * 42P10, no unique index matches the conflict target: the refusal names the entity (the class of the
 * batch's rows), the target and the table, and for a partitioned table its partition key, which
 * every unique index of such a table includes.
 */
function unmatchedTarget<E>(
  pg: PgErrorFields,
  batch: LocatableBatch<E>,
  batchIndex: number,
  { table, conflict }: FailedStatement,
  error: unknown,
): BulkWriteError<E> {
  const target = conflict && conflict.kind !== 'error' ? (conflict.target ?? []) : [];
  const className = (batch.entities[0] as object | undefined)?.constructor?.name;
  const entity = className && className !== 'Object' ? `${className}: ` : '';
  let message = `${entity}the conflict target matches no unique index or constraint of table ${table.qualifiedName}`;
  if (target.length > 0) message += ` (target: ${target.join(', ')})`;
  if (table.partitionKey) {
    const missing = partitionColumns(table.partitionKey)?.filter((column) => !target.includes(column));
    message += `; the table is partitioned by ${table.partitionKey}`;
    if (missing?.length) {
      message +=
        `, and the target lacks ${missing.join(', ')}: every unique index of a partitioned table includes the ` +
        'partition key columns, so a conflict target must include them too';
    }
  }
  const usage = new BulkUsageError<E>(`${message} — ${pg.message ?? 'database error'} (batch ${batchIndex})`, {
    batch: batchIndex,
    cause: error,
  });
  notePosition(usage, 'batch', `batch ${batchIndex}`, ')');
  return usage;
}

/** The columns of a partition key as `pg_get_partkeydef` prints it; undefined when it holds an expression. */
function partitionColumns(definition: string): string[] | undefined {
  const list = /^\w+ \((.*)\)$/.exec(definition)?.[1];
  const names = list?.split(', ').map((n) => /^(?:"((?:[^"]|"")+)"|([a-z_][a-z0-9_$]*))$/.exec(n));
  if (!names || names.some((n) => !n)) return undefined;
  return names.map((n) => (n?.[1] ?? n?.[2] ?? '').replaceAll('""', '"'));
}

/**
 * The position in the batch of the row PostgreSQL complains about, from its error detail; `table`,
 * the table an INSERT wrote, places the values of a failing row it prints (findFailingRow).
 */
export function locateRow(pg: PgErrorFields, batch: LocatableBatch<unknown>, table?: TableCatalog): number | undefined {
  if (batch.indices.length === 1) return 0;
  // COPY names the line it failed on; cohort sends one line per row, in batch order.
  const line = /COPY [^,]+, line (\d+)/.exec(pg.where ?? '');
  if (line) {
    const position = Number(line[1]) - 1;
    if (position >= 0 && position < batch.indices.length) return position;
  }
  const keyed = /^Key \((.+)\)=\((.*)\) (?:already exists|is not present in table|is still referenced from table)/s.exec(
    pg.detail ?? '',
  );
  if (keyed) return findByKey(batch, keyed[1] as string, keyed[2] as string, pg.code === '23505');
  // 23514 from a partitioned table no partition of which accepts the row: every row with that
  // partition key fails alike, the first is named.
  const unplaced = /^Partition key of the failing row contains \((.+)\) = \((.*)\)\.$/s.exec(pg.detail ?? '');
  if (unplaced) return findByKey(batch, unplaced[1] as string, unplaced[2] as string, false);
  // 23514, a CHECK of a multi-row INSERT: the row it prints, found by its values.
  if (pg.code === '23514' && table) return findFailingRow(pg.detail, batch, table);
  if (pg.code === '23502' && pg.column) {
    const col = batch.columns.indexOf(pg.column);
    if (col < 0) return undefined;
    const values = batch.values[col] as (string | null)[];
    const at = values.indexOf(null);
    return at < 0 ? undefined : at;
  }
  return undefined;
}

function findByKey(batch: LocatableBatch<unknown>, columnList: string, valueList: string, duplicate: boolean) {
  const names = columnList.split(', ').map((n) => n.replace(/^"(.*)"$/, '$1'));
  const cols = names.map((n) => batch.columns.indexOf(n));
  if (cols.some((c) => c < 0)) return undefined;
  const matches: number[] = [];
  for (let row = 0; row < batch.indices.length; row++) {
    const text = cols.map((c) => (batch.values[c] as (string | null)[])[row] ?? 'null').join(', ');
    if (text === valueList) {
      matches.push(row);
      // Two input rows with one key: the second is the one that collided.
      if (!duplicate || matches.length === 2) break;
    }
  }
  return matches.at(-1);
}

/**
 * The {@link BulkUsageError} for an error an ORM's own query raised (a change tracker's look-up)
 * when its SQLSTATE says the call is wrong (a missing table or column), found in the error's chain
 * (`driverError`, `cause`); the error itself otherwise.
 */
export function asUsageError(error: unknown): unknown {
  if (error instanceof BulkWriteError) return error;
  const seen = new Set<unknown>();
  for (let e = error; e && typeof e === 'object' && !seen.has(e) && seen.size < 10; ) {
    seen.add(e);
    const fields = e as PgErrorFields & { driverError?: unknown; cause?: unknown };
    const wrongCall = typeof fields.code === 'string' ? USAGE_SQLSTATE[fields.code] : undefined;
    if (wrongCall) return new BulkUsageError(`${wrongCall}: ${fields.message ?? errorMessage(e)}`, { cause: error });
    e = fields.driverError ?? fields.cause;
  }
  return error;
}
