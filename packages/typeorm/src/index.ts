/**
 * @cohort/typeorm — bulk writes for TypeORM on PostgreSQL that keep listeners, subscribers,
 * validation and generated keys.
 *
 * @example
 * ```ts
 * import { bulkInsert, withBulk } from '@cohort/typeorm';
 * await bulkInsert(dataSource, User, users);
 * await withBulk(dataSource.getRepository(User)).bulkSave(users);
 * ```
 */

export type {
  BulkEvent,
  BulkInput,
  BulkOptions,
  BulkProgress,
  BulkRemoveEvent,
  BulkResult,
  BulkSubscriber,
  BulkUpdateEvent,
  BulkUpsertEvent,
  DuplicateKeys,
  EntityCounts,
  EntityRemoveEvent,
  EntityUpdateEvent,
  FailureLocation,
  ForeignKeyUpdateEvent,
  GraphLocation,
  InsertOptions,
  ItemKey,
  OnConflict,
  OrphanRemoveEvent,
  RemoveOptions,
  RowChange,
  RowOutcome,
  SaveOptions,
  SkippedRow,
  SkipReason,
  UpdateOptions,
  UpsertOptions,
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
  DEFAULT_BATCH_SIZE,
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
export {
  type BulkRepository,
  type BulkRepositoryMethods,
  registerBulkRepository,
  withBulk,
} from './bulk-repository.js';
export { type TrackEntityChangesOptions, trackEntityChanges } from './entity-snapshots.js';
export type { TypeormBulkEvent, TypeormBulkSubscriber, TypeormBulkUpdateEvent } from './typeorm-lifecycle.js';
export { readTypeormEntity, readTypeormModel } from './typeorm-model-reader.js';
export type { TypeormSaveOptionNames, TypeormUpsertOptionNames } from './typeorm-options.js';
