import type { ValidationFailure } from '../../errors/bulk-write-error.js';
import { RowOutcomes } from './row-outcomes.js';

/**
 * Progress of a call, reported after each batch and, once the call's own transaction has committed,
 * once more with every written row `committed` (docs/guide.md, "Progress").
 *
 * @example
 * ```ts
 * onProgress: (p) => console.log(`${p.processed}/${p.total ?? '?'} rows, ${Math.round(p.rate)}/s, ${p.committed} committed`)
 * ```
 */
export interface BulkProgress {
  /** Batches done so far, counting from 1: the batch just done is batch `batch` of `batches`. */
  batch: number;
  /** Batches in the call, when the input is an array; `undefined` for other iterables and streams. */
  batches: number | undefined;
  /** Input rows in the call, when the input is an array; `undefined` for other iterables and streams. */
  total: number | undefined;
  /** Input rows of the batches done: written, skipped, or found unchanged. */
  processed: number;
  /** Rows written (inserted, updated, removed) whose transaction has committed: they stay whatever happens next. */
  committed: number;
  /** Rows written in the open transaction and not committed yet: a later failure rolls them back. */
  pending: number;
  /** Input rows of the batches done that were not written (`result.skipped`). */
  skipped: number;
  /** Rows processed per second since the call started. */
  rate: number;
  /** Milliseconds left at this rate, when `total` is known. */
  eta: number | undefined;
  elapsedMs: number;
}

/** Options every operation accepts. */
/** Entities a bulk call takes: an array or any (async) iterable, read batch by batch. */
export type BulkInput<E> = Iterable<E> | AsyncIterable<E>;

export interface BulkOptions {
  /** Rows per batch: each batch is one statement per operation. Default 10,000. */
  batchSize?: number;
  /** Run listeners, entity hooks and subscribers (default true), like `save(…, { listeners })`. */
  hooks?: boolean;
  /** Validate rows before sending them (default true). */
  validate?: boolean;
  /** What to do with invalid rows: `'error'` (default) writes nothing; `'skip'` writes the valid ones. */
  onInvalid?: 'error' | 'skip';
  /**
   * `true` (default): the whole call is one transaction (the caller's when one is open).
   * `false`: each batch commits on its own; a failure reports which batches landed, so an import can
   * resume. Ignored inside a caller's transaction.
   */
  atomic?: boolean;
  /** Called after every batch, and once more after the call's own transaction commits (see {@link BulkProgress}). */
  onProgress?: (progress: BulkProgress) => void;
  /**
   * How rows travel: `'unnest'` (array parameters), `'copy'` (COPY, when the adapter can reach the
   * transaction's connection; else unnest), or `'auto'` (default: COPY for large plain inserts).
   */
  strategy?: 'auto' | 'unnest' | 'copy';
  /**
   * `true`: the next batch's before-hooks and validation run while this batch's statement is in
   * flight, so hooks run before(1), before(2), after(1), before(3)… `false`: each batch's after-hooks
   * run before the next batch's before-hooks. Default: `true` for arrays and other sync iterables,
   * `false` for async iterables (a stream holds one batch at a time). Models that reference themselves
   * (a parent in an earlier batch) never overlap; bulkSave and `atomic: false` run batch by batch.
   */
  pipeline?: boolean;
}

/** The conflict behaviour of inserts. */
export type OnConflict =
  | 'error'
  | 'ignore'
  | {
      /** Conflict target: column names or property names of a unique key, or `{ constraint }`. */
      target?: readonly string[];
      /** `'ignore'` skips conflicting rows; `'update'` (default) updates them. */
      action?: 'ignore' | 'update';
      /** Properties (or columns) to update on conflict; default: every column the ORM would write. */
      update?: readonly string[];
      /** SQL condition over `t` (the existing row) and `excluded`; rows where it is false are skipped. */
      where?: string;
      /** Per-column SQL for the update, by property or column: `{current}` stored, `{value}` proposed. */
      expressions?: Readonly<Record<string, string>>;
      /** With `action: 'update'`: rows the update would leave as they are are not rewritten (see {@link UpsertOptions.skipUnchanged}). */
      skipUnchanged?: boolean;
    };

/** What to do with rows of one batch that share a conflict key (PostgreSQL cannot upsert both). */
export type DuplicateKeys = 'error' | 'keepFirst' | 'keepLast';

/** Options of bulkInsert. */
export interface InsertOptions extends BulkOptions {
  /** Default `'error'`. `'ignore'` skips conflicting rows and lists them in the result. */
  onConflict?: OnConflict;
  /**
   * Rows of one batch with the same conflict key: `'error'` (default) fails naming both rows before
   * anything is sent; `'keepFirst'`/`'keepLast'` write one and report the others as skipped.
   */
  duplicates?: DuplicateKeys;
}

