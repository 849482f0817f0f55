import {
  BulkValidationError,
  DuplicateKeyInBatchError,
  OptimisticLockError,
  type ValidationFailure,
} from '../errors/bulk-write-error.js';
import { convertDatabaseError } from '../errors/pg-error-converter.js';
import { type ColumnModel, type EntityModel, primaryColumns } from '../model/entity-model.js';
import { readTableCatalog } from '../model/table-catalog.js';
import { toPgText } from '../sql/pg-text.js';
import {
  compileUpdate,
  UPDATE_MATCHED,
  UPDATE_MATCHED_COUNT,
  UPDATE_ORDINAL,
  type UpdateColumn,
  type UpdateStatement,
  type UpdateValues,
  updateStageColumns,
} from '../sql/update-statement.js';
import { columnFailures } from '../validate/batch-validator.js';
import type { InputBatch } from './batches.js';
import type { BulkResult, UpdateOptions } from './bulk-options.js';
import { columnName } from './conflict-plan.js';
import { copyClientFor, copyIntoStage, dropStage } from './copy-insert.js';
import { afterDispatch } from './copy-runner.js';
import type { RowChange, UpdateHookBatch } from './lifecycle.js';
import { conversionFailures, prepareRows } from './row-preparation.js';
import { runBatches } from './run-batches.js';
import { failuresByIndex, keepRows, pickRows } from './skip-rows.js';
import type { StagedWork } from './staged-batches.js';
import type { BulkJob, ChangeTracker, WriteTarget } from './write-target.js';

/** Everything the engine needs to update entities of one model. */
export type UpdateJob<E> = BulkJob<E, UpdateOptions>;

/**
 * Updates `input` batch by batch: rows matched by primary key, only changed columns written per row,
 * versions checked, one `UPDATE … FROM unnest(…)` per batch. Rows without changes send nothing and
 * get no hooks (`unchanged`); rows not in the database are skipped as `missing`.
 */
export function runUpdate<E>(job: UpdateJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  return runBatches(input, job.options, job.transaction, updateStages(job.model, job.options));
}

/** An update's batch work in stages (see {@link StagedWork}). */
export function updateStages<E>(model: EntityModel<E>, options: UpdateOptions): StagedWork<E, PlannedUpdate<E>, SentUpdate<E>> {
  const keysOf = batchKeys<E>();
  return {
    overlap: options.pipeline !== false && !model.refersToItself,
    // A row given twice is diffed against what the earlier batch wrote, as batch by batch (a batch
    // holding an entity of the batch in flight waits anyway: see runBatches).
    waitFor: (next, inFlight, target) => sharesKeys(keysOf(next, target.changes), keysOf(inFlight, target.changes)),
    // A tracker that looks rows up by key sends the next batch's look-up ahead of this batch's UPDATE.
    preload: (batch, target) => (target.changes?.keyOf ? target.changes.load(batch) : undefined),
    async prepare(batch, target, result, preloaded) {
      const tracker = trackerOf(target);
      const loaded = ((await preloaded) as (unknown | undefined)[] | undefined) ?? (await tracker.load(batch));
      const existing: InputBatch<E> = { number: batch.number, entities: [], indices: [] };
      const states: unknown[] = [];
      batch.entities.forEach((entity, position) => {
        const index = batch.indices[position] as number;
        const state = loaded[position];
        if (state === undefined) {
          result.skipped.push({ index, entity, reason: 'missing' });
          result.outcomes[index] = 'skipped';
          return;
        }
        existing.entities.push(entity);
        existing.indices.push(index);
        states.push(state);
      });
      const plan = planChanges(model, options, existing, states, tracker, result);
      await beforeUpdatePhase(model, options, plan, target);
      const prepared = prepareRows(model, plan.changed.entities);
      const valid = await validateUpdatePhase(model, options, plan.changed, prepared, result);
      return planUpdate(model, options, valid, prepared, target);
    },
    send: (planned, target, onSent) => sendUpdate(options, planned, target, onSent),
    async finish(sent, target, result) {
      applyUpdate(sent, target, result);
      await afterUpdatePhase(options, sent.planned.changed, target);
    },
  };
}

/**
 * The row keys of a batch, for trackers that know keys (undefined otherwise), worked out once: a
 * batch is checked as the next one, then as the one in flight.
 */
