import type { InputBatch, TransactionRunner, WriteTarget } from '../adapter/contract.js';
import { BulkWriteError } from '../errors/bulk-write-error.js';
import { asConnectionLoss } from '../errors/connection-loss.js';
import { batchesOf } from './batches.js';
import { type BulkOptions, type BulkResult, DEFAULT_BATCH_SIZE, emptyResult } from './bulk-options.js';
import { StatementCounter, withSavepoint } from './counting-session.js';
import { keyOrderedBatches } from './key-order.js';
import { runStaged, type StagedWork } from './staged-batches.js';

/** Processes one batch and adds what happened to `result`. */
export type BatchWork<E> = (batch: InputBatch<E>, target: WriteTarget<E>, result: BulkResult<E>) => Promise<void>;

function isStaged<E, P, S>(work: BatchWork<E> | StagedWork<E, P, S>): work is StagedWork<E, P, S> {
  return typeof work !== 'function';
}

/** The batches of a non-atomic call that committed before a failure. */
export class PartialImportError<E = unknown> extends BulkWriteError<E> {
  override name = 'PartialImportError';
  /** Numbers of the batches that committed. */
  readonly landedBatches: readonly number[];
  /** Input rows up to this index (exclusive) are in the database. */
  readonly resumeFrom: number;

  constructor(cause: BulkWriteError<E>, landedBatches: number[], resumeFrom: number) {
    super(
      `${cause.message} (batches ${landedBatches.length ? landedBatches.join(', ') : 'none'} committed; resume from row ${resumeFrom})`,
      cause,
      { cause },
    );
    this.landedBatches = landedBatches;
    this.resumeFrom = resumeFrom;
  }
}

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
  const started = performance.now();
  const result = emptyResult<E>();
  const counter = new StatementCounter();
  const batches = inputBatches(input, options, isStaged(work) ? work : undefined);
  let validated = 0;
  let skippedDone = 0;

  const counted = (target: WriteTarget<E>): WriteTarget<E> => ({ ...target, session: counter.wrap(target.session) });
  const lookupsSeen = new WeakMap<object, number>();
  /** Counts the change tracker's look-ups and reports progress once a batch is done. */
  const batchDone = (batch: InputBatch<E>, target: WriteTarget<E>) => {
    if (target.changes) {
      const queries = target.changes.queries ?? 0;
      counter.count += queries - (lookupsSeen.get(target.changes) ?? 0);
      lookupsSeen.set(target.changes, queries);
    }
    result.batches++;
    validated += batch.entities.length;
    if (!options.onProgress) return;
    // The next batch may already be validated: only rows of the batches done count.
    const own = new Set(batch.indices);
    for (const s of result.skipped) if (own.has(s.index)) skippedDone++;
    options.onProgress({
      batch: batch.number,
      validated,
      written: result.inserted + result.updated + result.removed,
      skipped: skippedDone,
      elapsedMs: performance.now() - started,
    });
  };

  const runOne = async (batch: InputBatch<E>, target: WriteTarget<E>) => {
    const session = counted(target);
    try {
      target.batchStarted?.(batch);
      if (isStaged(work)) {
        const prepared = await work.prepare(batch, session, result);
        await work.finish(await work.send(prepared, session), session, result);
      } else {
        await work(batch, session, result);
      }
    } finally {
      target.batchDone?.(batch);
    }
    batchDone(batch, target);
  };

  try {
    // An empty input sends nothing and calls no hook: look at the first batch before opening anything.
    let first: IteratorResult<InputBatch<E>> | undefined = await batches.next();
    if (first.done) return finish(result, counter, started);

    if (options.atomic === false) {
      const landed: number[] = [];
      let resumeFrom = 0;
      let current: IteratorResult<InputBatch<E>> = first;
      while (!current.done) {
        const batch = current.value;
        let committing = false;
        try {
          await transaction(async (target) => {
            await withSavepoint(target.session, target.inCallerTransaction, () => runOne(batch, target));
            committing = true;
          });
        } catch (thrown) {
          const error = asConnectionLoss<E>(thrown, committing);
          throw error instanceof BulkWriteError ? new PartialImportError(error, landed, resumeFrom) : error;
        }
        landed.push(batch.number);
        resumeFrom = (batch.indices.at(-1) as number) + 1;
        current = await batches.next();
      }
      return finish(result, counter, started);
    }

    // The first batch is let go once written: a stream holds only the batch in flight (and, when
    // batches overlap, the next one).
    let head: InputBatch<E> | undefined = first.value;
    first = undefined;
    // Whether the work is done and the transaction is committing: a connection lost then may or may
    // not have taken the COMMIT with it.
    let committing = false;
    await transaction(async (target) => {
      await withSavepoint(target.session, target.inCallerTransaction, async () => {
        if (isStaged(work) && work.overlap && overlapsFor(input, options)) {
          const holder = { batch: head };
          head = undefined;
          await runStaged(work, target, withHead(holder, batches), {
            session: counted(target),
            result,
            batchDone: (batch) => batchDone(batch, target),
          });
          return;
        }
        let batch = head;
        head = undefined;
        await runOne(batch as InputBatch<E>, target);
        // (A suspended async function keeps its locals: this one must not hold the first batch.)
        batch = undefined;
        for await (const next of batches) await runOne(next, target);
      });
      committing = true;
    }).catch((error: unknown) => {
      throw asConnectionLoss<E>(error, committing);
    });
    return finish(result, counter, started);
  } finally {
    // However the call ends, the caller's input is closed (as leaving a for-await over it would): a
    // generator's finally runs. An error closing it does not replace the call's own.
    await batches.return(undefined).catch(() => undefined);
  }
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

/** Skipped rows in input order (batches that overlap record theirs out of order). */
function sortSkipped<E>(result: BulkResult<E>): void {
  result.skipped.sort((a, b) => a.index - b.index);
}

function finish<E>(result: BulkResult<E>, counter: StatementCounter, started: number): BulkResult<E> {
  sortSkipped(result);
  result.statements = counter.count;
  result.ms = Math.round((performance.now() - started) * 100) / 100;
  return result;
}
