/**
 * @cohort/mikro-orm — bulk writes for MikroORM on PostgreSQL that keep entity hooks, subscribers,
 * validation, generated keys and the identity map.
 *
 * @example
 * ```ts
 * import { bulkInsert, BulkEntityRepository } from '@cohort/mikro-orm';
 * await bulkInsert(em, User, users);
 * await bulkSave(em, User, [...newUsers, ...changedUsers]);
 * await bulkUpsert(em, Product, products, { target: ['sku'] });
 * // with `entityRepository: BulkEntityRepository` in MikroORM.init():
 * await em.getRepository(User).bulkInsert(users);
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
  RowChange,
  RowOutcome,
  SaveOptions,
  SkippedRow,
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
  DuplicateKeyInBatchError,
  ForeignKeyViolationError,
  NotNullViolationError,
  OptimisticLockError,
  PartialImportError,
  TransientDatabaseError,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '@cohort/core';
export { BulkEntityRepository } from './bulk-entity-repository.js';
export {
  bulkInsert,
  bulkRemove,
  bulkSave,
  bulkUpdate,
  bulkUpsert,
  type MikroOrmInsertOptions,
  type MikroOrmRemoveOptions,
  type MikroOrmSaveOptions,
  type MikroOrmUpdateOptions,
  type MikroOrmUpsertOptions,
  STREAM_BATCH_SIZE,
} from './bulk-insert.js';
export type { MikroOrmBulkEvent, MikroOrmBulkSubscriber } from './mikro-orm-lifecycle.js';
export { readMikroOrmModel } from './mikro-orm-model-reader.js';
export type { MikroOrmUpsertOptionNames } from './mikro-orm-options.js';
