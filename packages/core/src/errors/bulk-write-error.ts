import { notePosition } from './message-positions.js';

/** Where in the input a failure happened. */
export interface FailureLocation<E = unknown> {
  /** 0-based index of the batch in the call. */
  batch?: number;
  /** 0-based index of the row in the whole input (not in the batch). */
  index?: number;
  entity?: E;
}

/**
 * Where in an entity graph a failure happened: at a related entity the call inserted with the row
 * (cascade), reached through `entityName.property`, of class `target`.
 */
export interface GraphLocation {
  readonly entityName: string;
  readonly property: string;
  readonly target: string;
}

/**
 * Base class of every error cohort throws. Catch this to handle any bulk-write failure.
 * When the database raised it, the PostgreSQL error is kept as `cause`.
 */
export class BulkWriteError<E = unknown> extends Error {
  override name = 'BulkWriteError';
  readonly batch?: number;
  readonly index?: number;
  readonly entity?: E;
  /**
   * Set when the failure is at a related entity the call was inserting with the row (`entity` is
   * then that entity, `index` the input row it was reached from).
   */
  declare readonly relation?: GraphLocation;

  constructor(message: string, location: FailureLocation<E> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.batch = location.batch;
    this.index = location.index;
    this.entity = location.entity;
  }
}

/** One invalid value of one input row. */
export interface ValidationFailure<E = unknown> {
  /** 0-based index of the row in the whole input. */
  index: number;
  entity: E;
  /** Property path on the entity (`address.city`). */
  property: string;
  value: unknown;
  /** Machine-readable rule: `required`, `type`, `maxLength`, `precision`, `range`, `enum`, `nulByte`, `unpairedSurrogate`, or a class-validator constraint. */
  constraint: string;
  message: string;
}

/** Rows failed validation; nothing was written (unless `onInvalid: 'skip'`). Lists every failure. */
export class BulkValidationError<E = unknown> extends BulkWriteError<E> {
  override name = 'BulkValidationError';
  readonly failures: readonly ValidationFailure<E>[];

  constructor(failures: readonly ValidationFailure<E>[], batch?: number) {
    const first = failures[0];
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : '';
    const after = `, ${first?.property}: ${first?.message}${more}`;
    super(`${failures.length} invalid value(s); first: row ${first?.index}${after}`, {
      batch,
      index: first?.index,
      entity: first?.entity,
    });
    this.failures = failures;
    notePosition(this, 'row', `row ${first?.index}`, after);
  }
}

/** A lifecycle hook (listener, entity hook or subscriber) threw. Nothing of the call was written. */
export class BulkHookError<E = unknown> extends BulkWriteError<E> {
  override name = 'BulkHookError';
  readonly hook: string;

  constructor(hook: string, location: FailureLocation<E>, cause: unknown) {
    const where = location.index === undefined ? `batch ${location.batch}` : `row ${location.index}`;
    const after = `: ${errorMessage(cause)}`;
    super(`${hook} hook failed at ${where}${after}`, location, { cause });
    this.hook = hook;
    notePosition(this, location.index === undefined ? 'batch' : 'row', where, after);
  }
}

/** Rows whose version column no longer matches the database; nothing of the call was written. */
export class OptimisticLockError<E = unknown> extends BulkWriteError<E> {
  override name = 'OptimisticLockError';
  readonly indices: readonly number[];
  readonly entities: readonly E[];

  constructor(indices: readonly number[], entities: readonly E[], batch?: number) {
    const rows = `rows ${indices.join(', ')}`;
    super(`${indices.length} row(s) changed by someone else since they were read (stale version): ${rows}`, {
      batch,
      index: indices[0],
      entity: entities[0],
    });
    this.indices = indices;
    this.entities = entities;
    notePosition(this, 'rows', rows, '');
  }
}

/** Two input rows of one batch have the same conflict key; PostgreSQL cannot upsert both. */
export class DuplicateKeyInBatchError<E = unknown> extends BulkWriteError<E> {
  override name = 'DuplicateKeyInBatchError';
  readonly indices: readonly [number, number];
  readonly key: Record<string, unknown>;

  constructor(indices: [number, number], key: Record<string, unknown>, entity: E, batch?: number) {
    super(`rows ${indices[0]} and ${indices[1]} have the same conflict key ${JSON.stringify(key)}`, {
      batch,
      index: indices[1],
      entity,
    });
    this.indices = indices;
    this.key = key;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
