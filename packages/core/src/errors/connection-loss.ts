import { BulkHookError, BulkWriteError, errorMessage, type FailureLocation } from './bulk-write-error.js';
import { TransientDatabaseError } from './database-errors.js';
import { notePosition } from './message-positions.js';

/**
 * The connection to PostgreSQL was lost during the call (the server ended the backend, the network
 * dropped, the pool's client broke). The transaction went with it: retry the call on a fresh
 * connection. `code` is PostgreSQL's SQLSTATE (57P01…, 08006…) or the driver's (`ECONNRESET`) when
 * one was given; `cause` is the error as the driver raised it.
 */
export class ConnectionLostError<E = unknown> extends TransientDatabaseError<E> {
  override name = 'ConnectionLostError';
  /**
   * `false`: nothing of the call committed (the loss came before its COMMIT; in a caller's
   * transaction, that transaction is lost too). `'unknown'`: the connection broke during cohort's
   * own COMMIT, which may or may not have taken effect. A non-atomic call (`atomic: false`) throws
   * a PartialImportError instead, whose cause is this error and which lists the batches that landed.
   */
  readonly committed: false | 'unknown';

  constructor(lost: unknown, location: FailureLocation<E>, committed: false | 'unknown', during?: string) {
    const where = location.batch === undefined ? '' : ` with batch ${location.batch} in flight`;
    const what = during ? ` (while ${during})` : '';
    const outcome = committed === false ? 'nothing of the call was committed' : 'the COMMIT may or may not have taken effect';
    super(
      `connection to PostgreSQL lost${where}${what}: ${errorMessage(lost)}; ${outcome}`,
      { code: connectionCode(lost) },
      { batch: location.batch },
      lost,
    );
    this.committed = committed;
    if (location.batch !== undefined)
      notePosition(this, 'batch', `batch ${location.batch}`, ` in flight${what}: ${errorMessage(lost)}; ${outcome}`);
  }
}

// SQLSTATE classes and codes that mean the session is gone: 08 (connection exception), 57P01
// (admin_shutdown, what pg_terminate_backend sends), 57P02 (crash_shutdown), 57P03 (cannot connect now).
const LOST_SQLSTATE = /^(08...|57P0[123])$/;
const LOST_DRIVER_CODE = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTCONN', 'ECONNABORTED']);
// What node-postgres, TypeORM and MikroORM say when a client or query runner is used after its
// connection broke; they carry no code.
const LOST_MESSAGE =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|Query runner already released|query runner was already released|terminating connection due to administrator command/i;

/** The first error in `error`'s chain (`cause`, TypeORM's `driverError`) that says the connection was lost. */
export function connectionLoss(error: unknown): unknown {
  const seen = new Set<unknown>();
  for (let e = error; e && typeof e === 'object' && !seen.has(e) && seen.size < 10; ) {
    seen.add(e);
    const fields = e as { code?: unknown; message?: unknown; name?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof fields.code === 'string' && (LOST_SQLSTATE.test(fields.code) || LOST_DRIVER_CODE.has(fields.code))) return e;
    if (fields.name === 'QueryRunnerAlreadyReleasedError' || fields.name === 'QueryRunnerProviderAlreadyReleasedError') return e;
    if (typeof fields.message === 'string' && LOST_MESSAGE.test(fields.message) && !(e instanceof BulkWriteError)) return e;
    e = fields.driverError ?? fields.cause;
  }
  return undefined;
}

function connectionCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The call's failure as the caller should see it: a lost connection wins over whatever it caused (a
 * hook whose query failed, a statement's driver error) and becomes a {@link ConnectionLostError}
 * naming the batch in flight. Any other error is returned as it is.
 */
export function asConnectionLoss<E>(error: unknown, committing: boolean): unknown {
  if (error instanceof ConnectionLostError) {
    return committing && error.committed === false ? new ConnectionLostError(error.cause, error, 'unknown', 'committing') : error;
  }
  const lost = connectionLoss(error);
  if (lost === undefined) return error;
  const batch = error instanceof BulkWriteError ? error.batch : undefined;
  const during = error instanceof BulkHookError ? `running the ${error.hook} hook` : committing ? 'committing' : undefined;
  return new ConnectionLostError<E>(lost, { batch }, committing ? 'unknown' : false, during);
}
