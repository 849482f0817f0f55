import type { SqlSession } from '../../adapter/contract.js';

let savepointSeq = 0;

/**
 * Runs `fn` under a savepoint when inside the caller's transaction, so a failure leaves the
 * caller's transaction usable and exactly as it was before the call.
 */
export async function withSavepoint<T>(session: SqlSession, enabled: boolean, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const name = `cohort_${++savepointSeq}`;
  await session.query(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await session.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await session.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {});
    throw error;
  }
}
