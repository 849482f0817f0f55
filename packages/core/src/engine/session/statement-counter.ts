import type { SqlSession } from '../../adapter/contract.js';
/** Counts the data statements the engine sends through a session. */
export class StatementCounter {
  count = 0;

  wrap(session: SqlSession): SqlSession {
    return {
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
  }
}
