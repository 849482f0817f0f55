import type { InputBatch, WriteTarget } from '../../adapter/contract.js';
import { connectionLoss } from '../../errors/connection-loss.js';
import type { RunningResult } from '../options/bulk-options.js';
import type { StagedWork } from './staged-work.js';

/** What a staged run reports to the call it belongs to. */
export interface StagedCall<E> {
  /** The target whose session counts the statements sent. */
  readonly session: WriteTarget<E>;
  readonly result: RunningResult<E>;
  /** A batch is finished (values back, after-hooks): counts and progress. */
  batchDone(batch: InputBatch<E>): void;
}

/**
 * Runs the batches with each one's statement in flight while the next one is prepared, and each
 * one finished while the next one's statement runs (see {@link StagedWork}): send n → finish n-1 →
 * prepare n+1 → wait for statement n → send n+1 → finish n… With a preload (an update's look-up),
 * batch n+1 is pulled and its look-up sent before statement n. An earlier batch's failure wins
 * over a later one's, unless it is the aborted transaction a later batch's failing look-up left.
 */
export async function runStaged<E, P, S>(
  staged: StagedWork<E, P, S>,
  target: WriteTarget<E>,
  batches: AsyncGenerator<InputBatch<E>>,
  call: StagedCall<E>,
): Promise<void> {
  await new StagedRun(staged, target, batches, call).run();
}

/** One staged run: which batches are open, the statement in flight, the batch landed, the look-up sent ahead. */
class StagedRun<E, P, S> {
  /** Batches started (batchStarted called) and not yet closed (batchDone). */
  private readonly open = new Set<InputBatch<E>>();
  /** The batch whose statement is on its way. */
  private inFlight: { batch: InputBatch<E>; sending: Promise<S> } | undefined;
  /** A batch whose statement is done, finished (values back, after-hooks) once the next is sent. */
  private landed: { batch: InputBatch<E>; sent: S } | undefined;
  /** The next batch's look-up, once sent: awaited by its prepare, or when the run ends. */
  private ahead: Promise<unknown> | undefined;

  constructor(
    private readonly staged: StagedWork<E, P, S>,
    private readonly target: WriteTarget<E>,
    private readonly batches: AsyncGenerator<InputBatch<E>>,
    private readonly call: StagedCall<E>,
  ) {}

  async run(): Promise<void> {
    try {
      let batch = await this.pull();
      if (!batch) return;
      this.start(batch);
      let prepared = await this.prepare(batch, this.preload(batch));
      while (true) {
        const { next, waits } = await this.sendThenPull(batch, prepared);
        if (!next) break;
        if (waits) {
          // Nothing of the next batch starts before this one is finished.
          await this.settle();
          this.start(next);
          this.ahead = this.preload(next);
        }
        prepared = await this.prepare(next, this.ahead);
        this.ahead = undefined;
        // This batch is finished once the next one's statement is on its way.
        await this.land();
        batch = next;
      }
      await this.settle();
    } finally {
      // A failure elsewhere leaves a statement (or the next batch's look-up) in flight: wait for it
      // before the rollback.
      if (this.inFlight) await this.inFlight.sending.catch(() => {});
      if (this.ahead) await this.ahead.catch(() => {});
      for (const batch of [...this.open]) this.close(batch);
    }
  }

  /**
   * Sends the batch's statement, finishes the landed batch while it runs, and pulls the next batch;
   * with a preload, the next batch is pulled and its look-up sent first, unless they share rows.
   */
  private async sendThenPull(batch: InputBatch<E>, prepared: P): Promise<{ next?: InputBatch<E>; waits: boolean }> {
    let next: InputBatch<E> | undefined;
    let waits = false;
    if (this.staged.preload) {
      // The next batch's look-up goes ahead of this batch's statement, unless they share rows.
      next = await this.pull();
      if (next) {
        waits = this.sharing(next, batch);
        if (!waits) {
          this.start(next);
          this.ahead = this.preload(next);
        }
      }
      await this.send(batch, prepared);
      // The previous batch's after-hooks run while this batch's statement does.
      await this.finishLanded();
    } else {
      await this.send(batch, prepared);
      await this.finishLanded();
      next = await this.pull();
      if (next) {
        waits = this.sharing(next, batch);
        if (!waits) this.start(next);
      }
    }
    return { next, waits };
  }

