import type { BulkJob, HookBatch, InputBatch, LifecycleHooks, WriteTarget } from '../../adapter/contract.js';
import { BulkValidationError, OptimisticLockError, type ValidationFailure } from '../../errors/bulk-write-error.js';
import { convertDatabaseError } from '../../errors/pg-error-converter.js';
import { type BoundColumn, type BoundModel, bindModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { readTableCatalog, type TableCatalog } from '../../model/table-catalog.js';
import { compileDelete, DELETE_KEY, DELETE_ORDINAL, DELETE_REMOVED, type DeleteValues } from '../../sql/delete-statement.js';
import type { CompiledQuery } from '../../sql/insert-statement.js';
import { toPgText } from '../../sql/pg-text.js';
import { runBatches } from '../batches/run-batches.js';
import { keepRows, pickRows } from '../batches/skip-rows.js';
import type { StagedWork } from '../batches/staged-work.js';
import type { BulkResult, RemoveOptions, RunningResult } from '../options/bulk-options.js';
import { missingKeyFailure, rejectDuplicateKeys } from '../rows/row-keys.js';
import { prepareRows } from '../rows/row-preparation.js';

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
  return runBatches(input, job.options, job.transaction, removeStages(model, job.options, HARD_REMOVE as RemoveKind<E>));
}

/** What a remove and a soft remove do differently: their hooks, their statement, the objects afterwards. */
export interface RemoveKind<E> {
  before(hooks: LifecycleHooks<E>): ((batch: HookBatch<E>) => Promise<void>) | undefined;
  after(hooks: LifecycleHooks<E>): ((batch: HookBatch<E>) => Promise<void>) | undefined;
  /** The batch's statement; a row it returns has DELETE_REMOVED, and DELETE_ORDINAL or DELETE_KEY. */
  compile(table: TableCatalog, key: readonly string[], version: string | undefined, values: DeleteValues): CompiledQuery;
  /** Leaves a removed row's object as the ORM leaves it, from the row the statement returned. */
  removed(entity: E, row: Record<string, unknown>, target: WriteTarget<E>): void;
}

const HARD_REMOVE: RemoveKind<unknown> = {
  before: (hooks) => hooks.beforeRemove?.bind(hooks),
  after: (hooks) => hooks.afterRemove?.bind(hooks),
  compile: (table, key, version, values) => compileDelete({ table, key, version }, values),
  removed: (entity, _row, target) => target.changes?.removed?.(entity),
};

/** A batch's DELETE, built: the rows with a key, the statement's text and parameters. */
interface PlannedRemove<E> {
  readonly rows: InputBatch<E>;
  readonly keys: readonly string[];
  readonly keyTexts: (string | null)[][];
  readonly query?: CompiledQuery;
}

/** What the DELETE returned. */
interface SentRemove<E> {
  readonly planned: PlannedRemove<E>;
  readonly returned: Record<string, unknown>[];
}

/**
 * A remove's batch work in stages, batch by batch (no overlap: a batch's after-hooks run before the
 * next batch's before-hooks). An array is cut into batches in primary-key order, as for updates, so
 * concurrent calls lock rows in one order.
 */
export function removeStages<E>(
  model: BoundModel<E>,
  options: RemoveOptions,
  kind: RemoveKind<E>,
): StagedWork<E, PlannedRemove<E>, SentRemove<E>> {
  const hooks = options.hooks !== false;
  return {
    overlap: false,
    order: { columns: primaryColumns(model) },
    async prepare(batch, target, result) {
      const before = hooks ? kind.before(target.hooks) : undefined;
      if (before) await before(batch);
      return planRemove(model, options, kind, batch, target, result);
    },
    send: sendRemove,
    async finish(sent, target, result) {
      const done = applyRemove(sent, kind, target, result);
      const after = hooks ? kind.after(target.hooks) : undefined;
      if (after && done.entities.length > 0) await after(done);
    },
  };
}

