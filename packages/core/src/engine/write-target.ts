import type { LifecycleHooks } from './lifecycle.js';
import type { SqlSession } from './sql-session.js';

/** Where one transaction's work goes: its SQL session and the ORM lifecycle bound to it. */
export interface WriteTarget<E> {
  readonly session: SqlSession;
  readonly hooks: LifecycleHooks<E>;
  /** The transaction is the caller's: cohort guards its own work with a savepoint. */
  readonly inCallerTransaction: boolean;
}

/**
 * Runs `fn` in a transaction — the caller's when one is open, else a new one that commits when `fn`
 * resolves and rolls back when it throws. Implemented by each adapter with its ORM's transaction
 * machinery, so transaction events fire as they do for the ORM's own save.
 */
export type TransactionRunner<E> = <T>(fn: (target: WriteTarget<E>) => Promise<T>) => Promise<T>;
