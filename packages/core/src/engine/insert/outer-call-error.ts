import { BulkValidationError, BulkWriteError, OptimisticLockError } from '../../errors/bulk-write-error.js';
import { rewritePosition } from '../../errors/message-positions.js';

/**
 * An error of a call of its own that a running call made (a replaced target's early write,
 * CascadeGroup.writeReplaced), told in the running call's terms: its `batch` the running call's batch
 * (the one whose rows the failing entities were found for, also in the message), and the positions
 * it lists — a validation error's `failures`, a stale version's `indices` — the input rows `rowOf`
 * gives for the call of its own's positions (left as they are where it gives none). `index` and the
 * message's row are {@link located}'s. Of the message, only the batch and rows cohort wrote into it
 * change (message-positions.ts).
 */
export function inOuterCall(error: unknown, batch: number, rowOf: (position: number) => number | undefined): unknown {
  if (!(error instanceof BulkWriteError)) return error;
  if (error.batch !== batch) {
    // Only the text cohort wrote: a hook's or PostgreSQL's own words may name a batch too.
    rewritePosition(error, 'batch', `batch ${batch}`);
    Object.defineProperty(error, 'batch', { value: batch, enumerable: true, configurable: true, writable: false });
  }
  const outer = (position: number) => rowOf(position) ?? position;
  if (error instanceof BulkValidationError) {
    const failures = error.failures.map((failure) => ({ ...failure, index: outer(failure.index) }));
    Object.defineProperty(error, 'failures', { value: failures, enumerable: true, configurable: true, writable: false });
  }
  if (error instanceof OptimisticLockError) {
    const indices = error.indices.map(outer);
    Object.defineProperty(error, 'indices', { value: indices, enumerable: true, configurable: true, writable: false });
    // The message lists the rows `indices` holds.
    rewritePosition(error, 'rows', `rows ${indices.join(', ')}`);
  }
  return error;
}
