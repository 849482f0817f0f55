import type { InputBatch, WriteTarget } from '../../adapter/contract.js';
import type { RunningResult } from '../options/bulk-options.js';
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
  prepare(batch: InputBatch<E>, target: WriteTarget<E>, result: RunningResult<E>, preloaded?: Promise<unknown>): Promise<P>;
  /**
   * Sends the batch's statement(s); calls `onSent` once they are on their way to the server (the
   * next batch is prepared from then on; without the call, once they completed). Touches no entity
   * and no result.
   */
  send(prepared: P, target: WriteTarget<E>, onSent?: () => void): Promise<S>;
  /** Values back onto the entities, outcomes into the result, after-hooks. */
  finish(sent: S, target: WriteTarget<E>, result: RunningResult<E>): Promise<void>;
}
