import { BulkUsageError } from '@cohort/core';
import { type InputBatch } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral } from 'typeorm';

/**
 * Refuses, before any hook of its batch runs, an input row that is an instance of a class other than
 * the call's (or a subclass of it): an entity of another class, a Date, an array. save() would write
 * its properties into the call's table as far as they match columns. A plain object is taken, as
 * `save(Class, plainObject)` takes one (it is written as an entity of the call's class).
 */
export function assertEntityRows<E extends ObjectLiteral>(metadata: EntityMetadata, batch: InputBatch<E>): void {
  const target = metadata.target;
  const { entities, indices, number } = batch;
  for (let i = 0; i < entities.length; i++) {
    const entity = entities[i] as object;
    const prototype = Object.getPrototypeOf(entity) as object | null;
    if (prototype === Object.prototype || prototype === null) continue;
    if (typeof target === 'function' && entity instanceof target) continue;
    if (typeof target !== 'function' && !Array.isArray(entity)) continue;
    const made = (entity as { constructor?: { name?: string } }).constructor?.name || 'an anonymous class';
    const index = indices[i] as number;
    const what = Array.isArray(entity) ? 'an array' : `an instance of ${made}`;
    throw new BulkUsageError(
      `row ${index} is ${what}, not a ${metadata.name} entity: write each entity class with its own call`,
      { index, entity, batch: number },
    );
  }
}
