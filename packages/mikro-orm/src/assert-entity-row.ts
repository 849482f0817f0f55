import { BulkUsageError } from '@cohort/core';
import { type EntityMetadata, Utils } from '@mikro-orm/core';

/**
 * Refuses an input row that is not an entity of the call's class (or of a subclass): a plain
 * object, an entity of another class, an instance of a class MikroORM does not know. cohort writes
 * entities, as flush does, so that hooks, defaults, validation and the identity map follow the
 * entity's own class; `em.create(Class, data, { persist: false })` makes one from plain data.
 */
export function assertEntityRow(meta: EntityMetadata<object>, entity: object, index: number, batch: number): void {
  if (entity instanceof meta.class) return;
  const made = (entity as { constructor?: { name?: string } }).constructor;
  const target = meta.className;
  const prototype = Object.getPrototypeOf(entity) as object | null;
  let problem: string;
  if (prototype === Object.prototype || prototype === null) {
    problem = `is a plain object, not a ${target} entity: cohort writes entities (make one with em.create(${target}, data, { persist: false }))`;
  } else if (Utils.isEntity(entity)) {
    const other = (entity as { __meta?: EntityMetadata<object> }).__meta?.className ?? made?.name;
    problem = `is a ${other} entity, not a ${target}: write each entity class with its own call`;
  } else {
    problem = `is an instance of ${made?.name || 'an anonymous class'}, which is not a MikroORM entity, not a ${target}`;
  }
  throw new BulkUsageError(`row ${index} ${problem}`, { index, entity, batch });
}
