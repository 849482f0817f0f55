import type { InputBatch, TransactionRunner } from '../../adapter/contract.js';
import { BulkWriteError } from '../../errors/bulk-write-error.js';
import { asConnectionLoss } from '../../errors/connection-loss.js';
import { PartialImportError } from '../../errors/partial-import-error.js';
import { type BulkOptions, type BulkResult, DEFAULT_BATCH_SIZE } from '../options/bulk-options.js';
import { withSavepoint } from '../session/savepoint.js';
import { BatchCall, type BatchWork, isStaged } from './batch-call.js';
import { batchesOf } from './batches-of.js';
import { keyOrderedBatches } from './key-order.js';
import { runStaged } from './run-staged.js';
import type { StagedWork } from './staged-work.js';

/** The first batch, pulled before anything opens; a holder lets go of it once it is taken. */
type Head<E> = { batch?: InputBatch<E> };

/**
 * Drives a call: splits the input into batches, runs `work` for each inside the transaction (one for
 * the call, or one per batch when `atomic: false`), counts statements and reports progress.
 */
export async function runBatches<E, P = unknown, S = unknown>(
  input: Iterable<E> | AsyncIterable<E>,
  options: BulkOptions,
  transaction: TransactionRunner<E>,
  work: BatchWork<E> | StagedWork<E, P, S>,
): Promise<BulkResult<E>> {
  const call = new BatchCall<E, P, S>(options, work, Array.isArray(input) ? input.length : undefined);
  const batches = inputBatches(input, options, isStaged(work) ? work : undefined);
  try {
    // An empty input sends nothing and calls no hook: look at the first batch before opening anything.
    let first: IteratorResult<InputBatch<E>> | undefined = await batches.next();
    if (first.done) return call.finish();
    // The first batch is let go once written: a stream holds only the batch in flight (and, when
    // batches overlap, the next one).
    const head: Head<E> = { batch: first.value };
    first = undefined;
    if (options.atomic === false) await runEachCommitted(call, head, batches, transaction);
    else await runInOneTransaction(call, input, options, work, head, batches, transaction);
    return call.finish();
  } finally {
    // However the call ends, the caller's input is closed (as leaving a for-await over it would): a
    // generator's finally runs. An error closing it does not replace the call's own.
    await batches.return(undefined).catch(() => undefined);
  }
}

/** `atomic: false`: each batch in its own transaction; a failure reports the batches that committed. */
async function runEachCommitted<E, P, S>(
  call: BatchCall<E, P, S>,
  head: Head<E>,
  batches: AsyncGenerator<InputBatch<E>>,
  transaction: TransactionRunner<E>,
): Promise<void> {
  const landed: number[] = [];
  let resumeFrom = 0;
  let batch: InputBatch<E> | undefined = takeHead(head);
  while (batch) {
    const current = batch;
    let committing = false;
    let own = false;
    try {
      await transaction(async (target) => {
        own = !target.inCallerTransaction;
        await withSavepoint(target.session, target.inCallerTransaction, () => call.runOne(current, target));
        committing = true;
      });
    } catch (thrown) {
      const error = asConnectionLoss<E>(thrown, committing);
      throw error instanceof BulkWriteError ? new PartialImportError(error, landed, resumeFrom) : error;
    }
    landed.push(current.number);
    if (own) call.committed();
    resumeFrom = (current.indices.at(-1) as number) + 1;
    const next = await batches.next();
    batch = next.done ? undefined : next.value;
  }
}

/** Every batch in one transaction: staged batches overlapping when they may, the others one by one. */
async function runInOneTransaction<E, P, S>(
  call: BatchCall<E, P, S>,
  input: Iterable<E> | AsyncIterable<E>,
  options: BulkOptions,
  work: BatchWork<E> | StagedWork<E, P, S>,
  head: Head<E>,
  batches: AsyncGenerator<InputBatch<E>>,
  transaction: TransactionRunner<E>,
): Promise<void> {
  // Whether the work is done and the transaction is committing: a connection lost then may or may
  // not have taken the COMMIT with it.
  let committing = false;
  let own = false;
  await transaction(async (target) => {
    own = !target.inCallerTransaction;
    await withSavepoint(target.session, target.inCallerTransaction, async () => {
      if (isStaged(work) && work.overlap && overlapsFor(input, options)) {
        await runStaged(work, target, withHead(head, batches), {
          session: call.counted(target),
          result: call.result,
          batchDone: (batch) => call.batchDone(batch, target),
        });
        return;
      }
      let batch: InputBatch<E> | undefined = takeHead(head);
      await call.runOne(batch, target);
      // (A suspended async function keeps its locals: this one must not hold the first batch.)
      batch = undefined;
      for await (const next of batches) await call.runOne(next, target);
    });
    committing = true;
  }).catch((error: unknown) => {
    throw asConnectionLoss<E>(error, committing);
  });
  // Inside the caller's transaction nothing commits during the call: its rows stay pending.
  if (own) call.committed();
}

/**
 * The input's batches. An array of more than one batch, written in one transaction by work that
 * locks rows in key order, is cut into batches in that order across the whole array (see
 * key-order.ts): concurrent calls over overlapping keys then lock rows in one order and cannot
 * deadlock. The whole array is checked as input first (batchesOf), in input order. Streams (and
 * `atomic: false`, where each batch commits and lets its locks go) are cut in input order.
 */
function inputBatches<E, P, S>(
  input: Iterable<E> | AsyncIterable<E>,
  options: BulkOptions,
  work: StagedWork<E, P, S> | undefined,
): AsyncGenerator<InputBatch<E>> {
  const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const order = work?.order;
  const several = Number.isInteger(size) && size >= 1 && Array.isArray(input) && input.length > size;
  if (!order || options.atomic === false || !several) return batchesOf(input, size);
  return (async function* () {
    const whole = batchesOf(input as E[], input.length);
    const first = await whole.next();
    if (first.done) return;
    yield* keyOrderedBatches(first.value, size, order);
  })();
}

/**
 * The first batch (already pulled, handed over in a holder that lets go of it), then the rest (which
 * runBatches closes however the call ends).
 */
async function* withHead<E>(
  holder: { batch?: InputBatch<E> },
  rest: AsyncGenerator<InputBatch<E>>,
): AsyncGenerator<InputBatch<E>> {
  yield takeHead(holder);
  yield* rest;
}

function takeHead<E>(holder: { batch?: InputBatch<E> }): InputBatch<E> {
  const batch = holder.batch as InputBatch<E>;
  holder.batch = undefined;
  return batch;
}

/**
 * Whether batches may overlap for this input: `pipeline` when given; by default for arrays and other
 * sync iterables, not for async iterables (a stream holds one batch at a time: with two, peak memory
 * doubled at times, because V8 sizes its heap by what was live when it last collected).
 */
function overlapsFor<E>(input: Iterable<E> | AsyncIterable<E>, options: BulkOptions): boolean {
  return options.pipeline ?? !(Symbol.asyncIterator in input);
}