/** The batch's DELETE, from the keys (and versions) its rows have after the before-hooks. */
async function planRemove<E>(
  model: BoundModel<E>,
  options: RemoveOptions,
  kind: RemoveKind<E>,
  batch: InputBatch<E>,
  target: WriteTarget<E>,
  result: RunningResult<E>,
): Promise<PlannedRemove<E>> {
  const keys = primaryColumns(model);
  // Keys are read after the before-hooks, as the ORMs compute the row's identifier after them.
  const prepared = prepareRows(model, batch.entities);
  const read = (column: BoundColumn<E>, entity: E) =>
    toPgText(column.read(entity, prepared.get(entity)), column.kind === 'timestamptz');
  const failures: ValidationFailure<E>[] = [];
  const kept = keepRows(batch, result, (entity, index) => {
    const key = keys.find((k) => read(k, entity) === null);
    if (!key) return undefined;
    const failure = missingKeyFailure(entity, index, key.property, 'remove');
    failures.push(failure);
    return { reason: 'invalid', failures: [failure] };
  });
  if (failures.length > 0 && options.onInvalid !== 'skip') throw new BulkValidationError(failures, batch.number);
  const rows = pickRows(batch, kept);
  const names = keys.map((k) => k.name);
  if (rows.entities.length === 0) return { rows, keys: names, keyTexts: [] };
  const version = options.checkVersion === false ? undefined : model.columns.find((c) => c.role === 'version');
  const keyTexts = keys.map((k) => rows.entities.map((entity) => read(k, entity)));
  rejectDuplicateKeys(keyTexts, rows);
  const catalog = await readTableCatalog(target.session, model as BoundModel<never>);
  const query = kind.compile(catalog, names, version?.name, {
    keys: keyTexts,
    expectedVersions: version ? rows.entities.map((entity) => read(version, entity)) : undefined,
  });
  return { rows, keys: names, keyTexts, query };
}

/** Sends the batch's DELETE; a database error names the row it is about. */
async function sendRemove<E>(planned: PlannedRemove<E>, target: WriteTarget<E>): Promise<SentRemove<E>> {
  const { rows, query } = planned;
  if (!query) return { planned, returned: [] };
  try {
    return { planned, returned: await target.session.query(query.sql, query.parameters) };
  } catch (error) {
    throw convertDatabaseError(
      error,
      { columns: [...planned.keys], values: planned.keyTexts, indices: rows.indices, entities: rows.entities },
      rows.number,
    );
  }
}

/** How a returned row names its row of the batch: by its ordinal, or by its key's text (DELETE_KEY). */
function rowPositions<E>(planned: PlannedRemove<E>, returned: readonly Record<string, unknown>[]) {
  if (returned.length === 0 || !(DELETE_KEY in (returned[0] as object))) {
    return (row: Record<string, unknown>) => Number(row[DELETE_ORDINAL]) - 1;
  }
  const byKey = new Map<unknown, number>();
  planned.keyTexts[0]?.forEach((text, position) => {
    byKey.set(text, position);
  });
  return (row: Record<string, unknown>) => {
    const position = byKey.get(row[DELETE_KEY]);
    if (position === undefined)
      throw new Error(`cohort internal error: the DELETE returned key ${String(row[DELETE_KEY])}, not in its batch`);
    return position;
  };
}

/**
 * Outcomes from the returned rows: a stale version fails the call naming every stale row; a row not
 * returned was already gone (`missing`). Returns the removed rows, for the after-hooks.
 */
function applyRemove<E>(
  { planned, returned }: SentRemove<E>,
  kind: RemoveKind<E>,
  target: WriteTarget<E>,
  result: RunningResult<E>,
): HookBatch<E> {
  const { rows } = planned;
  const removed = new Map<number, Record<string, unknown>>();
  const stale: number[] = [];
  const positionOf = rowPositions(planned, returned);
  for (const row of returned) {
    const position = positionOf(row);
    if (row[DELETE_REMOVED] === true) removed.set(position, row);
    else stale.push(position);
  }
  if (stale.length > 0) {
    stale.sort((a, b) => a - b);
    throw new OptimisticLockError(
      stale.map((p) => rows.indices[p] as number),
      stale.map((p) => rows.entities[p] as E),
      rows.number,
    );
  }
  const done: HookBatch<E> = { number: rows.number, entities: [], indices: [] };
  rows.entities.forEach((entity, position) => {
    const index = rows.indices[position] as number;
    const row = removed.get(position);
    if (!row) {
      result.skipped.push({ index, entity, reason: 'missing' });
      result.outcomes.set(index, 'skipped');
      return;
    }
    result.removed++;
    result.outcomes.set(index, 'removed');
    kind.removed(entity, row, target);
    done.entities.push(entity);
    done.indices.push(index);
  });
  return done;
}
