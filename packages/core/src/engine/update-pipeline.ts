import type { BulkJob, ChangeTracker, InputBatch, RowChange, UpdateHookBatch, WriteTarget } from '../adapter/contract.js';
import { BulkValidationError, BulkWriteError, errorMessage, type ValidationFailure } from '../errors/bulk-write-error.js';
import { asUsageError } from '../errors/pg-error-converter.js';
import { UnsupportedFeatureError } from '../errors/usage-errors.js';
import { type BoundModel, bindModel } from '../model/bound-model.js';
import { primaryColumns } from '../model/entity-model.js';
import { columnFailures } from '../validate/batch-validator.js';
import type { BulkResult, UpdateOptions } from './bulk-options.js';
import { refuseFrozenRows } from './frozen-rows.js';
import { refuseChangedRelations, refuseUnwrittenRelations } from './relation-guard.js';
import { conversionFailures, prepareRows } from './row-preparation.js';
import { runBatches } from './run-batches.js';
import { failuresByIndex, keepRows, pickRows } from './skip-rows.js';
import type { StagedWork } from './staged-batches.js';
import { applyUpdate, expressionColumns, type PlannedUpdate, planUpdate, type SentUpdate, sendUpdate } from './update-write.js';

/** Everything the engine needs to update entities of one model. */
export type UpdateJob<E> = BulkJob<E, UpdateOptions>;

/**
 * Updates `input` batch by batch: rows matched by primary key, only changed columns written per row,
 * versions checked, one `UPDATE … FROM unnest(…)` per batch. Rows without changes send nothing and
 * get no hooks (`unchanged`); rows not in the database are skipped as `missing`.
 */
export function runUpdate<E>(job: UpdateJob<E>, input: Iterable<E> | AsyncIterable<E>): Promise<BulkResult<E>> {
  return runBatches(input, job.options, job.transaction, updateStages(bindModel(job.model, job.access), job.options));
}

