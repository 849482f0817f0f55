import type { CopyCapableClient, SqlSession } from '../../adapter/contract.js';

/** Rows at or above which `strategy: 'auto'` uses COPY for a plain insert (see docs/benchmark.md). */
export const COPY_MIN_ROWS = 2_000;

/** The strategy option: how rows travel to PostgreSQL. */
export type WriteStrategy = 'auto' | 'unnest' | 'copy';

/**
 * The client to COPY through, or undefined for `unnest`: `'copy'` uses COPY whenever the adapter
 * can reach the transaction's client; `'auto'` when the batch is large enough for COPY to pay.
 */
export async function copyClientFor(
  strategy: WriteStrategy | undefined,
  session: SqlSession,
  rows: number,
  autoEligible: boolean,
): Promise<CopyCapableClient | undefined> {
  return mayCopy(strategy, session, rows, autoEligible) ? session.copyClient?.() : undefined;
}

/** Whether {@link copyClientFor} would look for a COPY client (it may still find none). */
export function mayCopy(strategy: WriteStrategy | undefined, session: SqlSession, rows: number, autoEligible: boolean): boolean {
  if (strategy === 'unnest' || !session.copyClient) return false;
  return (strategy ?? 'auto') !== 'auto' || (autoEligible && rows >= COPY_MIN_ROWS);
}

/**
 * A capability of the engine, not of a session: whether `strategy: 'auto'` may stage a large
 * batch's UPDATE through COPY (`strategy: 'copy'` always does, where the session can COPY). Off
 * until measured: for updates the stage table's CREATE, COPY and DROP have not yet shown that they
 * pay for themselves over one `UPDATE … FROM unnest(…)`. It also decides how an update's values
 * travel: rows that may go through a stage are read as text, the others as binary arrays where the
 * session takes them.
 */
export const AUTO_COPY_UPDATES = false;