function batchKeys<E>(): (batch: InputBatch<E>, tracker: ChangeTracker<E> | undefined) => ReadonlySet<string> | undefined {
  const known = new WeakMap<InputBatch<E>, Set<string>>();
  return (batch, tracker) => {
    const keyOf = tracker?.keyOf?.bind(tracker);
    if (!keyOf) return undefined;
    let keys = known.get(batch);
    if (!keys) {
      keys = new Set();
      for (const entity of batch.entities) {
        const key = keyOf(entity);
        if (key !== undefined) keys.add(key);
      }
      known.set(batch, keys);
    }
    return keys;
  };
}

/** Whether two batches hold the same row (by key). */
function sharesKeys(next: ReadonlySet<string> | undefined, inFlight: ReadonlySet<string> | undefined): boolean {
  if (!next || !inFlight) return false;
  for (const key of next) if (inFlight.has(key)) return true;
  return false;
}

export function trackerOf<E>(target: WriteTarget<E>): ChangeTracker<E> {
  if (!target.changes) throw new Error('cohort: this adapter does not support updates');
  return target.changes;
}

/** Changed rows of a batch, with what they were loaded from. */
export interface ChangePlan<E> {
  changed: UpdateHookBatch<E> & { changes: RowChange[] };
  states: unknown[];
  tracker: ChangeTracker<E>;
}

/** Diffs every existing row; rows without changes are counted as unchanged and leave the plan. */
export function planChanges<E>(
  model: EntityModel<E>,
  options: UpdateOptions,
  existing: InputBatch<E>,
  states: unknown[],
  tracker: ChangeTracker<E>,
  result: BulkResult<E>,
): ChangePlan<E> {
  const forced = expressionColumns(model, options);
  const changed: ChangePlan<E>['changed'] = { number: existing.number, entities: [], indices: [], changes: [] };
  const keptStates: unknown[] = [];
  existing.entities.forEach((entity, position) => {
    const change = withForced(tracker.diff(entity, states[position]), forced);
    const index = existing.indices[position] as number;
    if ((change.columns ?? []).length === 0) {
      result.unchanged++;
      result.outcomes[index] = 'unchanged';
      return;
    }
    changed.entities.push(entity);
    changed.indices.push(index);
    changed.changes.push(change);
    keptStates.push(states[position]);
  });
  return { changed, states: keptStates, tracker };
}

/** Before-update hooks for the changed rows, then a new diff: what a hook changes is written too. */
export async function beforeUpdatePhase<E>(
  model: EntityModel<E>,
  options: UpdateOptions,
  plan: ChangePlan<E>,
  target: WriteTarget<E>,
) {
  if (options.hooks === false || plan.changed.entities.length === 0 || !target.hooks.beforeUpdate) return;
  // As the ORMs do: only when some hook ran can a row have changed since it was diffed.
  if ((await target.hooks.beforeUpdate(plan.changed)) === false) return;
  const forced = expressionColumns(model, options);
  plan.changed.entities.forEach((entity, position) => {
    plan.changed.changes[position] = withForced(plan.tracker.diff(entity, plan.states[position]), forced);
  });
}

/** Validates the changed columns of each changed row (unchanged values were valid when stored). */
export async function validateUpdatePhase<E>(
  model: EntityModel<E>,
  options: UpdateOptions,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  result: BulkResult<E>,
): Promise<UpdateHookBatch<E>> {
  if (changed.entities.length === 0) return changed;
  const failures: ValidationFailure<E>[] = [];
  if (options.validate === false) {
    const broken = conversionFailures(changed.entities, changed.indices, new Set());
    if (broken.length > 0) throw new BulkValidationError(broken, changed.number);
    return changed;
  }
  const updatable = model.columns.filter((c) => c.updatable);
  for (const [position, entity] of changed.entities.entries()) {
    const columns = new Set(changed.changes[position]?.columns ?? []);
    const own = updatable.filter((c) => columns.has(c.name));
    columnFailures(own, entity, changed.indices[position] as number, prepared.get(entity), failures);
  }
  if (failures.length === 0) return changed;
  if (options.onInvalid !== 'skip') throw new BulkValidationError(failures, changed.number);
  const byIndex = failuresByIndex(failures);
  const kept = keepRows(changed, result, (_, index) => {
    const own = byIndex.get(index);
    return own ? { reason: 'invalid', failures: own } : undefined;
  });
  return { ...pickRows(changed, kept), changes: kept.map((p) => changed.changes[p] as RowChange) };
}

