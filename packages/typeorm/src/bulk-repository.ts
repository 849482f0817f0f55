import { type BulkResult, BulkUsageError } from '@cohort/core';
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

declare module 'typeorm' {
  interface Repository<Entity extends ObjectLiteral> {
    /**
     * Inserts entities with one statement per batch, keeping listeners, subscribers, validation and
     * generated keys. Available after {@link registerBulkRepository}.
     */
    bulkInsert(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: InsertOptions): Promise<BulkResult<Entity>>;
    /** Updates existing rows, changed columns only, one statement per batch. See {@link bulkUpdate}. */
    bulkUpdate(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: UpdateOptions): Promise<BulkResult<Entity>>;
    /** Inserts the new and updates the changed, like save(), one statement each per batch. See {@link bulkSave}. */
    bulkSave(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: SaveOptions): Promise<BulkResult<Entity>>;
    /** INSERT … ON CONFLICT DO UPDATE with a per-row outcome. See {@link bulkUpsert}. */
    bulkUpsert(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: UpsertOptions): Promise<BulkResult<Entity>>;
    /** Removes the entities' rows, one DELETE per batch, with remove()'s lifecycle. See {@link bulkRemove}. */
    bulkRemove(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: RemoveOptions): Promise<BulkResult<Entity>>;
    /** Sets the entities' delete date, one UPDATE per batch, with softRemove()'s lifecycle. See {@link bulkSoftRemove}. */
    bulkSoftRemove(entities: Iterable<Entity> | AsyncIterable<Entity>, options?: RemoveOptions): Promise<BulkResult<Entity>>;
  }
}

const methods = {
  bulkInsert<E extends ObjectLiteral>(this: Repository<E>, entities: Iterable<E> | AsyncIterable<E>, options?: InsertOptions) {
    return bulkInsert(this.manager, this.target, entities, options);
  },
  bulkUpdate<E extends ObjectLiteral>(this: Repository<E>, entities: Iterable<E> | AsyncIterable<E>, options?: UpdateOptions) {
    return bulkUpdate(this.manager, this.target, entities, options);
  },
  bulkSave<E extends ObjectLiteral>(this: Repository<E>, entities: Iterable<E> | AsyncIterable<E>, options?: SaveOptions) {
    return bulkSave(this.manager, this.target, entities, options);
  },
  bulkUpsert<E extends ObjectLiteral>(this: Repository<E>, entities: Iterable<E> | AsyncIterable<E>, options?: UpsertOptions) {
    return bulkUpsert(this.manager, this.target, entities, options);
  },
  bulkRemove<E extends ObjectLiteral>(this: Repository<E>, entities: Iterable<E> | AsyncIterable<E>, options?: RemoveOptions) {
    return bulkRemove(this.manager, this.target, entities, options);
  },
  bulkSoftRemove<E extends ObjectLiteral>(
    this: Repository<E>,
    entities: Iterable<E> | AsyncIterable<E>,
    options?: RemoveOptions,
  ) {
    return bulkSoftRemove(this.manager, this.target, entities, options);
  },
};

let registered = false;

/**
 * Adds cohort's methods (`bulkInsert`…) to every TypeORM Repository, including those obtained inside
 * a transaction (`manager.getRepository`, `withRepository`). Nothing is changed until this is called;
 * call the returned function to remove them again.
 *
 * @example
 * ```ts
 * registerBulkRepository();
 * await dataSource.getRepository(User).bulkInsert(users);
 * ```
 */
export function registerBulkRepository(): () => void {
  const proto = Repository.prototype as unknown as Record<string, unknown>;
  if (!registered) {
    for (const [name, fn] of Object.entries(methods)) {
      if (name in proto && proto[name] !== fn) {
        throw new BulkUsageError(
          `Repository.prototype.${name} already exists (defined by another library): cohort will not replace it`,
        );
      }
      Object.defineProperty(proto, name, { value: fn, configurable: true, writable: true, enumerable: false });
    }
    registered = true;
  }
  return () => {
    for (const name of Object.keys(methods)) delete proto[name];
    registered = false;
  };
}
