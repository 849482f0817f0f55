import type { BulkResult } from '@cohort/core';
import { EntityRepository } from '@mikro-orm/core';
import {
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
} from './bulk-insert.js';

/**
 * An EntityRepository with cohort's bulk methods. Set it for every entity with the `entityRepository`
 * option, or for one with `@Entity({ repository: () => BulkEntityRepository })` plus
 * `[EntityRepositoryType]?: BulkEntityRepository<Entity>` for typing. Repositories obtained from a
 * fork or inside `em.transactional()` run on that EntityManager and its transaction.
 *
 * @example
 * ```ts
 * const orm = await MikroORM.init({ ..., entityRepository: BulkEntityRepository });
 * await em.getRepository(User).bulkInsert(users);
 * await em.getRepository(User).bulkSave([...newUsers, ...changedUsers]);
 *
 * @Entity({ repository: () => BulkEntityRepository })
 * class User { [EntityRepositoryType]?: BulkEntityRepository<User>; ... }
 * ```
 */
export class BulkEntityRepository<Entity extends object> extends EntityRepository<Entity> {
  /**
   * Inserts entities with one statement per batch, keeping entity hooks, subscribers, validation,
   * generated keys and the identity map as `em.persist()` + `em.flush()` would.
   */
  bulkInsert(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: MikroOrmInsertOptions): Promise<BulkResult<Entity>> {
    return bulkInsert(this.getEntityManager(), this.entityName, entities, options);
  }

  /** Updates existing rows, changed columns only, one statement per batch. See {@link bulkUpdate}. */
  bulkUpdate(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: MikroOrmUpdateOptions): Promise<BulkResult<Entity>> {
    return bulkUpdate(this.getEntityManager(), this.entityName, entities, options);
  }

  /** Inserts the new and updates the changed, like persist + flush, one statement each per batch. See {@link bulkSave}. */
  bulkSave(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: MikroOrmSaveOptions): Promise<BulkResult<Entity>> {
    return bulkSave(this.getEntityManager(), this.entityName, entities, options);
  }

  /** INSERT … ON CONFLICT DO UPDATE with a per-row outcome. See {@link bulkUpsert}. */
  bulkUpsert(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: MikroOrmUpsertOptions): Promise<BulkResult<Entity>> {
    return bulkUpsert(this.getEntityManager(), this.entityName, entities, options);
  }

  /** Removes the entities' rows, one DELETE per batch, as remove + flush. See {@link bulkRemove}. */
  bulkRemove(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: MikroOrmRemoveOptions): Promise<BulkResult<Entity>> {
    return bulkRemove(this.getEntityManager(), this.entityName, entities, options);
  }
}
