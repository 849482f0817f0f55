import { runInsert } from '../engine/insert/run-insert.js';
import type {
  BulkInput,
  BulkOptions,
  BulkResult,
  InsertOptions,
  RemoveOptions,
  SaveOptions,
  UpdateOptions,
  UpsertOptions,
} from '../engine/options/bulk-options.js';
import type { BulkOperation } from '../engine/options/check-options.js';
import { runRemove } from '../engine/remove/run-remove.js';
import { runSave } from '../engine/save/run-save.js';
import { runUpdate } from '../engine/update/run-update.js';
import { runUpsert } from '../engine/upsert/run-upsert.js';
import type { BulkJob } from './contract.js';

/**
 * What an adapter writes once: from a call's arguments (where to write, which entity, the options
 * as the user gave them, which operation), the job the engine runs — the entity's model, the
 * checked options, the entities' access and the transaction.
 */
export type JobFactory<T> = <E, O extends BulkOptions>(
  target: T,
  entity: unknown,
  options: unknown,
  operation: BulkOperation,
  entities: BulkInput<E>,
) => BulkJob<E, O>;

/** The bulk operations of an adapter, routed to the engine. Adapters export them with their ORM's types. */
export interface BulkOperations<T> {
  bulkInsert<E>(target: T, entity: unknown, entities: BulkInput<E>, options?: InsertOptions): Promise<BulkResult<E>>;
  bulkUpdate<E>(target: T, entity: unknown, entities: BulkInput<E>, options?: UpdateOptions): Promise<BulkResult<E>>;
  bulkSave<E>(target: T, entity: unknown, entities: BulkInput<E>, options?: SaveOptions): Promise<BulkResult<E>>;
  bulkUpsert<E>(target: T, entity: unknown, entities: BulkInput<E>, options?: UpsertOptions): Promise<BulkResult<E>>;
  bulkRemove<E>(target: T, entity: unknown, entities: BulkInput<E>, options?: RemoveOptions): Promise<BulkResult<E>>;
}

/**
 * Defines an adapter's bulk operations from its {@link JobFactory}: each builds the job for its
 * operation and hands it to the engine's runner. They are async functions: a refusal while the job
 * is built (a bad option) is a rejected promise, as every other error of the call.
 *
 * @example
 * ```ts
 * const operations = defineBulkOperations<DataSource>(jobFor);
 * export const bulkInsert: <E extends object>(ds: DataSource, entity: EntityTarget<E>, entities: Iterable<E>,
 *   options?: InsertOptions) => Promise<BulkResult<E>> = operations.bulkInsert;
 * ```
 */
export function defineBulkOperations<T>(jobFor: JobFactory<T>): BulkOperations<T> {
  return {
    async bulkInsert<E>(target: T, entity: unknown, entities: BulkInput<E>, options: InsertOptions = {}) {
      return runInsert(jobFor<E, InsertOptions>(target, entity, options, 'bulkInsert', entities), entities);
    },
    async bulkUpdate<E>(target: T, entity: unknown, entities: BulkInput<E>, options: UpdateOptions = {}) {
      return runUpdate(jobFor<E, UpdateOptions>(target, entity, options, 'bulkUpdate', entities), entities);
    },
    async bulkSave<E>(target: T, entity: unknown, entities: BulkInput<E>, options: SaveOptions = {}) {
      return runSave(jobFor<E, SaveOptions>(target, entity, options, 'bulkSave', entities), entities);
    },
    async bulkUpsert<E>(target: T, entity: unknown, entities: BulkInput<E>, options: UpsertOptions = {}) {
      return runUpsert(jobFor<E, UpsertOptions>(target, entity, options, 'bulkUpsert', entities), entities);
    },
    async bulkRemove<E>(target: T, entity: unknown, entities: BulkInput<E>, options: RemoveOptions = {}) {
      return runRemove(jobFor<E, RemoveOptions>(target, entity, options, 'bulkRemove', entities), entities);
    },
  };
}