/** Sends the batch's one UPDATE; a row it did not match (stale version, row gone) fails the call. */
export async function writeUpdatePhase<E>(
  model: EntityModel<E>,
  options: UpdateOptions,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  target: WriteTarget<E>,
  result: BulkResult<E>,
): Promise<void> {
  const planned = await planUpdate(model, options, changed, prepared, target);
  applyUpdate(await sendUpdate(options, planned, target), target, result);
}

/** A batch's UPDATE, built: the changed rows, the statement and its values. */
export interface PlannedUpdate<E> {
  readonly changed: UpdateHookBatch<E>;
  /** Undefined when no row changed. */
  readonly stmt?: UpdateStatement;
  readonly values?: UpdateValues;
  readonly returned: ColumnModel<E>[];
}

/** What the UPDATE returned. */
export interface SentUpdate<E> {
  readonly planned: PlannedUpdate<E>;
  readonly rows: Record<string, unknown>[];
}

/** Builds the batch's UPDATE from the changed rows (reads the catalog once per table, sends nothing else). */
export async function planUpdate<E>(
  model: EntityModel<E>,
  options: UpdateOptions,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  target: WriteTarget<E>,
): Promise<PlannedUpdate<E>> {
  if (changed.entities.length === 0) return { changed, returned: [] };
  const catalog = await readTableCatalog(target.session, model as EntityModel<never>);
  const keys = primaryColumns(model);
  const version = model.columns.find((c) => c.role === 'version');
  const touch = model.columns.filter((c) => c.role === 'updateDate');
  const expressions = expressionColumns(model, options);
  const special = new Set([...keys, ...touch, ...(version ? [version] : [])].map((c) => c.name));
  const touched = new Set(changed.changes.flatMap((c) => c.columns ?? []));
  const setColumns = model.columns.filter((c) => c.updatable && touched.has(c.name) && !special.has(c.name));

  const rowsPrepared = prepared.size > 0 ? changed.entities.map((e) => prepared.get(e)) : [];
  const text = (c: ColumnModel<E>, r: number) =>
    toPgText(c.read(changed.entities[r] as E, rowsPrepared[r]), c.kind === 'timestamptz');
  const keyTexts = keys.map((k) => changed.entities.map((_, r) => text(k, r)));
  rejectDuplicateKeys(keyTexts, changed);
  const flags = setColumns.map((c) => changed.changes.map((change) => (change.columns ?? []).includes(c.name)));
  const values = setColumns.map((c, i) => changed.entities.map((_, r) => ((flags[i] as boolean[])[r] ? text(c, r) : null)));
  const checkVersion = version && options.checkVersion !== false;
  const returning = model.returningOnUpdate ?? model.columns.filter((c) => c.role === 'version' || c.role === 'updateDate');
  const returned: ColumnModel<E>[] = [
    ...returning,
    ...setColumns.filter((c) => expressions.has(c.name) && !returning.includes(c)),
  ];
  const stmt: UpdateStatement = {
    table: catalog,
    key: keys.map((k) => k.name),
    columns: setColumns.map((c): UpdateColumn => ({ name: c.name, expression: expressions.get(c.name) })),
    version: version?.name,
    touch: touch.map((c) => c.name),
    returning: returned.map((c) => c.name),
  };
  const updateValues = {
    keys: keyTexts,
    values,
    changed: flags,
    expectedVersions: checkVersion ? changed.entities.map((_, r) => text(version, r)) : changed.entities.map(() => null),
  };
  return { changed, stmt, values: updateValues, returned };
}

/** Sends the planned UPDATE (touches no entity: {@link applyUpdate} does). */
export async function sendUpdate<E>(
  options: UpdateOptions,
  planned: PlannedUpdate<E>,
  target: WriteTarget<E>,
  onSent?: () => void,
): Promise<SentUpdate<E>> {
  const { changed, stmt, values } = planned;
  if (!stmt || !values) return { planned, rows: [] };
  const client = await copyClientFor(options.strategy, target.session, changed.entities.length, COPY_UPDATES);
  try {
    if (client) {
      const stage = await copyIntoStage(target.session, client, updateStageColumns(stmt), changed.entities.length, (c, r) =>
        stageField(values, c, r),
      );
      const query = target.session.query(compileUpdate({ ...stmt, stage }, values).sql);
      afterDispatch(onSent);
      const rows = await query;
      await dropStage(target.session, stage);
      return { planned, rows };
    }
    const { sql, parameters } = compileUpdate(stmt, values);
    const query = target.session.query(sql, parameters);
    afterDispatch(onSent);
    return { planned, rows: await query };
  } catch (error) {
    throw convertDatabaseError(
      error,
      { columns: [...stmt.key], values: values.keys.map((k) => [...k]), indices: changed.indices, entities: changed.entities },
      changed.number,
    );
  }
}

