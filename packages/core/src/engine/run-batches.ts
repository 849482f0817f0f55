import { BulkWriteError } from '../errors/bulk-write-error.js';
import { batchesOf, type InputBatch } from './batches.js';
import { type BulkOptions, type BulkResult, DEFAULT_BATCH_SIZE, emptyResult } from './bulk-options.js';
import { StatementCounter, withSavepoint } from './counting-session.js';
import type { TransactionRunner, WriteTarget } from './write-target.js';

/** Processes one batch and adds what happened to `result`. */
export type BatchWork<E> = (batch: InputBatch<E>, target: WriteTarget<E>, result: BulkResult<E>) => Promise<void>;

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
   * The next batch must wait until the one in flight is finished (e.g. it holds one of its rows). A
   * batch holding one of its entities always waits.
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
  const batches = batchesOf(input, options.batchSize ?? DEFAULT_BATCH_SIZE);
  let validated = 0;

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
    const last = batch.indices.at(-1) ?? -1;
    options.onProgress?.({
      batch: batch.number,
      validated,
      written: result.inserted + result.updated,
      // The next batch may already be validated: only rows up to this batch's last one count.
      skipped: result.skipped.reduce((n, s) => (s.index <= last ? n + 1 : n), 0),
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

  /**
   * Runs the batches with each one's statement in flight while the next one is prepared, and each
   * one finished while the next one's statement runs (see {@link StagedWork}): send n → finish n-1 →
   * prepare n+1 → wait for statement n → send n+1 → finish n… With a preload (an update's look-up),
   * batch n+1 is pulled and its look-up sent before statement n. An earlier batch's failure wins
   * over a later one's.
   */
  const runOverlapped = async (staged: StagedWork<E, P, S>, target: WriteTarget<E>, batches: AsyncGenerator<InputBatch<E>>) => {
    const session = counted(target);
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
        // (the transaction is aborted): the statement's failure is the call's.
        if (inFlight && inAbortedTransaction(error)) {
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
      batchDone(batch, target);
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
    const entitiesOf = new WeakMap<InputBatch<E>, Set<E>>();
    const entities = (batch: InputBatch<E>) => {
      let set = entitiesOf.get(batch);
      if (!set) {
        set = new Set(batch.entities);
        entitiesOf.set(batch, set);
      }
      return set;
    };
    /**
     * Whether `next` must wait until `inFlight` is finished: it holds one of its entities (an
     * adapter keeps per-entity state for the batch in flight), or the work says so.
     */
    const mustWait = (next: InputBatch<E>, inFlight: InputBatch<E>) => {
      const held = entities(inFlight);
      for (const entity of entities(next)) if (held.has(entity)) return true;
      return staged.waitFor?.(next, inFlight, session) ?? false;
    };
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
        /** Whether the next batch must wait: it shares rows with a batch not finished yet. */
        const sharing = (candidate: InputBatch<E>, current: InputBatch<E>) =>
          mustWait(candidate, current) || (landed !== undefined && mustWait(candidate, landed.batch));
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

    // The first batch is let go once written: a stream holds only the batch in flight (and, when
    // batches overlap, the next one).
    let head: InputBatch<E> | undefined = first.value;
    first = undefined;
    await transaction((target) =>
      withSavepoint(target.session, target.inCallerTransaction, async () => {
        if (isStaged(work) && work.overlap && overlapsFor(input, options)) {
          const holder = { batch: head };
          head = undefined;
          await runOverlapped(work, target, withHead(holder, batches));
          return;
        }
        let batch = head;
        head = undefined;
        await runOne(batch as InputBatch<E>, target);
        // (A suspended async function keeps its locals: this one must not hold the first batch.)
        batch = undefined;
        for await (const next of batches) await runOne(next, target);
      }),
    );
    return finish(result, counter, started);
  } finally {
    // However the call ends, the caller's input is closed (as leaving a for-await over it would): a
    // generator's finally runs. An error closing it does not replace the call's own.
    await batches.return(undefined).catch(() => undefined);
  }
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

/** Whether the error (or one it wraps) is PostgreSQL's 25P02: the transaction had already failed. */
function inAbortedTransaction(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === '25P02') return true;
    const driverError = (e as { driverError?: unknown }).driverError;
    if (driverError && (driverError as { code?: unknown }).code === '25P02') return true;
  }
  return false;
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
