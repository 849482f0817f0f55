import {
  type CopyCapableClient,
  connectionLoss,
  type EntityModel,
  NO_HOOKS,
  type SqlSession,
  type TransactionRunner,
  type WriteTarget,
} from '@cohort/core/adapter';
import { type EntityManager, type EntityMetadata, type Transaction, Utils } from '@mikro-orm/core';
import { MikroOrmChangeTracker } from './mikro-orm-change-tracker.js';
import {
  type PooledPgClient,
  poolClients,
  transactionEventBroadcaster,
  transactionSessionContext,
  transactionStatements,
  writePool,
} from './mikro-orm-internals.js';
import { MikroOrmLifecycle } from './mikro-orm-lifecycle.js';
import { removeFromUnitOfWork } from './mikro-orm-removals.js';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';
import type { UndoLog } from './undo-log.js';
import { forgetWritten } from './written-entities.js';

/**
 * A session on the EntityManager's running transaction. MikroORM's own `em.execute()` inlines
 * parameters into the SQL text (`?` only, JS arrays comma-joined), so the engine's statements go
 * through the transaction's own connection instead — kysely's on MikroORM 7, knex's on 6 (see
 * `transactionStatements`) — with real bind parameters, and are reported to MikroORM's logger like
 * the ORM's own queries. PostgreSQL's error is kept as is for the engine's SQLSTATE conversion.
 */
export function mikroOrmSession(em: EntityManager, trx: Transaction): SqlSession {
  const statements = transactionStatements(trx);
  const logger = em.config.getLogger();
  const loggerContext = Utils.merge({ id: em.id }, em.getLoggerContext({ disableContextResolution: true }));
  const log = (query: string, params: readonly unknown[], started: number, extra: Record<string, unknown>) =>
    logger.logQuery({
      level: 'info',
      connection: { type: 'write' },
      ...loggerContext,
      query,
      params: [...params],
      took: Date.now() - started,
      ...extra,
    });
  const session: SqlSession = {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      const started = Date.now();
      try {
        const rows = await statements.query<R>(sql, params);
        log(sql, params, started, { results: rows.length });
        return rows;
      } catch (error) {
        log(sql, params, started, { level: 'error' });
        throw error;
      }
    },
    copyClient: () => transactionClient(em, trx, statements, session),
    // MikroORM's PostgreSQL driver runs on node-postgres, which sends Buffer parameters in binary form.
    binaryParameters: true,
    logStatement: (sql) => log(sql, [], Date.now(), {}),
  };
  return session;
}

let probeSeq = 0;
const transactionClients = new WeakMap<object, Promise<CopyCapableClient | undefined>>();

/**
 * The node-postgres client that runs the transaction, for COPY. On MikroORM 6 the knex transaction
 * holds it; on 7 kysely keeps it private, so it is found in MikroORM's pool (`getNativeClient()`)
 * by the backend's process id. Either way it is then proven to be the one: a value set
 * transaction-locally through the transaction must read back on that client. Anything else
 * (another driver, a pooler that hides process ids) gives undefined: unnest is used.
 */
function transactionClient(
  em: EntityManager,
  trx: Transaction,
  statements: ReturnType<typeof transactionStatements>,
  session: SqlSession,
): Promise<CopyCapableClient | undefined> {
  let found = transactionClients.get(trx as object);
  if (!found) {
    found = (async () => {
      const own = await statements.ownClient();
      const clients = own ? [own] : (poolClients(await writePool(em))?.clients ?? []);
      const token = `${process.pid}.${++probeSeq}`;
      const [probe] = await session.query<{ pid: number }>(
        "SELECT pg_backend_pid() AS pid, set_config('cohort.copy_probe', $1, true) AS token",
        [token],
      );
      const [client, another] = clients.filter((c: PooledPgClient) => probe && c.processID === probe.pid);
      if (!client || another) return undefined;
      const result = (await client.query("SELECT current_setting('cohort.copy_probe', true) AS token")) as {
        rows?: { token?: string }[];
      };
      return result.rows?.[0]?.token === token ? client : undefined;
    })();
    transactionClients.set(trx as object, found);
  }
  return found;
}

