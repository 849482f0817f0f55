import type { SqlSession } from '../../adapter/contract.js';

// Each counting session's counter: one per call, whatever target (a batch's, a transaction's) it wraps.
const counters = new WeakMap<SqlSession, StatementCounter>();

/**
 * The call a session the engine handed out belongs to (its statement counter), for what a call keeps
 * across its batches (item-moves.ts); the session itself for one it did not wrap.
 */
export function callOf(session: SqlSession): object {
  return counters.get(session) ?? session;
}

/** Counts the data statements the engine sends through a session. */
export class StatementCounter {
  count = 0;

  wrap(session: SqlSession): SqlSession {
    const wrapped: SqlSession = {
      query: (sql, params) => {
        this.count++;
        return session.query(sql, params);
      },
      copyClient: session.copyClient?.bind(session),
      get binaryParameters() {
        return session.binaryParameters;
      },
      logStatement: (sql) => {
        this.count++;
        session.logStatement?.(sql);
      },
    };
    counters.set(wrapped, this);
    return wrapped;
  }
}
