import type { BulkInput, BulkResult } from '@cohort/core';
import { EntityRepository as CoreEntityRepository, type EntityName } from '@mikro-orm/core';
import { EntityRepository } from '@mikro-orm/postgresql';
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

/** cohort's methods on a MikroORM repository, as {@link BulkEntityRepository} and {@link withBulkMethods} add them. */
export interface BulkRepositoryMethods<Entity extends object> {
  /**
   * Inserts entities with one statement per batch, keeping entity hooks, subscribers, validation,
   * generated keys and the identity map as `em.persist()` + `em.flush()` would. See {@link bulkInsert}.
   */
  bulkInsert(entities: BulkInput<Entity>, options?: MikroOrmInsertOptions): Promise<BulkResult<Entity>>;
  /** Updates existing rows, changed columns only, one statement per batch. See {@link bulkUpdate}. */
  bulkUpdate(entities: BulkInput<Entity>, options?: MikroOrmUpdateOptions): Promise<BulkResult<Entity>>;
  /** Inserts the new and updates the changed, like persist + flush, one statement each per batch. See {@link bulkSave}. */
  bulkSave(entities: BulkInput<Entity>, options?: MikroOrmSaveOptions): Promise<BulkResult<Entity>>;
  /** INSERT … ON CONFLICT DO UPDATE with a per-row outcome. See {@link bulkUpsert}. */
  bulkUpsert(entities: BulkInput<Entity>, options?: MikroOrmUpsertOptions): Promise<BulkResult<Entity>>;
  /** Removes the entities' rows, one DELETE per batch, as remove + flush. See {@link bulkRemove}. */
  bulkRemove(entities: BulkInput<Entity>, options?: MikroOrmRemoveOptions): Promise<BulkResult<Entity>>;
}

/**
 * The entity of a repository type, read from `getReference()`'s last overload (which returns the
 * entity): matching `EntityRepository<infer E>` structurally fails on a subclass.
 */
// any arguments, only the return type matters
export type EntityOf<Repository> = Repository extends { getReference(...args: any[]): infer Entity extends object }
  ? Entity
  : never;

/**
 * The bulk methods as {@link withBulkMethods} adds them: typed from the repository they are called
 * on, so that declaring the class does not need the entity's type (which names the class in
 * `[EntityRepositoryType]`: a cycle TypeScript refuses).
 */
// `any` admits every entity's repository (EntityRepository is invariant)
export interface BulkRepositoryMixinMethods {
  bulkInsert<R extends CoreEntityRepository<any>>(
    this: R,
    entities: BulkInput<EntityOf<R>>,
    options?: MikroOrmInsertOptions,
  ): Promise<BulkResult<EntityOf<R>>>;
  bulkUpdate<R extends CoreEntityRepository<any>>(
    this: R,
    entities: BulkInput<EntityOf<R>>,
    options?: MikroOrmUpdateOptions,
  ): Promise<BulkResult<EntityOf<R>>>;
  bulkSave<R extends CoreEntityRepository<any>>(
    this: R,
    entities: BulkInput<EntityOf<R>>,
    options?: MikroOrmSaveOptions,
  ): Promise<BulkResult<EntityOf<R>>>;
  bulkUpsert<R extends CoreEntityRepository<any>>(
    this: R,
    entities: BulkInput<EntityOf<R>>,
    options?: MikroOrmUpsertOptions,
  ): Promise<BulkResult<EntityOf<R>>>;
  bulkRemove<R extends CoreEntityRepository<any>>(
    this: R,
    entities: BulkInput<EntityOf<R>>,
    options?: MikroOrmRemoveOptions,
  ): Promise<BulkResult<EntityOf<R>>>;
}

// a mixin's base constructor must take `any[]` (TypeScript's rule for mixins)
type Constructor = new (...args: any[]) => object;

/** The repository's entity name; `entityName` is protected in MikroORM, the bulk methods need it. */
function target(repository: object): EntityName<object> {
  return (repository as unknown as { entityName: EntityName<object> }).entityName;
}
function manager(repository: object) {
  return (repository as CoreEntityRepository<object>).getEntityManager();
}

