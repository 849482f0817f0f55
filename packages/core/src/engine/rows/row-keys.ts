import type { InputBatch } from '../../adapter/contract.js';
import { DuplicateKeyInBatchError, type ValidationFailure } from '../../errors/bulk-write-error.js';

/** A row an update or remove cannot match: its key (`property`) has no value. */
export function missingKeyFailure<E>(
  entity: E,
  index: number,
  property: string,
  action: 'update' | 'remove',
): ValidationFailure<E> {
  return {
    index,
    entity,
    property,
    value: (entity as Record<string, unknown>)[property],
    constraint: 'required',
    message: `an entity to ${action} needs its primary key; ${property} is not set`,
  };
}

/**
 * Two objects of one batch with one key (`keyTexts`: per key column, each row's text) are refused,
 * naming both rows: the statement would write or remove the row once and report both.
 */
export function rejectDuplicateKeys<E>(keyTexts: (string | null)[][], batch: InputBatch<E>): void {
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
