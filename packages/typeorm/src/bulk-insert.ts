import { type BulkResult, type InsertOptions, runInsert } from '@cohort/core';
import { DataSource, EntityManager, type EntityTarget, type ObjectLiteral, Repository } from 'typeorm';
import { readTypeormModel } from './typeorm-model-reader.js';
import { typeormTransaction } from './typeorm-transaction.js';

/** Where cohort writes: a DataSource, an EntityManager (e.g. a transaction's) or a Repository. */
export type TypeormTarget = DataSource | EntityManager | Repository<ObjectLiteral>;

/** The manager to run on: a repository's manager carries its transaction's query runner. */
export function managerOf(target: TypeormTarget): EntityManager {
  if (target instanceof DataSource) return target.manager;
  if (target instanceof EntityManager) return target;
  if (target instanceof Repository) return target.manager;
  const t = target as { manager?: EntityManager };
  if (t.manager) return t.manager;
  throw new TypeError('cohort: target must be a TypeORM DataSource, EntityManager or Repository');
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
export function bulkInsert<E extends ObjectLiteral>(
  target: TypeormTarget,
  entity: EntityTarget<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options: InsertOptions = {},
): Promise<BulkResult<E>> {
  const manager = managerOf(target);
  const metadata = manager.connection.getMetadata(entity);
  const model = readTypeormModel<E>(manager.connection, metadata);
  return runInsert({ model, options, transaction: typeormTransaction<E>(manager, metadata, options.hooks !== false) }, entities);
}
