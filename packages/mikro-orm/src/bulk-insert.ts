import { type BulkResult, type InsertOptions, runInsert } from '@cohort/core';
import type { EntityManager, EntityName } from '@mikro-orm/core';
import { MikroOrmInsertContext } from './mikro-orm-insert-context.js';
import { readMikroOrmModel } from './mikro-orm-model-reader.js';
import { mikroOrmTransaction } from './mikro-orm-transaction.js';

/** Options of the MikroORM adapter's bulkInsert. */
export interface MikroOrmInsertOptions extends InsertOptions {
  /**
   * Register the inserted entities in the EntityManager's identity map, as flush does (default
   * `true`): a later `em.flush()` sends nothing for them, `em.findOne` returns the same instance and
   * a change becomes an UPDATE. `false` keeps them out of the unit of work (they still get their
   * keys and generated values), so a very large import does not hold every row and its snapshot in
   * memory until the EntityManager is cleared.
   */
  managed?: boolean;
  /** Schema to insert into when the entity does not declare one (default: the EntityManager's). */
  schema?: string;
}

/**
 * Inserts entities in batches of one statement each, with MikroORM's entity hooks and subscribers
 * run as `em.persist()` + `em.flush()` runs them, every row validated first, generated keys and
 * defaults put back on the objects, and the entities managed by the EntityManager afterwards.
 * Runs in the EntityManager's transaction when it is in one, else in its own.
 *
 * @example
 * ```ts
 * const result = await bulkInsert(em, User, users, { batchSize: 5000 });
 * console.log(result.inserted, users[0].id);
 * ```
 */
export function bulkInsert<E extends object>(
  em: EntityManager,
  entityName: EntityName<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options: MikroOrmInsertOptions = {},
): Promise<BulkResult<E>> {
  // The EntityManager flush would use: the request context's fork when `em` is the global one.
  const manager = em.getContext();
  const meta = manager.getMetadata().get(entityName);
  const schema =
    meta.root.schema && meta.root.schema !== '*'
      ? meta.root.schema
      : (options.schema ?? manager.schema ?? manager.config.getSchema());
  const context = new MikroOrmInsertContext(manager, schema, options.managed !== false);
  const model = readMikroOrmModel(meta, { platform: manager.getPlatform(), schema });
  const transaction = mikroOrmTransaction<E>(context, meta, options.hooks !== false);
  return runInsert({ model, options, transaction }, adopt(entities, context));
}

/** Tags each input entity with its call as it is pulled, so iterables stay streamed. */
function adopt<E extends object>(
  entities: Iterable<E> | AsyncIterable<E>,
  context: MikroOrmInsertContext,
): Iterable<E> | AsyncIterable<E> {
  if (Symbol.asyncIterator in entities) {
    return (async function* () {
      for await (const entity of entities) yield context.adopt(entity);
    })();
  }
  return (function* () {
    for (const entity of entities) yield context.adopt(entity);
  })();
}
