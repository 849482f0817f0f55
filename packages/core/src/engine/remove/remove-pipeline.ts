import type { BulkJob, HookBatch, InputBatch, WriteTarget } from '../../adapter/contract.js';
import {
  BulkValidationError,
  DuplicateKeyInBatchError,
  OptimisticLockError,
  type ValidationFailure,
} from '../../errors/bulk-write-error.js';
import { convertDatabaseError } from '../../errors/pg-error-converter.js';
import { type BoundColumn, type BoundModel, bindModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { readTableCatalog } from '../../model/table-catalog.js';
import { compileDelete, DELETE_ORDINAL, DELETE_REMOVED, type DeleteStatement } from '../../sql/delete-statement.js';
import { toPgText } from '../../sql/pg-text.js';
import type { BulkResult, RemoveOptions } from '../bulk-options.js';
import { prepareRows } from '../row-preparation.js';
import { runBatches } from '../run-batches.js';
import { keepRows, pickRows } from '../skip-rows.js';

/** Everything the engine needs to remove entities of one model. */
export type RemoveJob<E> = BulkJob<E, RemoveOptions>;

/**
 * Removes `input` batch by batch, as the ORM's own remove does per entity: before-remove hooks, one
 * DELETE per batch matched by primary key (versions checked), the objects left as the ORM leaves
 * removed ones ({@link ChangeTracker.removed}), after-remove hooks for the rows removed. Rows already
 * gone are skipped as `missing`; a stale row fails the call with an OptimisticLockError.
 */
export function runRemove<E>(job: RemoveJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  const model = bindModel(job.model, job.access);
  const options = job.options;
  return runBatches(input, options, job.transaction, (batch, target, result) =>
    removeBatch(model, options, batch, target, result),
  );
}

async function removeBatch<E>(
  model: BoundModel<E>,
  options: RemoveOptions,
  batch: InputBatch<E>,
  target: WriteTarget<E>,
  result: BulkResult<E>,
): Promise<void> {
  const hooks = options.hooks !== false;
  if (hooks && target.hooks.beforeRemove) await target.hooks.beforeRemove(batch);
  // Keys are read after the before-hooks, as the ORMs compute the row's identifier after them.
  const keys = primaryColumns(model);
  const prepared = prepareRows(model, batch.entities);
  const read = (column: BoundColumn<E>, entity: E) =>
    toPgText(column.read(entity, prepared.get(entity)), column.kind === 'timestamptz');
  const failures: ValidationFailure<E>[] = [];
  const kept = keepRows(batch, result, (entity, index) => {
    const key = keys.find((k) => read(k, entity) === null);
    if (!key) return undefined;
    const failure = keyFailure(entity, index, key.property);
    failures.push(failure);
    return { reason: 'invalid', failures: [failure] };
  });
  if (failures.length > 0 && options.onInvalid !== 'skip') throw new BulkValidationError(failures, batch.number);
  const rows = pickRows(batch, kept);
  if (rows.entities.length === 0) return;

  const version = options.checkVersion === false ? undefined : model.columns.find((c) => c.role === 'version');
  const keyTexts = keys.map((k) => rows.entities.map((entity) => read(k, entity)));
  rejectDuplicateKeys(keyTexts, rows);
  const catalog = await readTableCatalog(target.session, model as BoundModel<never>);
  const stmt: DeleteStatement = { table: catalog, key: keys.map((k) => k.name), version: version?.name };
  const { sql, parameters } = compileDelete(stmt, {
    keys: keyTexts,
    expectedVersions: version ? rows.entities.map((entity) => read(version, entity)) : undefined,
  });
  let returned: Record<string, unknown>[];
  try {
    returned = await target.session.query(sql, parameters);
  } catch (error) {
    throw convertDatabaseError(
      error,
      { columns: [...stmt.key], values: keyTexts, indices: rows.indices, entities: rows.entities },
      batch.number,
    );
  }

  const removed = new Set<number>();
  const stale: number[] = [];
  for (const row of returned) {
    const position = Number(row[DELETE_ORDINAL]) - 1;
    if (row[DELETE_REMOVED] === true) removed.add(position);
    else stale.push(position);
  }
  if (stale.length > 0) {
    stale.sort((a, b) => a - b);
    throw new OptimisticLockError(
      stale.map((p) => rows.indices[p] as number),
      stale.map((p) => rows.entities[p] as E),
      batch.number,
    );
  }
  const done: HookBatch<E> = { number: batch.number, entities: [], indices: [] };
  rows.entities.forEach((entity, position) => {
    const index = rows.indices[position] as number;
    if (!removed.has(position)) {
      result.skipped.push({ index, entity, reason: 'missing' });
      result.outcomes[index] = 'skipped';
      return;
    }
    result.removed++;
    result.outcomes[index] = 'removed';
    target.changes?.removed?.(entity);
    done.entities.push(entity);
    done.indices.push(index);
  });
  if (hooks && done.entities.length > 0 && target.hooks.afterRemove) await target.hooks.afterRemove(done);
}

/** A row bulkRemove cannot match: its key (`property`) has no value. */
function keyFailure<E>(entity: E, index: number, property: string): ValidationFailure<E> {
  return {
    index,
    entity,
    property,
    value: (entity as Record<string, unknown>)[property],
    constraint: 'required',
    message: `an entity to remove needs its primary key; ${property} is not set`,
  };
}

/** Two objects of one batch with one key: the ORM would remove the row once and report both. */
function rejectDuplicateKeys<E>(keyTexts: (string | null)[][], batch: InputBatch<E>): void {
  const seen = new Map<string, number>();
  for (let row = 0; row < batch.entities.length; row++) {
    const key = JSON.stringify(keyTexts.map((k) => k[row]));
    const first = seen.get(key);
    if (first !== undefined) {
      throw new DuplicateKeyInBatchError(
        [batch.indices[first] as number, batch.indices[row] as number],
        { key: keyTexts.map((k) => k[row]) },
        batch.entities[row] as E,
        batch.number,
      );
    }
    seen.set(key, row);
  }
}
