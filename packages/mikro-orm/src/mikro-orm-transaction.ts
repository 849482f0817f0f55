import { type EntityModel, NO_HOOKS, type SqlSession, type TransactionRunner, type WriteTarget } from '@cohort/core';
import { type EntityManager, type EntityMetadata, type Transaction, TransactionEventBroadcaster, Utils } from '@mikro-orm/core';
import { CompiledQuery } from 'kysely';
import { MikroOrmChangeTracker } from './mikro-orm-change-tracker.js';
import { MikroOrmLifecycle } from './mikro-orm-lifecycle.js';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';

/** The part of a kysely Transaction the session uses (MikroORM's transaction context on PostgreSQL). */
interface KyselyExecutor {
  executeQuery<R>(query: CompiledQuery<R>): Promise<{ rows: R[] }>;
}

/**
 * A session on the EntityManager's running transaction. MikroORM's own `em.execute()` inlines
 * parameters into the SQL text (`?` only, JS arrays comma-joined), so the engine's statements go
 * through the transaction's kysely connection instead — `CompiledQuery.raw(sql, params)`, the
 * object `em.getKysely()` returns inside a transaction — with real bind parameters, and are
 * reported to MikroORM's logger like the ORM's own queries. PostgreSQL's error is kept as is for
 * the engine's SQLSTATE conversion.
 */
export function mikroOrmSession(em: EntityManager, trx: Transaction): SqlSession {
  const executor = trx as unknown as KyselyExecutor;
  const logger = em.config.getLogger();
  const loggerContext = Utils.merge({ id: em.id }, em.getLoggerContext({ disableContextResolution: true }));
  return {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      const started = Date.now();
      const log = (extra: Record<string, unknown>) =>
        logger.logQuery({
          level: 'info',
          connection: { type: 'write' },
          ...loggerContext,
          query: sql,
          params: [...params],
          took: Date.now() - started,
          ...extra,
        });
      try {
        const result = await executor.executeQuery<R>(CompiledQuery.raw(sql, [...params]));
        log({ results: result.rows.length });
        return result.rows;
      } catch (error) {
        log({ level: 'error' });
        throw error;
      }
    },
    // The transaction's pg client is private to kysely: no COPY, the engine uses unnest statements.
    copyClient: async () => undefined,
  };
}

// Transactions cohort opened and bound to an EntityManager: a concurrent call on the same
// EntityManager must not take another call's transaction for its caller's.
const ownTransactions = new WeakSet<object>();

/**
 * Runs work in the EntityManager's transaction when it is in one (`em.transactional`, `em.begin`),
 * otherwise in a new one opened the way flush opens its own — `connection.transactional()` with a
 * TransactionEventBroadcaster, so transaction events fire as for flush — with the EntityManager bound
 * to it while the work runs (hooks and subscribers see `em.isInTransaction()` and its context).
 */
export function mikroOrmTransaction<E extends object>(
  context: MikroOrmWriteContext,
  meta: EntityMetadata<E>,
  model: EntityModel<E>,
  hooks: boolean,
): TransactionRunner<E> {
  const em = context.em;
  const columns = new Set(model.columns.map((c) => c.name));
  const targetFor = (trx: Transaction, inCallerTransaction: boolean): WriteTarget<E> => ({
    session: mikroOrmSession(em, trx),
    hooks: hooks ? new MikroOrmLifecycle<E>(context, meta) : NO_HOOKS,
    inCallerTransaction,
    changes: new MikroOrmChangeTracker<E>(context, meta, trx, model.schema, columns),
    // Flush commits the inserts of a group, after-hooks included, before its updates.
    insertsBeforeUpdates: true,
  });
  return async (fn) => {
    const mark = context.mark();
    try {
      const existing = em.getTransactionContext();
      if (existing && !ownTransactions.has(existing as object)) return await fn(targetFor(existing, true));
      let mine: Transaction | undefined;
      try {
        return await em.getConnection('write').transactional(
          (trx) => {
            mine = trx;
            ownTransactions.add(trx as object);
            em.setTransactionContext(trx);
            return fn(targetFor(trx, false));
          },
          {
            sessionContext: em.getTransactionSessionContext(),
            eventBroadcaster: new TransactionEventBroadcaster(em),
            loggerContext: Utils.merge({ id: em.id }, em.getLoggerContext({ disableContextResolution: true })),
          },
        );
      } finally {
        if (mine) ownTransactions.delete(mine as object);
        // Unbind only our own transaction; put back another running call's, if it is still open.
        if (mine && em.getTransactionContext() === mine) {
          if (existing && ownTransactions.has(existing as object)) em.setTransactionContext(existing);
          else em.resetTransactionContext();
        }
      }
    } catch (error) {
      context.forgetSince(mark);
      throw error;
    }
  };
}
