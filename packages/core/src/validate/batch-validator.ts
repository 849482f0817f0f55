import type { ValidationFailure } from '../errors/bulk-write-error.js';
import { refusalAtRow, UnsupportedFeatureError } from '../errors/usage-errors.js';
import type { BoundColumn } from '../model/bound-model.js';
import { classValidatorFailures } from './class-validator-bridge.js';
import { checkColumnValue } from './column-rules.js';
import { readValue } from './unreadable-value.js';

/**
 * Validates every row of a batch against the columns' own rules, then class-validator's decorators.
 * Collects all failures; never stops at the first. `values` (column-major, aligned with `columns`)
 * are the rows' values when the caller has read them already.
 */
export async function validateBatch<E>(
  columns: readonly BoundColumn<E>[],
  entities: readonly E[],
  indices: readonly number[],
  prepared: readonly unknown[],
  options: { classValidator: boolean },
  values?: readonly (readonly unknown[])[],
): Promise<ValidationFailure<E>[]> {
  const failures: ValidationFailure<E>[] = [];
  if (values) {
    // Values already read (column-major, aligned with `columns`): checked column by column.
    columns.forEach((column, c) => {
      const read = values[c] as readonly unknown[];
      for (let r = 0; r < entities.length; r++) {
        const problem = checkColumnValue(column as BoundColumn<never>, read[r]);
        if (problem) {
          const entity = entities[r] as E;
          failures.push({ index: indices[r] as number, entity, property: column.property, value: read[r], ...problem });
        }
      }
    });
  } else {
    for (let r = 0; r < entities.length; r++) {
      columnFailures(columns, entities[r] as E, indices[r] as number, prepared[r], failures);
    }
  }
  if (options.classValidator) failures.push(...(await classValidatorFailures(entities, indices)));
  return failures.sort((a, b) => a.index - b.index);
}

/** Checks one row against the columns' own rules (synchronous), appending to `into`. */
export function columnFailures<E>(
  columns: readonly BoundColumn<E>[],
  entity: E,
  index: number,
  prepared: unknown,
  into: ValidationFailure<E>[],
): void {
  for (const column of columns) {
    let value: unknown;
    try {
      value = readValue(column, entity, prepared);
    } catch (error) {
      throw error instanceof UnsupportedFeatureError ? refusalAtRow(error, index, entity) : error;
    }
    const problem = checkColumnValue(column as BoundColumn<never>, value);
    if (problem) into.push({ index, entity, property: column.property, value, ...problem });
  }
}
