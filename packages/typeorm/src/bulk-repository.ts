import { type BulkInput, type BulkResult, BulkUsageError } from '@cohort/core';
import { type ObjectLiteral, Repository } from 'typeorm';
import {
  bulkInsert,
  bulkRemove,
  bulkSave,
  bulkSoftRemove,
  bulkUpdate,
  bulkUpsert,
  type TypeormInsertOptions as InsertOptions,
  type TypeormRemoveOptions as RemoveOptions,
  type TypeormSaveOptions as SaveOptions,
  type TypeormUpdateOptions as UpdateOptions,
  type TypeormUpsertOptions as UpsertOptions,
} from './bulk-insert.js';

/** cohort's methods on a TypeORM repository. They run on the repository's manager, so in its transaction. */
export interface BulkRepositoryMethods<Entity extends ObjectLiteral> {
  /**
   * Inserts entities with one statement per batch, keeping listeners, subscribers, validation and
   * generated keys. See {@link bulkInsert}.
   */
  bulkInsert(entities: BulkInput<Entity>, options?: InsertOptions): Promise<BulkResult<Entity>>;
  /** Updates existing rows, changed columns only, one statement per batch. See {@link bulkUpdate}. */
  bulkUpdate(entities: BulkInput<Entity>, options?: UpdateOptions): Promise<BulkResult<Entity>>;
  /** Inserts the new and updates the changed, like save(), one statement each per batch. See {@link bulkSave}. */
  bulkSave(entities: BulkInput<Entity>, options?: SaveOptions): Promise<BulkResult<Entity>>;
  /** INSERT … ON CONFLICT DO UPDATE with a per-row outcome. See {@link bulkUpsert}. */
  bulkUpsert(entities: BulkInput<Entity>, options?: UpsertOptions): Promise<BulkResult<Entity>>;
  /** Removes the entities' rows, one DELETE per batch, with remove()'s lifecycle. See {@link bulkRemove}. */
  bulkRemove(entities: BulkInput<Entity>, options?: RemoveOptions): Promise<BulkResult<Entity>>;
  /** Sets the entities' delete date, one UPDATE per batch, with softRemove()'s lifecycle. See {@link bulkSoftRemove}. */
  bulkSoftRemove(entities: BulkInput<Entity>, options?: RemoveOptions): Promise<BulkResult<Entity>>;
}

/** A TypeORM Repository with cohort's bulk methods, as {@link withBulk} returns it. */
export type BulkRepository<Entity extends ObjectLiteral> = Repository<Entity> & BulkRepositoryMethods<Entity>;

// Marks cohort's methods, so a second copy of this module (hot reload, two installed versions)
// recognises them on the prototype instead of taking them for another library's.
const cohortMethod = Symbol.for('@cohort/typeorm.bulkMethod');
// How many registrations are live per prototype, shared by every copy of this module.
const registrationsKey = Symbol.for('@cohort/typeorm.registrations');

function marked<F extends Function>(fn: F): F {
  return Object.defineProperty(fn, cohortMethod, { value: true });
}

const methods: BulkRepositoryMethods<ObjectLiteral> & ThisType<Repository<ObjectLiteral>> = {
  bulkInsert: marked(function (this: Repository<ObjectLiteral>, entities, options) {
    return bulkInsert(this.manager, this.target, entities, options);
  }),
  bulkUpdate: marked(function (this: Repository<ObjectLiteral>, entities, options) {
    return bulkUpdate(this.manager, this.target, entities, options);
  }),
  bulkSave: marked(function (this: Repository<ObjectLiteral>, entities, options) {
    return bulkSave(this.manager, this.target, entities, options);
  }),
  bulkUpsert: marked(function (this: Repository<ObjectLiteral>, entities, options) {
    return bulkUpsert(this.manager, this.target, entities, options);
  }),
  bulkRemove: marked(function (this: Repository<ObjectLiteral>, entities, options) {
    return bulkRemove(this.manager, this.target, entities, options);
  }),
  bulkSoftRemove: marked(function (this: Repository<ObjectLiteral>, entities, options) {
    return bulkSoftRemove(this.manager, this.target, entities, options);
  }),
};

/**
 * The repository with cohort's bulk methods, typed: a new Repository on the same entity, manager and
 * query runner (TypeORM's `extend()`), so it runs in the same transaction, and
 * `manager.withRepository()` keeps the methods. Changes nothing global.
 *
 * @example
 * ```ts
 * const users = withBulk(dataSource.getRepository(User));
 * await users.bulkSave([...newUsers, ...changedUsers]);
 * await dataSource.transaction((m) => m.withRepository(users).bulkUpsert(rows, { target: ['email'] }));
 * ```
 */
export function withBulk<Entity extends ObjectLiteral>(repository: Repository<Entity>): BulkRepository<Entity> {
  if (typeof (repository as { extend?: unknown } | undefined)?.extend !== 'function') {
    throw new BulkUsageError('withBulk() takes a TypeORM Repository');
  }
  if (hasBulkMethods(repository)) return repository as BulkRepository<Entity>;
  return repository.extend(methods as BulkRepositoryMethods<Entity>);
}

function hasBulkMethods(repository: Repository<ObjectLiteral>): boolean {
  return Object.keys(methods).every((name) => isCohortMethod((repository as unknown as Record<string, unknown>)[name]));
}

function isCohortMethod(value: unknown): boolean {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[cohortMethod] === true;
}

function registrations(): Map<object, number> {
  const store = globalThis as unknown as Record<symbol, Map<object, number> | undefined>;
  store[registrationsKey] ??= new Map();
  return store[registrationsKey];
}

/**
 * Adds cohort's methods (`bulkInsert`…) to every TypeORM Repository at run time, including those
 * obtained inside a transaction (`manager.getRepository`, `withRepository`). Their types come with
 * `import '@cohort/typeorm/register'`, which calls this; prefer {@link withBulk}, which needs neither.
 * Idempotent, also across two copies of this package; the returned function undoes this call's
 * registration (the methods go when no registration is left).
 *
 * @example
 * ```ts
 * import '@cohort/typeorm/register';
 * await dataSource.getRepository(User).bulkInsert(users);
 * ```
 */
export function registerBulkRepository(): () => void {
  const proto = Repository.prototype as unknown as Record<string, unknown>;
  for (const name of Object.keys(methods)) {
    if (name in proto && !isCohortMethod(proto[name])) {
      throw new BulkUsageError(
        `Repository.prototype.${name} already exists (defined by another library): cohort will not replace it`,
      );
    }
  }
  for (const [name, fn] of Object.entries(methods)) {
    if (!(name in proto))
      Object.defineProperty(proto, name, { value: fn, configurable: true, writable: true, enumerable: false });
  }
  const live = registrations();
  live.set(proto, (live.get(proto) ?? 0) + 1);
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    const left = (live.get(proto) ?? 1) - 1;
    live.set(proto, left);
    if (left > 0) return;
    for (const name of Object.keys(methods)) if (isCohortMethod(proto[name])) delete proto[name];
  };
}
