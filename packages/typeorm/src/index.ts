/**
 * @cohort/typeorm — bulk writes for TypeORM on PostgreSQL that keep listeners, subscribers,
 * validation and generated keys.
 *
 * @example
 * ```ts
 * import { bulkInsert, registerBulkRepository } from '@cohort/typeorm';
 * await bulkInsert(dataSource, User, users);
 * registerBulkRepository();
 * await dataSource.getRepository(User).bulkInsert(users);
 * ```
 */

export type {
  BulkOptions,
  BulkProgress,
  BulkResult,
  BulkSubscriber,
  InsertOptions,
  OnConflict,
  RemoveOptions,
  RowOutcome,
  SkippedRow,
  ValidationFailure,
} from '@cohort/core';
export {
  BulkDatabaseError,
  BulkHookError,
  BulkUsageError,
  BulkValidationError,
  BulkWriteError,
  CheckViolationError,
  ConnectionLostError,
  DuplicateKeyInBatchError,
  ForeignKeyViolationError,
  NotNullViolationError,
  OptimisticLockError,
  PartialImportError,
  TransientDatabaseError,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '@cohort/core';
export {
  bulkInsert,
  bulkRemove,
  bulkSave,
  bulkSoftRemove,
  bulkUpdate,
  bulkUpsert,
  type TypeormInsertOptions,
  type TypeormRemoveOptions,
  type TypeormSaveOptions,
  type TypeormTarget,
  type TypeormUpdateOptions,
  type TypeormUpsertOptions,
} from './bulk-insert.js';
export { registerBulkRepository } from './bulk-repository.js';
export { type TrackEntityChangesOptions, trackEntityChanges } from './entity-snapshots.js';
export type { TypeormBulkEvent, TypeormBulkSubscriber, TypeormBulkUpdateEvent } from './typeorm-lifecycle.js';
export { readTypeormEntity, readTypeormModel } from './typeorm-model-reader.js';
export type { TypeormSaveOptionNames, TypeormUpsertOptionNames } from './typeorm-options.js';
