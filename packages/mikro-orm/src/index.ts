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
 * // with `entityRepository: BulkEntityRepository` and `[EntityRepositoryType]?: BulkEntityRepository<User>`:
 * await em.getRepository(User).bulkInsert(users);
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
  BulkEntityRepository,
  type BulkRepositoryMethods,
  type BulkRepositoryMixinMethods,
  type EntityOf,
  withBulkMethods,
} from './bulk-entity-repository.js';
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
