import {
  type BulkResult,
  BulkUsageError,
  type InsertOptions,
  type RemoveOptions,
  type SaveOptions,
  type UpdateOptions,
  type UpsertOptions,
} from '@cohort/core';
import {
  type BulkJob,
  type BulkOperation,
  defineBulkOperations,
  type EntityAccess,
  runSoftRemove,
  type TransactionRunner,
} from '@cohort/core/adapter';
import { DataSource, EntityManager, type EntityTarget, type ObjectLiteral, type QueryRunner, Repository } from 'typeorm';
import type { SnapshotWrites } from './entity-snapshots.js';
import { CallRows } from './typeorm-call-rows.js';
import { cascades as walksCascades } from './typeorm-cascade-changes.js';
import { TypeormCascades } from './typeorm-cascades.js';
import { readTypeormEntity } from './typeorm-model-reader.js';
import { type TypeormSaveOptionNames, type TypeormUpsertOptionNames, typeormCallOptions } from './typeorm-options.js';
import { refuseCascadingRemove, softRemoveColumn } from './typeorm-remove-guard.js';
import type { RemovedKeys } from './typeorm-removed-keys.js';
import { typeormTransaction } from './typeorm-transaction.js';
import { refuseTreeTable } from './typeorm-tree-guard.js';

/** Options of the TypeORM adapter's bulkInsert: cohort's, and save()'s own names (docs/guide.md, Options). */
export interface TypeormInsertOptions extends InsertOptions, TypeormSaveOptionNames {}
/** Options of the TypeORM adapter's bulkUpdate. */
export interface TypeormUpdateOptions extends UpdateOptions, TypeormSaveOptionNames {}
/** Options of the TypeORM adapter's bulkSave. */
export interface TypeormSaveOptions extends SaveOptions, TypeormSaveOptionNames {}
/** Options of the TypeORM adapter's bulkUpsert: cohort's, and save()'s and upsert()'s own names. */
export interface TypeormUpsertOptions extends UpsertOptions, TypeormSaveOptionNames, TypeormUpsertOptionNames {}

/** Options of the TypeORM adapter's bulkRemove: cohort's, and remove()'s own names (`data`, `listeners`, `chunk`, `transaction`). */
export interface TypeormRemoveOptions extends RemoveOptions, TypeormSaveOptionNames {}

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

const operations = defineBulkOperations<TypeormTarget>(jobFor);

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
export const bulkInsert: <E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: TypeormInsertOptions,
) => Promise<BulkResult<E>> = operations.bulkInsert;

/**
 * Updates existing rows by primary key with one statement per batch, as save() would update them:
 * only the columns TypeORM sees as changed (per row), update listeners and subscribers with
 * save()'s UpdateEvent, update-date and version columns maintained — and versions checked. New
 * related entities the rows reach through relations that cascade inserts are inserted, as save() does.
 *
 * @example
 * ```ts
 * for (const user of users) user.score += 1;
 * const { updated, unchanged } = await bulkUpdate(dataSource, User, users);
 * ```
 */
export const bulkUpdate: <E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: TypeormUpdateOptions,
) => Promise<BulkResult<E>> = operations.bulkUpdate;

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
export const bulkSave: <E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: TypeormSaveOptions,
) => Promise<BulkResult<E>> = operations.bulkSave;

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
export const bulkUpsert: <E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: TypeormUpsertOptions,
) => Promise<BulkResult<E>> = operations.bulkUpsert;

/**
 * Removes entities by primary key with one DELETE per batch, as remove() removes them: the stored
 * rows loaded as remove() loads them (when a listener or subscriber will see them), `@BeforeRemove`/
 * `@AfterRemove` and subscribers' `beforeRemove`/`afterRemove` with remove()'s RemoveEvent, version
 * columns checked, and the removed objects' keys unset. Rows already gone are skipped as `missing`.
 * A relation that cascades removes is refused (UnsupportedFeatureError) before anything is sent.
 *
 * @example
 * ```ts
 * const { removed, skipped } = await bulkRemove(dataSource, User, users);
 * console.log(removed, users[0].id); // n, undefined
 * ```
 */
export const bulkRemove: <E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: TypeormRemoveOptions,
) => Promise<BulkResult<E>> = operations.bulkRemove;

/**
 * Soft-removes entities by primary key with one UPDATE per batch, as softRemove() soft-removes them:
 * the `@DeleteDateColumn` set to CURRENT_TIMESTAMP (and the update date, and the version incremented)
 * on rows not soft-removed yet, `@BeforeSoftRemove`/`@AfterSoftRemove` and subscribers'
 * `beforeSoftRemove`/`afterSoftRemove` with softRemove()'s SoftRemoveEvent, versions checked, and
 * the new values put on the objects (their keys stay). Rows gone or soft-removed already are skipped
 * as `missing`. An entity without a delete-date column, or a relation that cascades soft removes, is
 * refused (UnsupportedFeatureError) before anything is sent.
 *
 * @example
 * ```ts
 * const { removed } = await bulkSoftRemove(dataSource, User, users);
 * console.log(removed, users[0].deletedAt); // n, a Date
 * ```
 */
export async function bulkSoftRemove<E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options: TypeormRemoveOptions = {},
): Promise<BulkResult<E>> {
  const metadata = managerOf(target).connection.getMetadata(entity);
  const deleteDate = softRemoveColumn(metadata);
  const job = jobFor<E, RemoveOptions>(target, entity, options, 'bulkSoftRemove');
  return runSoftRemove({ ...job, deleteDate }, entities);
}

function jobFor<E, O extends { hooks?: boolean }>(
  target: TypeormTarget,
  entity: unknown,
  given: unknown,
  operation: BulkOperation,
  entities?: unknown,
): BulkJob<E, O> {
  const manager = managerOf(target);
  const metadata = manager.connection.getMetadata(entity as EntityTarget<ObjectLiteral>);
  if (operation === 'bulkRemove') refuseCascadingRemove(metadata);
  else if (operation !== 'bulkSoftRemove') refuseTreeTable(metadata, operation);
  const { model, access, upsertAccess } = readTypeormEntity<ObjectLiteral>(manager.connection, metadata);
  const inCallerTransaction = manager.queryRunner?.isTransactionActive === true;
  const { options, data } = typeormCallOptions<O>(operation, given, model, inCallerTransaction);
  // Inserts, saves and updates write the new related entities save() would insert with their rows,
  // and those that the changed stored entities they reach hold (cascade update: the call's graph).
  const cascades =
    (operation === 'bulkInsert' || operation === 'bulkSave' || operation === 'bulkUpdate') && walksCascades(metadata)
      ? new TypeormCascades(manager.connection, metadata, options.hooks !== false, entities)
      : undefined;
  const written: EntityAccess<ObjectLiteral> = cascades
    ? { ...cascades.withGraph(access), cascades: (batch) => cascades.find(batch) }
    : operation === 'bulkUpsert'
      ? upsertAccess
      : access;
  const bind = cascades
    ? (qr: QueryRunner, writes: SnapshotWrites | undefined, rollBack: RemovedKeys) => {
        cascades.queryRunner = qr;
        cascades.writes = writes;
        cascades.rollBack = rollBack;
      }
    : undefined;
  return {
    model,
    access: written as EntityAccess<E>,
    options,
    transaction: typeormTransaction<E & ObjectLiteral>(
      manager,
      metadata,
      options.hooks !== false,
      data,
      bind,
      cascades?.graph,
      cascades && new CallRows(entities),
    ) as TransactionRunner<E>,
  };
}