/** An update's batch work in stages (see {@link StagedWork}). */
export function updateStages<E>(model: BoundModel<E>, options: UpdateOptions): StagedWork<E, PlannedUpdate<E>, SentUpdate<E>> {
  const keysOf = batchKeys<E>();
  return {
    overlap: options.pipeline !== false && !model.refersToItself,
    // An array is cut into batches in primary-key order, so that concurrent calls lock rows in one order.
    order: { columns: primaryColumns(model) },
    // A row given twice (two objects: one object twice is refused) is diffed against what the
    // earlier batch wrote, as batch by batch.
    waitFor: (next, inFlight, target) => sharesKeys(keysOf(next, target.changes), keysOf(inFlight, target.changes)),
    // A tracker that looks rows up by key sends the next batch's look-up ahead of this batch's UPDATE.
    preload: (batch, target) => (target.changes?.keyOf ? loadRows(target.changes, batch) : undefined),
    async prepare(batch, target, result, preloaded) {
      const tracker = trackerOf(target);
      const loaded = ((await preloaded) as (unknown | undefined)[] | undefined) ?? (await loadRows(tracker, batch));
      const existing: InputBatch<E> = { number: batch.number, entities: [], indices: [] };
      const states: unknown[] = [];
      const keyless: ValidationFailure<E>[] = [];
      batch.entities.forEach((entity, position) => {
        const index = batch.indices[position] as number;
        const state = loaded[position];
        if (state === undefined) {
          const key = tracker.missingKey?.(entity);
          if (key === undefined) {
            result.skipped.push({ index, entity, reason: 'missing' });
          } else {
            // Not a row that is not stored: invalid input, reported with the batch's other invalid rows.
            const failure = keyFailure(entity, index, key);
            keyless.push(failure);
            result.skipped.push({ index, entity, reason: 'invalid', failures: [failure] });
          }
          result.outcomes[index] = 'skipped';
          return;
        }
        existing.entities.push(entity);
        existing.indices.push(index);
        states.push(state);
      });
      refuseFrozenRows(model, existing, 'update');
      const plan = planChanges(model, options, existing, states, tracker, result);
      await beforeUpdatePhase(model, options, plan, target, result);
      // Every row found, changed or not: a relation the ORM would write may be the only change.
      refuseUnwrittenRelations(model, existing, 'update', states);
      await refuseChangedRelations(model, existing, 'update', target);
      const prepared = prepareRows(model, plan.changed.entities);
      const earlier = options.onInvalid === 'skip' ? [] : keyless;
      const valid = await validateUpdatePhase(model, options, plan.changed, prepared, result, earlier);
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

/** The tracker's look-up of a batch's rows; a missing table or column is the call's error (BulkUsageError). */
export function loadRows<E>(tracker: ChangeTracker<E>, batch: InputBatch<E>): Promise<(unknown | undefined)[]> {
  return tracker.load(batch).catch((error: unknown) => {
    throw asUsageError(error);
  });
}

export function trackerOf<E>(target: WriteTarget<E>): ChangeTracker<E> {
  // Both adapters have a tracker; an adapter written without one cannot update.
  if (!target.changes) throw new UnsupportedFeatureError('update', 'this adapter does not support updates (no change tracker)');
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
  model: BoundModel<E>,
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
    const index = existing.indices[position] as number;
    const diffed = diffRow(model, tracker, entity, index, states[position], undefined, existing.number);
    if (diffed.failures) {
      // The ORM could not compare the row (an invalid Date, a value its type cannot convert).
      if (options.onInvalid !== 'skip') throw new BulkValidationError(diffed.failures, existing.number);
      result.skipped.push({ index, entity, reason: 'invalid', failures: diffed.failures });
      result.outcomes[index] = 'skipped';
      return;
    }
    const change = withForced(diffed.change, forced);
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

/**
 * The tracker's diff of one row; when the ORM's comparison throws on a value it cannot handle (an
 * invalid Date, a value its column type cannot convert), the row's invalid values instead, named by
 * the column rules (or the ORM's message when no rule explains it). cohort's own errors pass.
 */
function diffRow<E>(
  model: BoundModel<E>,
  tracker: ChangeTracker<E>,
  entity: E,
  index: number,
  state: unknown,
  before: RowChange | undefined,
  batch: number,
): { change: RowChange; failures?: undefined } | { failures: ValidationFailure<E>[] } {
  try {
    return { change: tracker.diff(entity, state, before) };
  } catch (error) {
    if (error instanceof BulkWriteError) throw error;
    const failures: ValidationFailure<E>[] = [];
    columnFailures(
      model.columns.filter((c) => c.updatable),
      entity,
      index,
      undefined,
      failures,
    );
    if (failures.length === 0) {
      failures.push({
        index,
        entity,
        property: '',
        value: entity,
        constraint: 'conversion',
        message: `the ORM cannot compare this entity with its row (batch ${batch}): ${errorMessage(error)}`,
      });
    }
    return { failures };
  }
}

/**
 * Before-update hooks for the changed rows, then a new diff: what a hook changes is written too, and
 * a row whose hooks undid its every change leaves the plan as unchanged (no statement, no after-hook,
 * no version bump), as save() leaves it.
 */
export async function beforeUpdatePhase<E>(
  model: BoundModel<E>,
  options: UpdateOptions,
  plan: ChangePlan<E>,
  target: WriteTarget<E>,
  result: BulkResult<E>,
) {
  if (options.hooks === false || plan.changed.entities.length === 0 || !target.hooks.beforeUpdate) return;
  // As the ORMs do: only when some hook ran can a row have changed since it was diffed.
  if ((await target.hooks.beforeUpdate(plan.changed)) === false) return;
  const forced = expressionColumns(model, options);
  const { changed, states, tracker } = plan;
  let reverted = false;
  changed.entities.forEach((entity, position) => {
    const index = changed.indices[position] as number;
    const diffed = diffRow(model, tracker, entity, index, states[position], changed.changes[position], changed.number);
    if (diffed.failures) throw new BulkValidationError(diffed.failures, changed.number);
    const change = withForced(diffed.change, forced);
    changed.changes[position] = change;
    if ((change.columns ?? []).length === 0) reverted = true;
  });
  if (!reverted) return;
  const kept: number[] = [];
  changed.changes.forEach((change, position) => {
    if ((change.columns ?? []).length > 0) {
      kept.push(position);
      return;
    }
    result.unchanged++;
    result.outcomes[changed.indices[position] as number] = 'unchanged';
  });
  plan.changed = { ...pickRows(changed, kept), changes: kept.map((p) => changed.changes[p] as RowChange) };
  plan.states = kept.map((p) => states[p]);
}

/**
 * Validates the changed columns of each changed row (unchanged values were valid when stored).
 * `earlier`: failures of rows that already left the batch (a missing key), reported in the same error.
 */
export async function validateUpdatePhase<E>(
  model: BoundModel<E>,
  options: UpdateOptions,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  result: BulkResult<E>,
  earlier: readonly ValidationFailure<E>[] = [],
): Promise<UpdateHookBatch<E>> {
  const failures: ValidationFailure<E>[] = [...earlier];
  const fail = () =>
    new BulkValidationError(
      failures.sort((a, b) => a.index - b.index),
      changed.number,
    );
  if (changed.entities.length === 0) {
    if (failures.length > 0) throw fail();
    return changed;
  }
  if (options.validate === false) {
    failures.push(...conversionFailures(changed.entities, changed.indices, new Set()));
    if (failures.length > 0) throw fail();
    return changed;
  }
  const updatable = model.columns.filter((c) => c.updatable);
  for (const [position, entity] of changed.entities.entries()) {
    const columns = new Set(changed.changes[position]?.columns ?? []);
    const own = updatable.filter((c) => columns.has(c.name));
    columnFailures(own, entity, changed.indices[position] as number, prepared.get(entity), failures);
  }
  if (failures.length === 0) return changed;
  if (options.onInvalid !== 'skip') throw fail();
  const byIndex = failuresByIndex(failures);
  const kept = keepRows(changed, result, (_, index) => {
    const own = byIndex.get(index);
    return own ? { reason: 'invalid', failures: own } : undefined;
  });
  return { ...pickRows(changed, kept), changes: kept.map((p) => changed.changes[p] as RowChange) };
}

/** Sends the batch's one UPDATE; a row it did not match (stale version, row gone) fails the call. */
export async function writeUpdatePhase<E>(
  model: BoundModel<E>,
  options: UpdateOptions,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  target: WriteTarget<E>,
  result: BulkResult<E>,
): Promise<void> {
  const planned = await planUpdate(model, options, changed, prepared, target);
  applyUpdate(await sendUpdate(options, planned, target), target, result);
}

export async function afterUpdatePhase<E>(options: UpdateOptions, changed: UpdateHookBatch<E>, target: WriteTarget<E>) {
  if (options.hooks === false || changed.entities.length === 0 || !target.hooks.afterUpdate) return;
  await target.hooks.afterUpdate(changed);
}

/** A row bulkUpdate cannot match: its key (`property`) has no value. */
function keyFailure<E>(entity: E, index: number, property: string): ValidationFailure<E> {
  return {
    index,
    entity,
    property,
    value: (entity as Record<string, unknown>)[property],
    constraint: 'required',
    message: `an entity to update needs its primary key; ${property} is not set`,
  };
}

function withForced(change: RowChange, forced: Map<string, string>): RowChange {
  if (forced.size === 0) return change;
  const columns = [...new Set([...(change.columns ?? []), ...forced.keys()])];
  return { ...change, columns };
}