  private start(batch: InputBatch<E>): void {
    this.open.add(batch);
    this.target.batchStarted?.(batch);
  }

  private close(batch: InputBatch<E>): void {
    if (this.open.delete(batch)) this.target.batchDone?.(batch);
  }

  /** Waits for the statement in flight; its batch is finished later (finishLanded). */
  private async land(): Promise<void> {
    if (!this.inFlight) return;
    const { batch, sending } = this.inFlight;
    this.inFlight = undefined;
    try {
      this.landed = { batch, sent: await sending };
    } catch (error) {
      this.close(batch);
      throw error;
    }
  }

  /** Finishes the landed batch: values back, outcomes, after-hooks. */
  private async finishLanded(): Promise<void> {
    if (!this.landed) return;
    const { batch, sent } = this.landed;
    this.landed = undefined;
    try {
      await this.staged.finish(sent, this.call.session, this.call.result);
    } catch (error) {
      // An after-hook's query sent behind the next statement fails once that statement has failed
      // (the transaction is aborted, or the connection is gone): the statement's failure is the call's.
      const inFlight = this.inFlight;
      if (inFlight && (inAbortedTransaction(error) || connectionLoss(error) !== undefined)) {
        const failure = await inFlight.sending.then(
          () => undefined,
          (e: unknown) => e,
        );
        if (failure !== undefined) throw failure;
      }
      throw error;
    } finally {
      this.close(batch);
    }
    this.call.batchDone(batch);
  }

  /** Finishes every batch started: the landed one, then the one in flight once its statement is done. */
  private async settle(): Promise<void> {
    await this.finishLanded();
    await this.land();
    await this.finishLanded();
  }

  private async send(batch: InputBatch<E>, prepared: P): Promise<void> {
    let sent = () => {};
    const onWire = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const sending = this.staged.send(prepared, this.call.session, sent);
    // Awaited by settle(); until then a rejection must not count as unhandled.
    sending.catch(() => {});
    this.inFlight = { batch, sending };
    // Preparing the next batch would hold up the statement's own sending: wait until it is on the
    // wire (or done).
    let failed = false;
    await Promise.race([
      onWire,
      sending.then(
        () => {},
        () => {
          failed = true;
        },
      ),
    ]);
    // Already failed: nothing more is pulled or prepared.
    if (failed) await this.settle();
  }

  /**
   * Prepares a batch; on failure the batch in flight is settled first (its failure wins), unless that
   * failure is the aborted transaction (25P02) this batch's failing look-up left behind it.
   */
  private async prepare(batch: InputBatch<E>, preloaded?: Promise<unknown>): Promise<P> {
    try {
      return await this.staged.prepare(batch, this.call.session, this.call.result, preloaded);
    } catch (error) {
      this.close(batch);
      await this.settle().catch((earlier: unknown) => {
        throw inAbortedTransaction(earlier) ? error : earlier;
      });
      throw error;
    }
  }

  private preload(batch: InputBatch<E>): Promise<unknown> | undefined {
    const loading = this.staged.preload?.(batch, this.call.session);
    // Awaited by prepare(); a batch that never gets there must not leave an unhandled rejection.
    loading?.catch(() => {});
    return loading;
  }

  /** The next batch; if the input fails, the batch in flight is settled first (its failure wins). */
  private async pull(): Promise<InputBatch<E> | undefined> {
    try {
      const pulled = await this.batches.next();
      return pulled.done ? undefined : pulled.value;
    } catch (error) {
      await this.settle();
      throw error;
    }
  }

  /** Whether the next batch must wait: it shares rows with a batch not finished yet. */
  private sharing(candidate: InputBatch<E>, current: InputBatch<E>): boolean {
    const landed = this.landed;
    return this.mustWait(candidate, current) || (landed !== undefined && this.mustWait(candidate, landed.batch));
  }

  /** Whether `next` must wait until `inFlight` is finished, as the work says. */
  private mustWait(next: InputBatch<E>, inFlight: InputBatch<E>): boolean {
    return this.staged.waitFor?.(next, inFlight, this.call.session) ?? false;
  }
}

/** Whether the error (or one it wraps) is PostgreSQL's 25P02: the transaction had already failed. */
function inAbortedTransaction(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === '25P02') return true;
    const driverError = (e as { driverError?: unknown }).driverError;
    if (driverError && (driverError as { code?: unknown }).code === '25P02') return true;
  }
  return false;
}
