import type { InputBatch, WriteTarget } from '../../adapter/contract.js';
import { connectionLoss } from '../../errors/connection-loss.js';
import type { BulkResult } from '../options/bulk-options.js';
import type { StagedWork } from './staged-work.js';

/** What a staged run reports to the call it belongs to. */
export interface StagedCall<E> {
  /** The target whose session counts the statements sent. */
  readonly session: WriteTarget<E>;
  readonly result: BulkResult<E>;
  /** A batch is finished (values back, after-hooks): counts and progress. */
  batchDone(batch: InputBatch<E>): void;
}

/**
 * Runs the batches with each one's statement in flight while the next one is prepared, and each
 * one finished while the next one's statement runs (see {@link StagedWork}): send n → finish n-1 →
 * prepare n+1 → wait for statement n → send n+1 → finish n… With a preload (an update's look-up),
 * batch n+1 is pulled and its look-up sent before statement n. An earlier batch's failure wins
 * over a later one's.
 */
export async function runStaged<E, P, S>(
  staged: StagedWork<E, P, S>,
  target: WriteTarget<E>,
  batches: AsyncGenerator<InputBatch<E>>,
  call: StagedCall<E>,
): Promise<void> {
  const { session, result } = call;
  const open = new Set<InputBatch<E>>();
  const start = (batch: InputBatch<E>) => {
    open.add(batch);
    target.batchStarted?.(batch);
  };
  const close = (batch: InputBatch<E>) => {
    if (open.delete(batch)) target.batchDone?.(batch);
  };
  let inFlight: { batch: InputBatch<E>; sending: Promise<S> } | undefined;
  /** A batch whose statement is done, finished (values back, after-hooks) once the next is sent. */
  let landed: { batch: InputBatch<E>; sent: S } | undefined;
  /** Waits for the statement in flight; its batch is finished later (finishLanded). */
  const land = async () => {
    if (!inFlight) return;
    const { batch, sending } = inFlight;
    inFlight = undefined;
    try {
      landed = { batch, sent: await sending };
    } catch (error) {
      close(batch);
      throw error;
    }
  };
  /** Finishes the landed batch: values back, outcomes, after-hooks. */
  const finishLanded = async () => {
    if (!landed) return;
    const { batch, sent } = landed;
    landed = undefined;
    try {
      await staged.finish(sent, session, result);
    } catch (error) {
      // An after-hook's query sent behind the next statement fails once that statement has failed
      // (the transaction is aborted, or the connection is gone): the statement's failure is the call's.
      if (inFlight && (inAbortedTransaction(error) || connectionLoss(error) !== undefined)) {
        const failure = await inFlight.sending.then(
          () => undefined,
          (e: unknown) => e,
        );
        if (failure !== undefined) throw failure;
      }
      throw error;
    } finally {
      close(batch);
    }
    call.batchDone(batch);
  };
  /** Finishes every batch started: the landed one, then the one in flight once its statement is done. */
  const settle = async () => {
    await finishLanded();
    await land();
    await finishLanded();
  };
  const send = async (batch: InputBatch<E>, prepared: P) => {
    let sent = () => {};
    const onWire = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const sending = staged.send(prepared, session, sent);
    // Awaited by settle(); until then a rejection must not count as unhandled.
    sending.catch(() => {});
    inFlight = { batch, sending };
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
    if (failed) await settle();
  };
  /** Prepares a batch; on failure the batch in flight is settled first (its failure wins). */
  const prepare = async (batch: InputBatch<E>, preloaded?: Promise<unknown>): Promise<P> => {
    try {
      return await staged.prepare(batch, session, result, preloaded);
    } catch (error) {
      close(batch);
      await settle();
      throw error;
    }
  };
  const preload = (batch: InputBatch<E>): Promise<unknown> | undefined => {
    const loading = staged.preload?.(batch, session);
    // Awaited by prepare(); a batch that never gets there must not leave an unhandled rejection.
    loading?.catch(() => {});
    return loading;
  };
  /** The next batch; if the input fails, the batch in flight is settled first (its failure wins). */
  const pull = async (): Promise<InputBatch<E> | undefined> => {
    try {
      const pulled = await batches.next();
      return pulled.done ? undefined : pulled.value;
    } catch (error) {
      await settle();
      throw error;
    }
  };
  /** Whether `next` must wait until `inFlight` is finished, as the work says. */
  const mustWait = (next: InputBatch<E>, inFlight: InputBatch<E>) => staged.waitFor?.(next, inFlight, session) ?? false;
  /** Whether the next batch must wait: it shares rows with a batch not finished yet. */
  const sharing = (candidate: InputBatch<E>, current: InputBatch<E>) =>
    mustWait(candidate, current) || (landed !== undefined && mustWait(candidate, landed.batch));
  // The next batch's look-up, once sent: awaited by its prepare, or by the finally below.
  let ahead: Promise<unknown> | undefined;
  try {
    let batch = await pull();
    if (!batch) return;
    start(batch);
    let prepared = await prepare(batch, preload(batch));
    while (true) {
      let next: InputBatch<E> | undefined;
      let waits = false;
      if (staged.preload) {
        // The next batch's look-up goes ahead of this batch's statement, unless they share rows.
        next = await pull();
        if (next) {
          waits = sharing(next, batch);
          if (!waits) {
            start(next);
            ahead = preload(next);
          }
        }
        await send(batch, prepared);
        // The previous batch's after-hooks run while this batch's statement does.
        await finishLanded();
      } else {
        await send(batch, prepared);
        await finishLanded();
        next = await pull();
        if (next) {
          waits = sharing(next, batch);
          if (!waits) start(next);
        }
      }
      if (!next) break;
      if (waits) {
        // Nothing of the next batch starts before this one is finished.
        await settle();
        start(next);
        ahead = preload(next);
      }
      prepared = await prepare(next, ahead);
      ahead = undefined;
      // This batch is finished once the next one's statement is on its way.
      await land();
      batch = next;
    }
    await settle();
  } finally {
    // A failure elsewhere leaves a statement (or the next batch's look-up) in flight: wait for it
    // before the rollback.
    if (inFlight) await inFlight.sending.catch(() => {});
    if (ahead) await ahead.catch(() => {});
    for (const batch of [...open]) close(batch);
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
