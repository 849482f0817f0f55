import type { InputBatch, WriteTarget } from '../adapter/contract.js';
import { connectionLoss } from '../errors/connection-loss.js';
import type { BulkResult } from './bulk-options.js';
import type { RowOrder } from './key-order.js';

/**
 * A batch's work in three stages, so that the next batch's before-hooks and validation run while
 * this batch's statement is in flight, and this batch's after-hooks while the next one's statement
 * is (PostgreSQL works while the client prepares and finishes batches).
 * Each batch still goes through its stages in SPEC §3's order; across batches, with `overlap`, the
 * hooks run: before(1), before(2), after(1), before(3), after(2)… (TypeORM's save() and MikroORM's
 * flush run every before-hook of the call before their first statement).
 */
export interface StagedWork<E, P, S> {
  /** Batches may overlap as above; false: each batch finishes before the next one starts. */
  readonly overlap: boolean;
  /**
   * The key whose order the statement locks rows in: an array of several batches is cut into
   * batches in this order (see key-order.ts), so concurrent calls cannot deadlock.
   */
  readonly order?: RowOrder<E>;
  /**
   * The next batch must wait until the one in flight is finished (e.g. it holds one of its rows).
   * No two batches hold one entity: batchesOf refuses an object given twice.
   */
  waitFor?(next: InputBatch<E>, inFlight: InputBatch<E>, target: WriteTarget<E>): boolean;
  /**
   * Starts what `prepare` will need from the database (an update's look-up), so that it is sent
   * ahead of the previous batch's statement; its result is handed to `prepare`. Undefined when the
   * work has nothing to fetch.
   */
  preload?(batch: InputBatch<E>, target: WriteTarget<E>): Promise<unknown> | undefined;
  /** Before-hooks and validation; the statement's values. Sends nothing but the hooks' own queries. */
  prepare(batch: InputBatch<E>, target: WriteTarget<E>, result: BulkResult<E>, preloaded?: Promise<unknown>): Promise<P>;
  /**
   * Sends the batch's statement(s); calls `onSent` once they are on their way to the server (the
   * next batch is prepared from then on; without the call, once they completed). Touches no entity
   * and no result.
   */
  send(prepared: P, target: WriteTarget<E>, onSent?: () => void): Promise<S>;
  /** Values back onto the entities, outcomes into the result, after-hooks. */
  finish(sent: S, target: WriteTarget<E>, result: BulkResult<E>): Promise<void>;
}

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
