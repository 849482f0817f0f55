// The batch scheduler on its own: staged work that records its stages, in a transaction whose
// session only takes the savepoint statements around the call. (What the stages do to a database is
// tested through the adapters, against PostgreSQL.)
import { describe, expect, it } from 'vitest';
import type { TransactionRunner } from '../../../packages/core/src/adapter/contract.js';
import { runBatches } from '../../../packages/core/src/engine/batches/run-batches.js';
import type { StagedWork } from '../../../packages/core/src/engine/batches/staged-work.js';
import { NO_HOOKS } from '../../../packages/core/src/engine/lifecycle.js';

function transactionLogging(log: string[]): TransactionRunner<object> {
  return (fn) =>
    fn({
      session: {
        query: async (sql: string) => {
          log.push(sql.split(' ')[0] as string);
          return [];
        },
      },
      hooks: NO_HOOKS,
      inCallerTransaction: true,
    });
}

/** Six rows, counting how many were pulled. */
function rows(counter: { pulled: number }): Iterable<object> {
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < 6; i++) {
        counter.pulled++;
        yield { i };
      }
    },
  };
}

/** Work whose statement fails before it is on the wire (onSent never called). */
function failingSend(log: string[], preload?: (n: number) => Promise<unknown>): StagedWork<object, number, void> {
  return {
    overlap: true,
    preload: preload ? (batch) => preload(batch.number) : undefined,
    prepare: async (batch, _target, _result, preloaded) => {
      await preloaded;
      log.push(`prepare ${batch.number}`);
      return batch.number;
    },
    send: async (n) => {
      log.push(`send ${n}`);
      throw new Error(`statement ${n} failed`);
    },
    finish: async () => {
      log.push('finish');
    },
  };
}

describe('runBatches with batches overlapping', () => {
  it('a statement that fails before it is on the wire stops the call: the next batch is neither pulled nor prepared', async () => {
    const log: string[] = [];
    const counter = { pulled: 0 };
    await expect(
      runBatches(rows(counter), { batchSize: 2, pipeline: true }, transactionLogging(log), failingSend(log)),
    ).rejects.toThrow('statement 0 failed');
    expect(log).toEqual(['SAVEPOINT', 'prepare 0', 'send 0', 'ROLLBACK']);
    expect(counter.pulled).toBe(2);
  });

  it("the next batch's look-up, sent ahead, is waited for before the transaction ends", async () => {
    const log: string[] = [];
    const preload = async (n: number) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      log.push(`look-up ${n} done`);
    };
    await expect(
      runBatches(rows({ pulled: 0 }), { batchSize: 2, pipeline: true }, transactionLogging(log), failingSend(log, preload)),
    ).rejects.toThrow('statement 0 failed');
    expect(log).toEqual(['SAVEPOINT', 'look-up 0 done', 'prepare 0', 'send 0', 'look-up 1 done', 'ROLLBACK']);
  });

  /** Batch 0 lands; batch 1's statement fails while batch 0's after-hooks run and fail with `hookError`. */
  function afterHookMeetsFailedStatement(log: string[], hookError: Error): StagedWork<object, number, number> {
    return {
      overlap: true,
      prepare: async (batch) => batch.number,
      send: async (n, _target, onSent) => {
        log.push(`send ${n}`);
        onSent?.();
        if (n === 0) return n;
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error(`statement ${n} failed`);
      },
      finish: async (n) => {
        log.push(`finish ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw hookError;
      },
    };
  }

  it("an after-hook's query refused because the next statement had failed (25P02) gives way to that statement's failure", async () => {
    const log: string[] = [];
    const aborted = Object.assign(new Error('hook failed'), {
      cause: Object.assign(new Error('current transaction is aborted'), { code: '25P02' }),
    });
    await expect(
      runBatches(
        rows({ pulled: 0 }),
        { batchSize: 2, pipeline: true },
        transactionLogging(log),
        afterHookMeetsFailedStatement(log, aborted),
      ),
    ).rejects.toThrow('statement 1 failed');
    // Batch 0 is finished while batch 1's statement runs.
    expect(log).toEqual(['SAVEPOINT', 'send 0', 'send 1', 'finish 0', 'ROLLBACK']);
  });

  it("an after-hook's own failure wins over a later batch's statement", async () => {
    const log: string[] = [];
    await expect(
      runBatches(
        rows({ pulled: 0 }),
        { batchSize: 2, pipeline: true },
        transactionLogging(log),
        afterHookMeetsFailedStatement(log, new Error('the hook itself failed')),
      ),
    ).rejects.toThrow('the hook itself failed');
  });
});
