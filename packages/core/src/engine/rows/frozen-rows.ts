import type { InputBatch } from '../../adapter/contract.js';
import { BulkUsageError } from '../../errors/usage-errors.js';
import type { BoundColumn, BoundModel } from '../../model/bound-model.js';

/** What the ORM's save puts back onto a row it writes (`insert`: keys and defaults; `update`: version, update date). */
function writtenBack<E>(model: BoundModel<E>, kind: 'insert' | 'update'): BoundColumn<E>[] {
  if (kind === 'insert') return model.columns.filter((c) => c.generated !== undefined || c.hasDefault || c.role !== undefined);
  return model.columns.filter((c) => c.role === 'version' || c.role === 'updateDate');
}

/**
 * Refuses, before any hook or statement of the batch, a frozen or non-extensible entity that the
 * write would have to change: its generated key and defaults (insert), its version or update date
 * (update). Without this, the assignment would throw a TypeError after rows were sent.
 */
export function refuseFrozenRows<E>(model: BoundModel<E>, batch: InputBatch<E>, kind: 'insert' | 'update'): void {
  let columns: BoundColumn<E>[] | undefined;
  batch.entities.forEach((entity, position) => {
    const object = entity as object;
    if (Object.isExtensible(object) && !Object.isFrozen(object)) return;
    columns ??= writtenBack(model, kind);
    for (const column of columns) {
      const property = column.property.split('.')[0] as string;
      if (assignable(object, property)) continue;
      const index = batch.indices[position] as number;
      const state = Object.isFrozen(object) ? 'frozen' : Object.isSealed(object) ? 'sealed' : 'not extensible';
      throw new BulkUsageError(
        `row ${index} is ${state}: cohort writes ${model.name}.${property} back onto it (as the ORM's save does); pass an object it may change`,
        { index, entity, batch: batch.number },
      );
    }
  });
}

/** Whether `object[property] = value` would succeed (own writable property, setter, or a new property). */
function assignable(object: object, property: string): boolean {
  for (let o: object | null = object; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(o, property);
    if (!descriptor) continue;
    if (descriptor.set) return true;
    if (descriptor.get) return false;
    return descriptor.writable === true && (o === object || Object.isExtensible(object));
  }
  return Object.isExtensible(object);
}
