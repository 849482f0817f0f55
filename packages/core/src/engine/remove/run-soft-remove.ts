import type { WriteTarget } from '../../adapter/contract.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import { type BoundColumn, type BoundModel, bindModel } from '../../model/bound-model.js';
import { compileSoftDelete, softDeleteReturned } from '../../sql/soft-delete-statement.js';
import { runBatches } from '../batches/run-batches.js';
import type { BulkResult } from '../options/bulk-options.js';
import { type RemoveJob, type RemoveKind, removeStages } from './run-remove.js';

/** Everything the engine needs to soft-remove entities of one model: a remove's job and the delete-date column. */
export interface SoftRemoveJob<E> extends RemoveJob<E> {
  /** Database name of the column a soft remove sets (the ORM's delete-date column). */
  readonly deleteDate: string;
}

/**
 * Soft-removes `input` batch by batch, as the ORM's own soft remove does per entity: before-soft-remove
 * hooks, one UPDATE per batch matched by primary key that sets the delete-date column (and the
 * update-date, and increments the version) of the rows not soft-removed yet, the new values put back on
 * the objects, after-soft-remove hooks for the rows soft-removed. The stages are a remove's
 * ({@link runRemove}): versions checked, rows gone (or soft-removed already) skipped as `missing`.
 */
export function runSoftRemove<E>(job: SoftRemoveJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const model = bindModel(job.model, job.access);
  return runBatches(input, job.options, job.transaction, removeStages(model, job.options, softRemoveKind(model, job.deleteDate)));
}

/** A soft remove's hooks, statement and objects afterwards. */
function softRemoveKind<E>(model: BoundModel<E>, deleteDate: string): RemoveKind<E> {
  const role = (r: string) => model.columns.find((c) => c.role === r);
  const updateDate = role('updateDate');
  const version = role('version');
  const returned: BoundColumn<E>[] = [];
  const named = model.columns.find((c) => c.name === deleteDate);
  if (!named) {
    throw new UnsupportedFeatureError('soft remove', `soft remove of ${model.name}: no column "${deleteDate}"`, {
      entityName: model.name,
    });
  }
  for (const column of [named, updateDate, version]) if (column) returned.push(column);
  return {
    before: (hooks) => hooks.beforeSoftRemove?.bind(hooks),
    after: (hooks) => hooks.afterSoftRemove?.bind(hooks),
    compile: (table, key, checked, values) =>
      compileSoftDelete(
        {
          table,
          key,
          version: checked,
          deleteDate,
          updateDate: updateDate?.name,
          bumpVersion: version?.name,
          returning: returned.map((c) => c.name),
        },
        values,
      ),
    removed(entity: E, row: Record<string, unknown>, target: WriteTarget<E>) {
      returned.forEach((column, i) => {
        column.write(entity, row[softDeleteReturned(i)]);
      });
      target.changes?.updated?.(entity);
    },
  };
}
