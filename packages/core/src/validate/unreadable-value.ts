import { BulkValidationError, BulkWriteError, errorMessage, type ValidationFailure } from '../errors/bulk-write-error.js';
import type { BoundColumn } from '../model/bound-model.js';

/**
 * What reading a column gives when the ORM's own conversion of the value threw (a circular object
 * or a BigInt in a JSON column, through TypeORM's JSON.stringify): validation refuses it naming the
 * row and the property, instead of the conversion's TypeError ending the call.
 */
export class UnreadableValue {
  constructor(
    readonly value: unknown,
    readonly error: unknown,
  ) {}

  get message(): string {
    return `cannot be converted for the database: ${errorMessage(this.error)}`;
  }
}

/** `column.read`, with a conversion that throws turned into an {@link UnreadableValue}; cohort's own errors pass. */
export function readValue<E>(column: BoundColumn<E>, entity: E, prepared: unknown): unknown {
  try {
    return column.read(entity, prepared);
  } catch (error) {
    if (error instanceof BulkWriteError) throw error;
    return new UnreadableValue(readRaw(entity, column.property), error);
  }
}

function readRaw(entity: unknown, path: string): unknown {
  let value = entity;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | null | undefined)?.[part];
  return value;
}

/**
 * Refuses the first unreadable values of a batch read unvalidated (`validate: false`): they cannot
 * be sent. `raw[c][r]` as read by readColumnValues.
 */
export function refuseUnreadable<E>(
  columns: readonly BoundColumn<E>[],
  raw: readonly (readonly unknown[])[],
  entities: readonly E[],
  indices: readonly number[],
  batch?: number,
): void {
  const failures: ValidationFailure<E>[] = [];
  raw.forEach((values, c) => {
    values.forEach((value, r) => {
      if (!(value instanceof UnreadableValue)) return;
      const column = columns[c] as BoundColumn<E>;
      failures.push({
        index: indices[r] as number,
        entity: entities[r] as E,
        property: column.property,
        value: value.value,
        constraint: 'type',
        message: value.message,
      });
    });
  });
  if (failures.length > 0)
    throw new BulkValidationError(
      failures.sort((a, b) => a.index - b.index),
      batch,
    );
}
