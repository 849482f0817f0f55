/**
 * @cohort/core — the batching engine behind cohort's ORM adapters. This entry point is for users of
 * an adapter: the options and results of the bulk operations, the batch-subscriber events and the
 * error classes. What adapters build on (the contract, the engine's runners) is `@cohort/core/adapter`.
 *
 * @example
 * ```ts
 * import { BulkValidationError } from '@cohort/core';
 * try {
 *   await bulkInsert(dataSource, User, users);
 * } catch (error) {
 *   if (error instanceof BulkValidationError) console.log(error.failures);
 * }
 * ```
 */

export type { RowChange } from './adapter/contract.js';
export type {
  BulkEvent,
  BulkRemoveEvent,
  BulkSubscriber,
  BulkUpdateEvent,
  BulkUpsertEvent,
  EntityRemoveEvent,
  EntityUpdateEvent,
  ForeignKeyUpdateEvent,
  ItemKey,
  OrphanRemoveEvent,
} from './engine/bulk-subscriber.js';
export type {
  BulkInput,
  BulkOptions,
  BulkProgress,
  BulkResult,
  DuplicateKeys,
  EntityCounts,
  InsertOptions,
  OnConflict,
  RemoveOptions,
  RowOutcome,
  SaveOptions,
  SkippedRow,
  SkipReason,
  UpdateOptions,
  UpsertOptions,
} from './engine/options/bulk-options.js';
export { DEFAULT_BATCH_SIZE } from './engine/options/bulk-options.js';
export type { FailureLocation, GraphLocation, ValidationFailure } from './errors/bulk-write-error.js';
export {
  BulkHookError,
  BulkValidationError,
  BulkWriteError,
  DuplicateKeyInBatchError,
  OptimisticLockError,
} from './errors/bulk-write-error.js';
export { ConnectionLostError } from './errors/connection-loss.js';
export {
  BulkDatabaseError,
  CheckViolationError,
  ForeignKeyViolationError,
  NotNullViolationError,
  TransientDatabaseError,
  UniqueViolationError,
} from './errors/database-errors.js';
export { PartialImportError } from './errors/partial-import-error.js';
export { BulkUsageError, UnsupportedFeatureError } from './errors/usage-errors.js';
