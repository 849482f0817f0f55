import type { InputBatch } from '../../adapter/contract.js';
import type { ValidationFailure } from '../../errors/bulk-write-error.js';
import type { RunningResult, SkipReason } from '../options/bulk-options.js';

/** Why a row leaves its batch, as recorded in the result's `skipped`. */
export interface SkipVerdict<E> {
  reason: SkipReason;
  failures?: ValidationFailure<E>[];
}

/**
 * Splits a batch: rows `verdict` returns a reason for are recorded in `result` as skipped (with that
 * outcome); the positions of the others are returned, in order.
 */
export function keepRows<E>(
  batch: InputBatch<E>,
  result: RunningResult<E>,
  verdict: (entity: E, index: number, position: number) => SkipVerdict<E> | undefined,
): number[] {
  const kept: number[] = [];
  batch.entities.forEach((entity, position) => {
    const index = batch.indices[position] as number;
    const skip = verdict(entity, index, position);
    if (!skip) {
      kept.push(position);
      return;
    }
    result.skipped.push({ index, entity, ...skip });
    result.outcomes.set(index, 'skipped');
  });
  return kept;
}

/** The rows of `batch` at `positions`, as a batch of the same number. */
export function pickRows<E>(batch: InputBatch<E>, positions: readonly number[]): InputBatch<E> {
  return {
    number: batch.number,
    ...(batch.keyOrdered && { keyOrdered: true }),
    ...(batch.last && { last: true }),
    entities: positions.map((p) => batch.entities[p] as E),
    indices: positions.map((p) => batch.indices[p] as number),
  };
}

/** Validation failures grouped by input index. */
export function failuresByIndex<E>(failures: readonly ValidationFailure<E>[]): Map<number, ValidationFailure<E>[]> {
  const byIndex = new Map<number, ValidationFailure<E>[]>();
  for (const f of failures) {
    const own = byIndex.get(f.index);
    if (own) own.push(f);
    else byIndex.set(f.index, [f]);
  }
  return byIndex;
}