/** Options of bulkUpsert: `INSERT … ON CONFLICT (target) DO UPDATE`. */
export interface UpsertOptions extends BulkOptions {
  /** Conflict target, as properties or columns. Default: the entity's first unique constraint, else its primary key. */
  target?: readonly string[];
  /** Properties (or columns) updated on conflict. Default: every column the ORM writes except keys and create-dates. */
  update?: readonly string[];
  /** SQL condition over `t` (stored row) and `excluded` (proposed row); where false the row is skipped. */
  where?: string;
  /** Per-column SQL for the update: `{current}` is the stored value, `{value}` the proposed one. */
  expressions?: Readonly<Record<string, string>>;
  /** Rows of one batch with the same key: `'error'` (default), `'keepFirst'` or `'keepLast'`. */
  duplicates?: DuplicateKeys;
  /**
   * A row whose stored values already equal every value the update would write is not rewritten
   * (`… DO UPDATE … WHERE` one of them `IS DISTINCT FROM` the stored one): its outcome is
   * `'unchanged'`, no after-update hook runs and nothing comes back onto its object. Version and
   * update-date columns do not count as values. TypeORM's `skipUpdateIfNoValuesChanged`. Not with `where`.
   */
  skipUnchanged?: boolean;
}

/** Options of bulkUpdate and bulkSave. */
export interface UpdateOptions extends BulkOptions {
  /**
   * Per-column SQL evaluated by PostgreSQL against the current row, by property (or column) name:
   * `{current}` is the stored value, `{value}` this entity's value (cast to the column type). The
   * column is written on every row and the resulting value comes back onto the object.
   * @example `{ balance: '{current} + {value}' }` adds each entity's `balance` to the stored balance.
   */
  expressions?: Readonly<Record<string, string>>;
  /**
   * Check version columns (default true): a row whose stored version differs from the entity's is
   * stale, and the call fails with an OptimisticLockError.
   */
  checkVersion?: boolean;
}

/** Options of bulkRemove. */
export interface RemoveOptions extends BulkOptions {
  /**
   * Check version columns (default true): a row whose stored version differs from the entity's is
   * stale, and the call fails with an OptimisticLockError naming every stale row of the batch.
   */
  checkVersion?: boolean;
}

/** Options of bulkSave: an insert's options for the new rows, an update's for the existing ones. */
export interface SaveOptions extends UpdateOptions, Omit<InsertOptions, keyof BulkOptions> {}

/** Why a row was not written. */
export type SkipReason = 'conflict' | 'invalid' | 'condition' | 'missing' | 'duplicate';

/** An input row that was not written. */
export interface SkippedRow<E> {
  index: number;
  entity: E;
  reason: SkipReason;
  /** For `invalid`: what was wrong. */
  failures?: ValidationFailure<E>[];
}

/** What happened to one input row. */
export type RowOutcome = 'inserted' | 'updated' | 'unchanged' | 'removed' | 'skipped';

/** What a call did. */
export interface BulkResult<E> {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Rows bulkRemove deleted (rows already gone are `skipped` as `missing`). */
  removed: number;
  /** Every input row that was not written, with the reason. */
  skipped: SkippedRow<E>[];
  /** Outcome per input row, by input index. */
  outcomes: RowOutcome[];
  batches: number;
  /** Statements sent for the data (inserts, updates, look-ups), excluding transaction control. */
  statements: number;
  ms: number;
  /**
   * Rows written per entity class, when the call inserted related entities with its rows (cascade):
   * the given class's (as `inserted`/`updated` above, plus the related entities of that class the
   * call updated with them) and each related class's.
   */
  byEntity?: Record<string, EntityCounts>;
}

/** What a call wrote of one entity class. */
export interface EntityCounts {
  inserted: number;
  updated: number;
}

export const DEFAULT_BATCH_SIZE = 10_000;

/** The result while a call runs: as {@link BulkResult}, with the outcomes kept one byte per row. */
export interface RunningResult<E> extends Omit<BulkResult<E>, 'outcomes'> {
  readonly outcomes: RowOutcomes;
}

export function emptyResult<E>(): RunningResult<E> {
  return {
    inserted: 0,
    updated: 0,
    unchanged: 0,
    removed: 0,
    skipped: [],
    outcomes: new RowOutcomes(),
    batches: 0,
    statements: 0,
    ms: 0,
  };
}
