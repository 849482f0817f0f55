import type { BulkResult } from '@cohort/core';
import { EntityRepository } from '@mikro-orm/core';
import { bulkInsert, type MikroOrmInsertOptions } from './bulk-insert.js';

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
}
