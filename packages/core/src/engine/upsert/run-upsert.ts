import type { BulkJob } from '../../adapter/contract.js';
import { bindModel } from '../../model/bound-model.js';
import { runBatches } from '../batches/run-batches.js';
import { insertStages } from '../insert/run-insert.js';
import type { BulkResult, InsertOptions, UpsertOptions } from '../options/bulk-options.js';

/** Everything the engine needs to upsert entities of one model. */
export type UpsertJob<E> = BulkJob<E, UpsertOptions>;

/**
 * Upserts `input` batch by batch: one `INSERT … ON CONFLICT (target) DO UPDATE` per batch, rows
 * written in conflict-key order, each row's outcome (inserted, updated, skipped) reported and
 * followed by the matching after-hooks.
 */
export function runUpsert<E>(job: UpsertJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const { target, update, where, expressions, duplicates, skipUnchanged, ...rest } = job.options;
  const onConflict = { target, update, where, expressions, skipUnchanged, action: 'update' as const };
  const options: InsertOptions = { ...rest, duplicates, onConflict };
  return runBatches(input, options, job.transaction, insertStages(bindModel(job.model, job.access), options));
}
