import type { HookBatch, LifecycleHooks } from '../adapter/contract.js';
import { BulkHookError } from '../errors/bulk-write-error.js';

/** Lifecycle that does nothing (`hooks: false`). */
export const NO_HOOKS: LifecycleHooks<never> = {
  beforeInsert: async () => {},
  afterInsert: async () => {},
  beforeUpdate: async () => {},
  afterUpdate: async () => {},
  beforeUpsert: async () => {},
};

/** Whether a hook's result is a promise (or any thenable) to wait for; sync hooks are not awaited. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Calls `fn` for each row of the batch, sequentially or all at once, and turns a throw into a
 * {@link BulkHookError} naming the row's input index.
 */
export async function runForEach<E>(
  hook: string,
  batch: HookBatch<E>,
  fn: (entity: E, position: number) => unknown,
  mode: 'sequential' | 'concurrent' = 'sequential',
): Promise<void> {
  const fail = (position: number, error: unknown): never => {
    if (error instanceof BulkHookError) throw error;
    throw new BulkHookError(
      hook,
      { batch: batch.number, index: batch.indices[position], entity: batch.entities[position] },
      error,
    );
  };
  if (mode === 'concurrent') {
    // Every call is started in order; only the ones that return a promise are awaited, together.
    const pending: Promise<unknown>[] = [];
    for (let position = 0; position < batch.entities.length; position++) {
      let result: unknown;
      try {
        result = fn(batch.entities[position] as E, position);
      } catch (error) {
        fail(position, error);
      }
      if (isPromiseLike(result)) {
        pending.push(Promise.resolve(result).then(undefined, (error: unknown) => fail(position, error)));
      }
    }
    if (pending.length > 0) await Promise.all(pending);
    return;
  }
  // One after the other; a call that returns no promise is not awaited (no microtask per row).
  for (let position = 0; position < batch.entities.length; position++) {
    try {
      const result = fn(batch.entities[position] as E, position);
      if (isPromiseLike(result)) await result;
    } catch (error) {
      fail(position, error);
    }
  }
}

/** Wraps a batch-level hook so that its failure names the batch. */
export async function runForBatch<E>(hook: string, batch: HookBatch<E>, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof BulkHookError) throw error;
    throw new BulkHookError(hook, { batch: batch.number }, error);
  }
}