/**
 * Adds cohort's bulk methods to a repository class of your own (one that extends MikroORM's
 * `EntityRepository`, from `@mikro-orm/postgresql` to keep `createQueryBuilder`). The methods run on
 * the repository's EntityManager, so on its fork or transaction.
 *
 * @example
 * ```ts
 * class UserRepository extends withBulkMethods(EntityRepository<User>) {
 *   findActive() { return this.createQueryBuilder('u').where({ active: true }).getResult(); }
 * }
 * @Entity({ repository: () => UserRepository })
 * class User { [EntityRepositoryType]?: UserRepository; ... }
 * ```
 */
export function withBulkMethods<Base extends Constructor>(
  base: Base,
): Base & (new (...args: any[]) => BulkRepositoryMixinMethods) {
  class WithBulkMethods extends base {
    bulkInsert(entities: BulkInput<object>, options?: MikroOrmInsertOptions) {
      return bulkInsert(manager(this), target(this), entities, options);
    }
    bulkUpdate(entities: BulkInput<object>, options?: MikroOrmUpdateOptions) {
      return bulkUpdate(manager(this), target(this), entities, options);
    }
    bulkSave(entities: BulkInput<object>, options?: MikroOrmSaveOptions) {
      return bulkSave(manager(this), target(this), entities, options);
    }
    bulkUpsert(entities: BulkInput<object>, options?: MikroOrmUpsertOptions) {
      return bulkUpsert(manager(this), target(this), entities, options);
    }
    bulkRemove(entities: BulkInput<object>, options?: MikroOrmRemoveOptions) {
      return bulkRemove(manager(this), target(this), entities, options);
    }
  }
  return WithBulkMethods as unknown as Base & (new (...args: unknown[]) => BulkRepositoryMixinMethods);
}

/**
 * MikroORM's SQL `EntityRepository` (so `createQueryBuilder()` and `qb()` stay) with cohort's bulk
 * methods. Register it for every entity with the `entityRepository` option, or for one with
 * `@Entity({ repository: () => BulkEntityRepository })`; either way, TypeScript learns the methods from
 * one line on the entity: `[EntityRepositoryType]?: BulkEntityRepository<User>`. Repositories obtained
 * from a fork or inside `em.transactional()` run on that EntityManager and its transaction.
 *
 * @example
 * ```ts
 * const orm = await MikroORM.init({ ..., entityRepository: BulkEntityRepository });
 * @Entity()
 * class User { [EntityRepositoryType]?: BulkEntityRepository<User>; ... }
 * await em.getRepository(User).bulkSave([...newUsers, ...changedUsers]);
 * ```
 */
export class BulkEntityRepository<Entity extends object>
  extends EntityRepository<Entity>
  implements BulkRepositoryMethods<Entity>
{
  bulkInsert(entities: BulkInput<Entity>, options?: MikroOrmInsertOptions): Promise<BulkResult<Entity>> {
    return bulkInsert(this.getEntityManager(), this.entityName, entities, options);
  }

  bulkUpdate(entities: BulkInput<Entity>, options?: MikroOrmUpdateOptions): Promise<BulkResult<Entity>> {
    return bulkUpdate(this.getEntityManager(), this.entityName, entities, options);
  }

  bulkSave(entities: BulkInput<Entity>, options?: MikroOrmSaveOptions): Promise<BulkResult<Entity>> {
    return bulkSave(this.getEntityManager(), this.entityName, entities, options);
  }

  bulkUpsert(entities: BulkInput<Entity>, options?: MikroOrmUpsertOptions): Promise<BulkResult<Entity>> {
    return bulkUpsert(this.getEntityManager(), this.entityName, entities, options);
  }

  bulkRemove(entities: BulkInput<Entity>, options?: MikroOrmRemoveOptions): Promise<BulkResult<Entity>> {
    return bulkRemove(this.getEntityManager(), this.entityName, entities, options);
  }
}