// Transactions cohort opened and bound to an EntityManager: a concurrent call on the same
// EntityManager must not take another call's transaction for its caller's.
const ownTransactions = new WeakSet<object>();
/**
 * A call of its own that a running call makes (a replaced target's early write,
 * mikro-orm-replaced-targets.ts): it runs on the running call's transaction — passed here, never
 * read from the EntityManager, so that no other call on it joins that transaction — and records its
 * changes to the objects in the running call's undo log, undone if that call's transaction rolls back.
 */
export interface NestedCall {
  readonly transaction: Transaction;
  readonly undo: UndoLog;
}

// By the options object of the nested call (made for it alone).
const nestedCalls = new WeakMap<object, NestedCall>();

/** `options` for a call of its own made by a running call (see {@link NestedCall}). */
export function nestedOptions<O extends object>(options: O, call: NestedCall): O {
  nestedCalls.set(options, call);
  return options;
}

/** The running call a call was made by, when its options came from {@link nestedOptions}. */
export function nestedCallOf(options: unknown): NestedCall | undefined {
  return options !== null && typeof options === 'object' ? nestedCalls.get(options) : undefined;
}

/**
 * Runs work in the EntityManager's transaction when it is in one (`em.transactional`, `em.begin`),
 * otherwise in a new one opened the way flush opens its own — `connection.transactional()` with a
 * TransactionEventBroadcaster, so transaction events fire as for flush — with the EntityManager bound
 * to it while the work runs (hooks and subscribers see `em.isInTransaction()` and its context).
 */
export function mikroOrmTransaction<E extends object>(
  context: MikroOrmWriteContext,
  meta: EntityMetadata<E>,
  model: EntityModel,
  hooks: boolean,
  nested?: NestedCall,
): TransactionRunner<E> {
  const em = context.em;
  // Generated (computed) columns are read back, never written: a change to one is no change.
  const columns = new Set(model.columns.filter((c) => c.insertable || c.updatable).map((c) => c.name));
  const targetFor = (trx: Transaction, inCallerTransaction: boolean): WriteTarget<E> => {
    context.transaction = trx;
    const tracker = new MikroOrmChangeTracker<E>(context, meta, trx, model.schema, columns);
    // In the call's undo log, so that the rollback of a call that nested this one puts it back too.
    tracker.removed = (entity) => {
      removeFromUnitOfWork(em, entity, context.undo);
      forgetWritten(entity, context.undo);
    };
    return {
      session: mikroOrmSession(em, trx),
      hooks: hooks ? new MikroOrmLifecycle<E>(context, meta) : NO_HOOKS,
      inCallerTransaction,
      changes: tracker,
      // Flush commits the inserts of a group, after-hooks included, before its updates.
      insertsBeforeUpdates: true,
      batchStarted: (batch) => context.adopt(batch),
      batchDone: (batch) => context.release(batch.entities),
    };
  };
  return async (fn) => {
    const mark = context.mark();
    try {
      if (nested) return await fn(targetFor(nested.transaction, true));
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
            sessionContext: transactionSessionContext(em),
            eventBroadcaster: transactionEventBroadcaster(em),
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
      context.transaction = undefined;
      context.forgetSince(mark);
      if (connectionLoss(error) !== undefined) await evictBrokenClients(em);
      throw error;
    }
  };
}

/**
 * After a lost connection, MikroORM's transaction leaves the broken node-postgres client checked out
 * of its pool (its rollback fails, so kysely never releases it; flush does the same): the pool is
 * one connection smaller for good, and closing the ORM waits for it forever. cohort hands such
 * clients back to the pool with their error, which drops them.
 */
async function evictBrokenClients(em: EntityManager): Promise<void> {
  const pool = poolClients(await writePool(em).catch(() => undefined));
  if (!pool) return;
  for (const client of pool.clients) {
    if (client._queryable === false && !pool.idle.has(client) && typeof client.release === 'function') {
      try {
        client.release(new Error('cohort: the connection was lost'));
      } catch {
        // Released meanwhile (pg-pool throws on a second release).
      }
    }
  }
}
