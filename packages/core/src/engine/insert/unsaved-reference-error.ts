import type { InputBatch, SelfReference } from '../../adapter/contract.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import type { BoundModel } from '../../model/bound-model.js';

/**
 * The refusal of a row whose reference to a new entity of its own table cannot be linked by the
 * call (`unsaved reference`, naming the row): `why` says what keeps that entity from a key in time.
 */
export function unsavedReferenceError<E>(
  model: BoundModel<E>,
  reference: SelfReference,
  batch: InputBatch<E>,
  position: number,
  why: string,
): UnsupportedFeatureError<E> {
  const entityName = reference.entityName ?? model.name;
  const index = batch.indices[position] as number;
  const message = `${entityName}.${reference.property} at row ${index} refers to a ${model.name} that has no key yet; ${why} (unsaved reference). Nothing was written.`;
  return new UnsupportedFeatureError('unsaved reference', message, {
    entityName,
    property: reference.property,
    index,
    entity: batch.entities[position],
    batch: batch.number,
  });
}
