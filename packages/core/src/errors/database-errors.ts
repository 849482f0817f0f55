import { BulkWriteError, type FailureLocation } from './bulk-write-error.js';

/** The fields of a PostgreSQL error that node-postgres exposes. */
export interface PgErrorFields {
  code?: string;
  detail?: string;
  constraint?: string;
  column?: string;
  table?: string;
  where?: string;
  message?: string;
}

/** The database refused the statement. `cause` is the PostgreSQL error; `code` its SQLSTATE. */
export class BulkDatabaseError<E = unknown> extends BulkWriteError<E> {
  override name = 'BulkDatabaseError';
  readonly code?: string;
  readonly constraint?: string;
  readonly detail?: string;
  readonly column?: string;

  constructor(message: string, pg: PgErrorFields, location: FailureLocation<E>, cause: unknown) {
    super(message, location, { cause });
    this.code = pg.code;
    this.constraint = pg.constraint;
    this.detail = pg.detail;
    this.column = pg.column;
  }
}

/** SQLSTATE 23505: a row duplicates a unique key (in the table, or of another row of the input). */
export class UniqueViolationError<E = unknown> extends BulkDatabaseError<E> {
  override name = 'UniqueViolationError';
}
/** SQLSTATE 23502: a NOT NULL column got no value. */
export class NotNullViolationError<E = unknown> extends BulkDatabaseError<E> {
  override name = 'NotNullViolationError';
}
/** SQLSTATE 23503: a foreign key points at no row (or a referenced row is still used). */
export class ForeignKeyViolationError<E = unknown> extends BulkDatabaseError<E> {
  override name = 'ForeignKeyViolationError';
}
/** SQLSTATE 23514: a CHECK constraint failed. */
export class CheckViolationError<E = unknown> extends BulkDatabaseError<E> {
  override name = 'CheckViolationError';
}
/**
 * SQLSTATE 40P01 / 40001: deadlock or serialization failure; the call can be retried (its
 * transaction rolled back). E.g. concurrent streams of several batches over overlapping keys
 * (docs/guide.md, Concurrency).
 */
export class TransientDatabaseError<E = unknown> extends BulkDatabaseError<E> {
  override name = 'TransientDatabaseError';
  /** Always true: retrying the call may succeed. */
  readonly retryable = true as const;
}