/** Returned values onto the entities; a row the UPDATE did not match fails the call; outcomes into `result`. */
export function applyUpdate<E>(sent: SentUpdate<E>, target: WriteTarget<E>, result: BulkResult<E>): void {
  const { changed, stmt, returned } = sent.planned;
  if (!stmt) return;
  const rows = sent.rows;
  const seen = new Set<number>();
  const [summary] = stmt.returning.length === 0 ? rows : [];
  if (summary) {
    // One row: every row matched, or the ordinals of those that did.
    if (Number(summary[UPDATE_MATCHED_COUNT]) < changed.entities.length) {
      for (const ordinal of (summary[UPDATE_MATCHED] as unknown[] | null) ?? []) seen.add(Number(ordinal) - 1);
    } else {
      for (let position = 0; position < changed.entities.length; position++) seen.add(position);
    }
  } else {
    for (const row of rows) {
      const position = Number(row[UPDATE_ORDINAL]) - 1;
      seen.add(position);
      const entity = changed.entities[position] as E;
      for (const [i, column] of returned.entries()) column.write(entity, row[`r${i}`]);
    }
  }
  if (seen.size < changed.entities.length) {
    const stale = changed.entities.map((_, p) => p).filter((p) => !seen.has(p));
    throw new OptimisticLockError(
      stale.map((p) => changed.indices[p] as number),
      stale.map((p) => changed.entities[p] as E),
      changed.number,
    );
  }
  changed.entities.forEach((entity, position) => {
    result.updated++;
    result.outcomes[changed.indices[position] as number] = 'updated';
    target.changes?.updated?.(entity);
  });
}

export async function afterUpdatePhase<E>(options: UpdateOptions, changed: UpdateHookBatch<E>, target: WriteTarget<E>) {
  if (options.hooks === false || changed.entities.length === 0 || !target.hooks.afterUpdate) return;
  await target.hooks.afterUpdate(changed);
}

/**
 * Whether `strategy: 'auto'` stages updates through COPY (large batches): off until the benchmark
 * shows it pays; `'copy'` forces it.
 */
const COPY_UPDATES = false;

/** Column c of row r of an update's stage table (see updateStageColumns). */
function stageField(values: UpdateValues, c: number, r: number): string | null {
  if (c === 0) return String(r + 1);
  let at = c - 1;
  if (at < values.keys.length) return values.keys[at]?.[r] ?? null;
  at -= values.keys.length;
  const column = at >> 1;
  if (column < values.values.length) {
    return at % 2 === 0 ? (values.values[column]?.[r] ?? null) : values.changed[column]?.[r] ? 't' : 'f';
  }
  return values.expectedVersions?.[r] ?? null;
}

/** Column name → SQL expression, from the `expressions` option (keys may be properties or columns). */
function expressionColumns<E>(model: EntityModel<E>, options: UpdateOptions): Map<string, string> {
  return new Map(Object.entries(options.expressions ?? {}).map(([key, sql]) => [columnName(model, key), sql]));
}

function withForced(change: RowChange, forced: Map<string, string>): RowChange {
  if (forced.size === 0) return change;
  const columns = [...new Set([...(change.columns ?? []), ...forced.keys()])];
  return { ...change, columns };
}

function rejectDuplicateKeys<E>(keyTexts: (string | null)[][], batch: UpdateHookBatch<E>): void {
  const seen = new Map<string | null, number>();
  const [only] = keyTexts;
  for (let row = 0; row < batch.entities.length; row++) {
    // A single key column's text is its own map key; a composite key is joined as JSON.
    const key = keyTexts.length === 1 && only ? (only[row] ?? null) : JSON.stringify(keyTexts.map((k) => k[row]));
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
