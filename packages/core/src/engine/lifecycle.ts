import { BulkHookError } from '../errors/bulk-write-error.js';
import type { InputBatch } from './batches.js';
import type { RowOutcome } from './bulk-options.js';

/** A batch handed to lifecycle hooks. */
export type HookBatch<E> = InputBatch<E>;

/** A batch of rows being updated: per row, the changed properties and their values before. */
export interface UpdateHookBatch<E> extends HookBatch<E> {
  readonly changes: readonly RowChange[];
}

/** What changed on one row. */
export interface RowChange {
  /** Changed property paths. */
  readonly properties: readonly string[];
  /** Database values of the changed properties before the update (property → value). */
  readonly before: Readonly<Record<string, unknown>>;
  /** Changed database columns (what the UPDATE writes for this row). */
  readonly columns?: readonly string[];
  /** The ORM's own description of the change, for its event objects (e.g. TypeORM's UpdateEvent). */
  readonly native?: unknown;
}

/** A batch after an upsert: the outcome of each row. */
export interface UpsertHookBatch<E> extends HookBatch<E> {
  readonly outcomes: readonly RowOutcome[];
}

/**
 * The ORM's lifecycle, as the adapter runs it. Each method covers one batch: entity listeners,
 * subscribers and batch subscribers, in the ORM's own order. A throwing hook must surface as a
 * {@link BulkHookError} naming the row (see {@link runForEach}).
 */
export interface LifecycleHooks<E> {
  beforeInsert(batch: HookBatch<E>): Promise<void>;
  afterInsert(batch: HookBatch<E>): Promise<void>;
  /** Resolves to `false` when no hook ran, so the rows need not be diffed again. */
  // biome-ignore lint/suspicious/noConfusingVoidType: adapters that cannot tell return Promise<void>.
  beforeUpdate?(batch: UpdateHookBatch<E>): Promise<void | boolean>;
  afterUpdate?(batch: UpdateHookBatch<E>): Promise<void>;
  /** Before an upsert statement: what the ORM runs before its own upsert. */
  beforeUpsert?(batch: HookBatch<E>): Promise<void>;
  /**
   * After an upsert, for the rows it found and left as they were (it had nothing of theirs to
   * write): neither inserted nor updated, so only what the ORM runs after any upsert of a row.
   */
  afterUpsertUnchanged?(batch: HookBatch<E>): Promise<void>;
  /**
   * After an upsert's outcome hooks (`afterInsert`, `afterUpdate`, `afterUpsertUnchanged`): every
   * row the statement inserted, updated or found unchanged, in input order — for an ORM event that
   * follows any upsert of a row (MikroORM's `afterUpsert`, which `upsertMany` fires in input order).
   */
  afterUpsert?(batch: HookBatch<E>): Promise<void>;
}

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
