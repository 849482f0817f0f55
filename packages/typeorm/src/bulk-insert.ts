import {
  type BulkOperation,
  type BulkResult,
  BulkUsageError,
  type EntityModel,
  type InsertOptions,
  runInsert,
  runSave,
  runUpdate,
  runUpsert,
  type SaveOptions,
  type TransactionRunner,
  type UpdateOptions,
  type UpsertOptions,
} from '@cohort/core';
import { DataSource, EntityManager, type EntityTarget, type ObjectLiteral, Repository } from 'typeorm';
import { readTypeormModel } from './typeorm-model-reader.js';
import { type TypeormSaveOptionNames, type TypeormUpsertOptionNames, typeormCallOptions } from './typeorm-options.js';
import { typeormTransaction } from './typeorm-transaction.js';

/** Options of the TypeORM adapter's bulkInsert: cohort's, and save()'s own names (docs/guide.md, Options). */
export interface TypeormInsertOptions extends InsertOptions, TypeormSaveOptionNames {}
/** Options of the TypeORM adapter's bulkUpdate. */
export interface TypeormUpdateOptions extends UpdateOptions, TypeormSaveOptionNames {}
/** Options of the TypeORM adapter's bulkSave. */
export interface TypeormSaveOptions extends SaveOptions, TypeormSaveOptionNames {}
/** Options of the TypeORM adapter's bulkUpsert: cohort's, and save()'s and upsert()'s own names. */
export interface TypeormUpsertOptions extends UpsertOptions, TypeormSaveOptionNames, TypeormUpsertOptionNames {}

/** Where cohort writes: a DataSource, an EntityManager (e.g. a transaction's) or a Repository. */
export type TypeormTarget = DataSource | EntityManager | Repository<ObjectLiteral>;

/** The manager to run on: a repository's manager carries its transaction's query runner. */
export function managerOf(target: TypeormTarget): EntityManager {
  if (target instanceof DataSource) return target.manager;
  if (target instanceof EntityManager) return target;
  if (target instanceof Repository) return target.manager;
  const t = target as { manager?: EntityManager } | null | undefined;
  if (t?.manager) return t.manager;
  const given = target as unknown;
  const got =
    given === null ? 'null' : typeof given === 'object' ? ((given as object).constructor?.name ?? 'an object') : typeof given;
  throw new BulkUsageError(`the target must be a TypeORM DataSource, EntityManager or Repository, got ${got}`);
}

/**
 * Inserts entities in batches of one statement each, with TypeORM's listeners and subscribers run as
 * save() runs them, every row validated first, and generated keys and defaults put back on the objects.
 *
 * @example
 * ```ts
 * const result = await bulkInsert(dataSource, User, users, { batchSize: 5000 });
 * console.log(result.inserted, users[0].id);
 * ```
 */
export async function bulkInsert<E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options: TypeormInsertOptions = {},
): Promise<BulkResult<E>> {
  return runInsert(jobFor<E, InsertOptions>(target, entity, options, 'bulkInsert'), entities);
}

/**
 * Updates existing rows by primary key with one statement per batch, as save() would update them:
 * only the columns TypeORM sees as changed (per row), update listeners and subscribers with
 * save()'s UpdateEvent, update-date and version columns maintained — and versions checked.
 *
 * @example
 * ```ts
 * for (const user of users) user.score += 1;
 * const { updated, unchanged } = await bulkUpdate(dataSource, User, users);
 * ```
 */
export async function bulkUpdate<E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options: TypeormUpdateOptions = {},
): Promise<BulkResult<E>> {
  return runUpdate(jobFor<E, UpdateOptions>(target, entity, options, 'bulkUpdate'), entities);
}

/**
 * What save() does for a mix of new and existing entities, per batch: one look-up, one INSERT for
 * the new, one UPDATE for the changed, TypeORM's lifecycle around both.
 *
 * @example
 * ```ts
 * const result = await bulkSave(dataSource, User, [...newUsers, ...changedUsers]);
 * console.log(result.inserted, result.updated, result.unchanged);
 * ```
 */
export async function bulkSave<E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options: TypeormSaveOptions = {},
): Promise<BulkResult<E>> {
  return runSave(jobFor<E, SaveOptions>(target, entity, options, 'bulkSave'), entities);
}

/**
 * `INSERT … ON CONFLICT (target) DO UPDATE` in one statement per batch, that tells the truth per
 * row: `result.outcomes[i]` is `inserted`, `updated` or `skipped`; generated values go only onto rows
 * that were written; after-insert listeners run for inserted rows and after-update listeners for
 * updated ones (before the statement, TypeORM's before-insert listeners run, as for its upsert).
 *
 * @example
 * ```ts
 * const r = await bulkUpsert(dataSource, Product, products, { target: ['sku'] });
 * console.log(r.inserted, r.updated);
 * ```
 */
export async function bulkUpsert<E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options: TypeormUpsertOptions = {},
): Promise<BulkResult<E>> {
  const job = jobFor<E, UpsertOptions>(target, entity, options, 'bulkUpsert');
  // TypeORM's upsert() hands a transformer's to() the entity's own value (save() a copy: see TransformedValues).
  return runUpsert({ ...job, model: { ...job.model, prepare: undefined } }, entities);
}

function jobFor<E extends ObjectLiteral, O extends { hooks?: boolean }>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  given: unknown,
  operation: BulkOperation,
): { model: EntityModel<E>; options: O; transaction: TransactionRunner<E> } {
  const manager = managerOf(target);
  const metadata = manager.connection.getMetadata(entity);
  const model = readTypeormModel<E>(manager.connection, metadata);
  const inCallerTransaction = manager.queryRunner?.isTransactionActive === true;
  const { options, data } = typeormCallOptions<O>(operation, given, model as EntityModel<unknown>, inCallerTransaction);
  return { model, options, transaction: typeormTransaction<E>(manager, metadata, options.hooks !== false, data) };
}
