/**
 * @cohort/core/adapter — what an ORM adapter builds on: the contract it implements
 * (adapter/contract.ts), the entity model it describes tables with, the engine's runners, and the
 * helpers for the ORM's lifecycle, options and values. Users of an adapter import `@cohort/core`.
 *
 * @example
 * ```ts
 * import { defineBulkOperations } from '@cohort/core/adapter';
 * const operations = defineBulkOperations(jobFor); // jobFor: (target, entity, options, operation) => BulkJob
 * export const bulkInsert = operations.bulkInsert;
 * ```
 */

export { bulkEventOf, bulkSubscriberMethod } from '../engine/bulk-subscriber.js';
export { located } from '../engine/insert/cascade-inserts.js';
export { type EntityGraph, InsertedEntities } from '../engine/insert/inserted-entities.js';
export { inOuterCall } from '../engine/insert/outer-call-error.js';
export { runInsert } from '../engine/insert/run-insert.js';
export { isPromiseLike, NO_HOOKS, runForBatch, runForEach } from '../engine/lifecycle.js';
export type { BulkOperation, OptionCheck, OptionRule, OptionSpec } from '../engine/options/check-options.js';
export { adoptOption, checkOptions, keyNames, listedNames, optionRule } from '../engine/options/check-options.js';
export { runRemove } from '../engine/remove/run-remove.js';
export { runSoftRemove, type SoftRemoveJob } from '../engine/remove/run-soft-remove.js';
export { EntitySlot } from '../engine/rows/entity-slot.js';
export { runSave } from '../engine/save/run-save.js';
export { runUpdate } from '../engine/update/run-update.js';
export { resolveConflict } from '../engine/upsert/conflict-plan.js';
export { runUpsert } from '../engine/upsert/run-upsert.js';
export { connectionLoss } from '../errors/connection-loss.js';
export type {
  ColumnKind,
  ColumnModel,
  ColumnRole,
  EntityModel,
  ForeignKeyUpdate,
  GenerationStrategy,
  JunctionTable,
  OrphanRemoval,
  RelationWrite,
  UnwrittenRelation,
} from '../model/entity-model.js';
export { primaryColumns } from '../model/entity-model.js';
export type { CatalogColumn, TableCatalog } from '../model/table-catalog.js';
export { readTableCatalog } from '../model/table-catalog.js';
export type { ConflictAction } from '../sql/conflict-clause.js';
export type { DeleteStatement, DeleteValues } from '../sql/delete-statement.js';
export { compileDelete } from '../sql/delete-statement.js';
export { qualifiedTable, quoteIdent } from '../sql/identifier.js';
export type { CompiledQuery, InsertStatement } from '../sql/insert-statement.js';
export { compileInsert } from '../sql/insert-statement.js';
export { arrayLiteral, inIsoYears, toPgText, utcIsoText } from '../sql/pg-text.js';
export type { UpdateColumn, UpdateStatement } from '../sql/update-statement.js';
export { compileUpdate } from '../sql/update-statement.js';
export type { VersionStep } from '../sql/version-step.js';
export { checkColumnValue } from '../validate/column-rules.js';
export type {
  BulkJob,
  CascadeGroup,
  CascadeWrite,
  ChangedRelations,
  ChangeTracker,
  CopyCapableClient,
  EntityAccess,
  HookBatch,
  InputBatch,
  LifecycleHooks,
  LinkHookBatch,
  LinkRow,
  RelatedUpdateGroup,
  ReplacedWrite,
  RowChange,
  RowLinks,
  SelfReference,
  SqlSession,
  TransactionRunner,
  TreeUpdate,
  UpdateHookBatch,
  UpsertHookBatch,
  WriteTarget,
} from './contract.js';
export type { BulkOperations, JobFactory } from './define-operations.js';
export { defineBulkOperations } from './define-operations.js';
