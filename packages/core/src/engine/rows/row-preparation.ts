import { BulkWriteError, type ValidationFailure } from '../../errors/bulk-write-error.js';
import type { BoundModel } from '../../model/bound-model.js';

const NOTHING_PREPARED: ReadonlyMap<never, unknown> = new Map<never, unknown>();

/** Rows whose conversion by the model threw: the error, by entity. */
const unpreparable = new WeakMap<object, unknown>();

/**
 * Runs the model's per-row conversion once per entity (after the before-hooks). A row the ORM
 * cannot convert (an invalid Date, say) is left unprepared: its columns are then read raw, so
 * validation names what is wrong, and it never reaches the database. A cohort error the model
 * throws (a refusal) ends the call.
 */
export function prepareRows<E>(model: BoundModel<E>, entities: readonly E[]): ReadonlyMap<E, unknown> {
  if (!model.prepare) return NOTHING_PREPARED;
  const prepared = new Map<E, unknown>();
  for (const entity of entities) {
    try {
      prepared.set(entity, model.prepare?.(entity));
    } catch (error) {
      // The adapter refusing the row (a feature it does not write) is the call's error, not a value's.
      if (error instanceof BulkWriteError) throw error;
      prepared.set(entity, undefined);
      unpreparable.set(entity as object, error);
    }
  }
  return prepared;
}

/** Failures for rows the model could not convert and no column rule explained. */
export function conversionFailures<E>(
  entities: readonly E[],
  indices: readonly number[],
  explained: ReadonlySet<number>,
): ValidationFailure<E>[] {
  const failures: ValidationFailure<E>[] = [];
  entities.forEach((entity, position) => {
    const index = indices[position] as number;
    if (!unpreparable.has(entity as object) || explained.has(index)) return;
    const error = unpreparable.get(entity as object);
    failures.push({
      index,
      entity,
      property: '',
      value: entity,
      constraint: 'conversion',
      message: `the ORM cannot convert this entity: ${error instanceof Error ? error.message : String(error)}`,
    });
  });
  return failures;
}
