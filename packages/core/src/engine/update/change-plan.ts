// What an update changes: the rows found by the change tracker's look-up, each diffed against its
// stored state; rows without changes leave the batch as unchanged.
import type { ChangeTracker, InputBatch, RowChange, UpdateHookBatch, WriteTarget } from '../../adapter/contract.js';
import { BulkValidationError, BulkWriteError, errorMessage, type ValidationFailure } from '../../errors/bulk-write-error.js';
import { asUsageError } from '../../errors/pg-error-converter.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import type { BoundModel } from '../../model/bound-model.js';
import { columnFailures } from '../../validate/batch-validator.js';
import type { RunningResult } from '../options/bulk-options.js';
import { missingKeyFailure } from '../rows/row-keys.js';
import type { UpdateContext } from './update-phases.js';
import { expressionColumns } from './update-plan.js';

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

/** A batch's rows by what the look-up found: rows found (with their stored state), the others skipped. */
export interface FoundRows<E> {
  readonly existing: InputBatch<E>;
  readonly states: unknown[];
  /** Rows skipped because their key has no value: invalid input, reported with the batch's other invalid rows. */
  readonly keyless: ValidationFailure<E>[];
}

/** Splits a batch by its look-up: a row not found is skipped as `missing`, one without a key as invalid. */
export function splitFound<E>(
  batch: InputBatch<E>,
  loaded: readonly (unknown | undefined)[],
  tracker: ChangeTracker<E>,
  result: RunningResult<E>,
): FoundRows<E> {
  const existing: InputBatch<E> = {
    number: batch.number,
    entities: [],
    indices: [],
    ...(batch.keyOrdered && { keyOrdered: true }),
    ...(batch.last && { last: true }),
  };
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
        const failure = missingKeyFailure(entity, index, key, 'update');
        keyless.push(failure);
        result.skipped.push({ index, entity, reason: 'invalid', failures: [failure] });
      }
      result.outcomes.set(index, 'skipped');
      return;
    }
    existing.entities.push(entity);
    existing.indices.push(index);
    states.push(state);
  });
  return { existing, states, keyless };
}

/** Changed rows of a batch, with what they were loaded from. */
export interface ChangePlan<E> {
  changed: UpdateHookBatch<E> & { changes: RowChange[] };
  states: unknown[];
  tracker: ChangeTracker<E>;
}

/** Diffs every existing row; rows without changes are counted as unchanged and leave the plan. */
export function planChanges<E>(
  context: UpdateContext<E>,
  existing: InputBatch<E>,
  states: unknown[],
  tracker: ChangeTracker<E>,
): ChangePlan<E> {
  const { model, options, result } = context;
  const forced = expressionColumns(model, options);
  const changed: ChangePlan<E>['changed'] = {
    number: existing.number,
    entities: [],
    indices: [],
    changes: [],
    ...(existing.keyOrdered && { keyOrdered: true }),
    ...(existing.last && { last: true }),
  };
  const keptStates: unknown[] = [];
  existing.entities.forEach((entity, position) => {
    const index = existing.indices[position] as number;
    const diffed = diffRow(model, tracker, entity, index, states[position], undefined);
    if (diffed.failures) {
      // The ORM could not compare the row (an invalid Date, a value its type cannot convert).
      if (options.onInvalid !== 'skip') throw new BulkValidationError(diffed.failures, existing.number);
      result.skipped.push({ index, entity, reason: 'invalid', failures: diffed.failures });
      result.outcomes.set(index, 'skipped');
      return;
    }
    const change = withForced(diffed.change, forced);
    if ((change.columns ?? []).length === 0) {
      result.unchanged++;
      result.outcomes.set(index, 'unchanged');
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
export function diffRow<E>(
  model: BoundModel<E>,
  tracker: ChangeTracker<E>,
  entity: E,
  index: number,
  state: unknown,
  before: RowChange | undefined,
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
        message: `the ORM cannot compare this entity with its row: ${errorMessage(error)}`,
      });
    }
    return { failures };
  }
}

export function withForced(change: RowChange, forced: Map<string, string>): RowChange {
  if (forced.size === 0) return change;
  const columns = [...new Set([...(change.columns ?? []), ...forced.keys()])];
  return { ...change, columns };
}
