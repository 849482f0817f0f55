import { BulkWriteError } from '../errors/bulk-write-error.js';
import { batchesOf, type InputBatch } from './batches.js';
import { type BulkOptions, type BulkResult, DEFAULT_BATCH_SIZE, emptyResult } from './bulk-options.js';
import { StatementCounter, withSavepoint } from './counting-session.js';
import type { TransactionRunner, WriteTarget } from './write-target.js';

/** Processes one batch and adds what happened to `result`. */
export type BatchWork<E> = (batch: InputBatch<E>, target: WriteTarget<E>, result: BulkResult<E>) => Promise<void>;

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
export async function runBatches<E>(
  input: Iterable<E> | AsyncIterable<E>,
  options: BulkOptions,
  transaction: TransactionRunner<E>,
  work: BatchWork<E>,
): Promise<BulkResult<E>> {
  const started = performance.now();
  const result = emptyResult<E>();
  const counter = new StatementCounter();
  const batches = batchesOf(input, options.batchSize ?? DEFAULT_BATCH_SIZE);
  let validated = 0;

  const runOne = async (batch: InputBatch<E>, target: WriteTarget<E>) => {
    const counted: WriteTarget<E> = { ...target, session: counter.wrap(target.session) };
    const lookups = target.changes?.queries ?? 0;
    try {
      target.batchStarted?.(batch);
      await work(batch, counted, result);
    } finally {
      target.batchDone?.(batch);
    }
    counter.count += (target.changes?.queries ?? 0) - lookups;
    result.batches++;
    validated += batch.entities.length;
    options.onProgress?.({
      batch: batch.number,
      validated,
      written: result.inserted + result.updated,
      skipped: result.skipped.length,
      elapsedMs: performance.now() - started,
    });
  };

  // An empty input sends nothing and calls no hook: look at the first batch before opening anything.
  let first: IteratorResult<InputBatch<E>> | undefined = await batches.next();
  if (first.done) return finish(result, counter, started);

  if (options.atomic === false) {
    const landed: number[] = [];
    let resumeFrom = 0;
    let current: IteratorResult<InputBatch<E>> = first;
    while (!current.done) {
      const batch = current.value;
      try {
        await transaction((target) => withSavepoint(target.session, target.inCallerTransaction, () => runOne(batch, target)));
      } catch (error) {
        throw error instanceof BulkWriteError ? new PartialImportError(error, landed, resumeFrom) : error;
      }
      landed.push(batch.number);
      resumeFrom = (batch.indices.at(-1) as number) + 1;
      current = await batches.next();
    }
    return finish(result, counter, started);
  }

  // The first batch is let go once written: a stream holds only the batch in flight.
  let head: InputBatch<E> | undefined = first.value;
  first = undefined;
  await transaction((target) =>
    withSavepoint(target.session, target.inCallerTransaction, async () => {
      let batch = head;
      head = undefined;
      await runOne(batch as InputBatch<E>, target);
      // (A suspended async function keeps its locals: this one must not hold the first batch.)
      batch = undefined;
      for await (const next of batches) await runOne(next, target);
    }),
  );
  return finish(result, counter, started);
}

function finish<E>(result: BulkResult<E>, counter: StatementCounter, started: number): BulkResult<E> {
  result.statements = counter.count;
  result.ms = Math.round((performance.now() - started) * 100) / 100;
  return result;
}
