import type { InputBatch, WriteTarget } from '../../adapter/contract.js';
import {
  type BulkOptions,
  type BulkResult,
  DEFAULT_BATCH_SIZE,
  emptyResult,
  type RunningResult,
} from '../options/bulk-options.js';
import { StatementCounter } from '../session/statement-counter.js';
import { ProgressReport } from './progress-report.js';
import type { StagedWork } from './staged-work.js';

/** Processes one batch and adds what happened to `result`. */
export type BatchWork<E> = (batch: InputBatch<E>, target: WriteTarget<E>, result: RunningResult<E>) => Promise<void>;

export function isStaged<E, P, S>(work: BatchWork<E> | StagedWork<E, P, S>): work is StagedWork<E, P, S> {
  return typeof work !== 'function';
}

/** A call's bookkeeping: its result, the statements it sent, its progress; and how it runs one batch. */
export class BatchCall<E, P, S> {
  private readonly started = performance.now();
  readonly result = emptyResult<E>();
  private readonly counter = new StatementCounter();
  private readonly progress: ProgressReport<E>;
  private readonly lookupsSeen = new WeakMap<object, number>();

  /** `total`: the number of input rows, when known (an array). */
  constructor(
    private readonly options: BulkOptions,
    private readonly work: BatchWork<E> | StagedWork<E, P, S>,
    total?: number,
  ) {
    const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.progress = new ProgressReport(options.onProgress, this.started, total, size);
  }

  /** The target with a session that counts the statements sent through it. */
  counted(target: WriteTarget<E>): WriteTarget<E> {
    return { ...target, session: this.counter.wrap(target.session) };
  }

  /** Runs one batch's work from start to finish. */
  async runOne(batch: InputBatch<E>, target: WriteTarget<E>): Promise<void> {
    const { work, result } = this;
    const session = this.counted(target);
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
    this.batchDone(batch, target);
  }

  /**
   * Counts the change tracker's look-ups and reports progress once a batch is done. With
   * `atomic: false` (in its own transactions) the report waits for the batch's commit ({@link committed}).
   */
  batchDone(batch: InputBatch<E>, target: WriteTarget<E>): void {
    const { options, result, counter } = this;
    if (target.changes) {
      const queries = target.changes.queries ?? 0;
      counter.count += queries - (this.lookupsSeen.get(target.changes) ?? 0);
      this.lookupsSeen.set(target.changes, queries);
    }
    result.batches++;
    this.progress.batchDone(batch, result, options.atomic !== false || target.inCallerTransaction);
  }

  /** The transaction the call wrote in has committed: progress reports the rows written as committed. */
  committed(): void {
    this.progress.commit();
  }

  /** The call's result: skipped rows in input order (batches that overlap record theirs out of order), counts, time. */
  finish(): BulkResult<E> {
    const { result } = this;
    result.skipped.sort((a, b) => a.index - b.index);
    // Plus what the call's related work sent through calls of its own (CascadeGroup.writeReplaced).
    result.statements += this.counter.count;
    result.ms = Math.round((performance.now() - this.started) * 100) / 100;
    return { ...result, outcomes: result.outcomes.toArray() };
  }
}
