/**
 * @cohort/core — the batching engine behind cohort's ORM adapters. It knows PostgreSQL and no ORM:
 * adapters describe an entity's table ({@link EntityModel}), run the ORM's lifecycle
 * ({@link LifecycleHooks}) and give it a session on the caller's transaction ({@link SqlSession}).
 *
 * @example
 * ```ts
 * const result = await runInsert({ model, options: {}, transaction }, entities);
 * console.log(result.inserted, result.skipped);
 * ```
 */

export type { CopyCapableClient, SqlSession } from './adapter/sql-session.js';
export type { InputBatch } from './engine/batches.js';
export type {
  BulkOptions,
  BulkProgress,
  BulkResult,
  DuplicateKeys,
  InsertOptions,
  OnConflict,
  RowOutcome,
  SaveOptions,
  SkippedRow,
  SkipReason,
  UpdateOptions,
  UpsertOptions,
} from './engine/bulk-options.js';
export { DEFAULT_BATCH_SIZE } from './engine/bulk-options.js';
export type { BulkEvent, BulkSubscriber, BulkUpdateEvent, BulkUpsertEvent } from './engine/bulk-subscriber.js';
export { bulkEventOf, bulkSubscriberMethod } from './engine/bulk-subscriber.js';
export type { BulkOperation, OptionCheck, OptionRule, OptionSpec } from './engine/check-options.js';
export { adoptOption, checkOptions, keyNames, listedNames, optionRule } from './engine/check-options.js';
export { resolveConflict } from './engine/conflict-plan.js';
export { EntitySlot } from './engine/entity-slot.js';
export type { InsertJob, UpsertJob } from './engine/insert-pipeline.js';
export { runInsert, runUpsert } from './engine/insert-pipeline.js';
export type { HookBatch, LifecycleHooks, RowChange, UpdateHookBatch, UpsertHookBatch } from './engine/lifecycle.js';
export { isPromiseLike, NO_HOOKS, runForBatch, runForEach } from './engine/lifecycle.js';
export { PartialImportError } from './engine/run-batches.js';
export type { SaveJob } from './engine/save-pipeline.js';
export { runSave } from './engine/save-pipeline.js';
export type { UpdateJob } from './engine/update-pipeline.js';
export { runUpdate } from './engine/update-pipeline.js';
export type { BulkJob, ChangeTracker, TransactionRunner, WriteTarget } from './engine/write-target.js';
export type { FailureLocation, ValidationFailure } from './errors/bulk-write-error.js';
export {
  BulkHookError,
  BulkValidationError,
  BulkWriteError,
  DuplicateKeyInBatchError,
  OptimisticLockError,
} from './errors/bulk-write-error.js';
export { ConnectionLostError, connectionLoss } from './errors/connection-loss.js';
export {
  BulkDatabaseError,
  CheckViolationError,
  ForeignKeyViolationError,
  NotNullViolationError,
  TransientDatabaseError,
  UniqueViolationError,
} from './errors/database-errors.js';
export { BulkUsageError, UnsupportedFeatureError } from './errors/usage-errors.js';
export type {
  ColumnKind,
  ColumnModel,
  ColumnRole,
  EntityModel,
  GenerationStrategy,
  RelationWrite,
  UnwrittenRelation,
} from './model/entity-model.js';
export { primaryColumns } from './model/entity-model.js';
export type { CatalogColumn, TableCatalog } from './model/table-catalog.js';
export { readTableCatalog } from './model/table-catalog.js';
export { qualifiedTable, quoteIdent } from './sql/identifier.js';
export type { CompiledQuery, ConflictAction, InsertStatement } from './sql/insert-statement.js';
export { compileInsert } from './sql/insert-statement.js';
export { arrayLiteral, inIsoYears, toPgText, utcIsoText } from './sql/pg-text.js';
export type { UpdateColumn, UpdateStatement } from './sql/update-statement.js';
export { compileUpdate } from './sql/update-statement.js';
export type { VersionStep } from './sql/version-step.js';
export { checkColumnValue } from './validate/column-rules.js';
