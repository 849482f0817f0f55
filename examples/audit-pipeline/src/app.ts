import type { BulkResult } from '@cohort/core';

export interface ProductData {
  sku: string;
  price: string;
}

/** What the pipeline does with each ORM's app: the same calls, each ORM's own entities. */
export interface App {
  insert(data: ProductData[], batchSize: number): Promise<{ id: number; price: string }[]>;
  update(products: { id: number; price: string }[], batchSize: number): Promise<BulkResult<unknown>>;
  upsert(data: ProductData[], batchSize: number): Promise<BulkResult<unknown>>;
  remove(products: { id: number; price: string }[], batchSize: number): Promise<BulkResult<unknown>>;
  /** A bulkInsert in a transaction that then throws. */
  inRolledBackTransaction(data: ProductData[]): Promise<unknown>;
  close(): Promise<void>;
}
