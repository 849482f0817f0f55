import type { BulkResult, InsertOptions, UpsertOptions } from '@cohort/core';
import type { CustomerFields } from './customer-fields.js';

/** What the import needs of an ORM: an entity from a line's fields, and cohort's insert and upsert. */
export interface OrmSide<E extends object> {
  create(fields: CustomerFields): E;
  insert(rows: AsyncIterable<E>, options: InsertOptions): Promise<BulkResult<E>>;
  upsert(rows: AsyncIterable<E>, options: UpsertOptions): Promise<BulkResult<E>>;
  close(): Promise<void>;
}
