import { Cascade, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import { collectionChanges, writesLinks } from './mikro-orm-links.js';

type AnyEntity = object;

/** Whether flush's persist follows the relation (`Cascade.PERSIST`, MikroORM's default, or `Cascade.ALL`). */
export function cascadesPersist(prop: EntityProperty<AnyEntity>): boolean {
  return (prop.cascade?.includes(Cascade.PERSIST) || prop.cascade?.includes(Cascade.ALL)) === true;
}

/**
 * A relation through which flush's persist inserts new entities that cohort inserts too, beyond the
 * to-ones and one-to-manys of mikro-orm-cascades.ts: a many-to-many whose links cohort writes, or
 * an inverse one-to-one, cascading persist.
 */
export function cascadedLinksOrInverse(prop: EntityProperty<AnyEntity>): boolean {
  if (prop.persist === false || !cascadesPersist(prop)) return false;
  if (prop.kind === ReferenceKind.MANY_TO_MANY) return writesLinks(prop);
  return prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner && typeof prop.mappedBy === 'string';
}

/**
 * The new entities flush inserts with `entity` through such a relation: a many-to-many's new items
 * added since its snapshot (a new row's: all of them); an inverse one-to-one's new target whose own
 * reference is the holder (its insert writes the link; another is left to the relation finder).
 * `isNew` is flush's rule (mikro-orm-cascades.ts).
 */
export function linkedTargets(
  entity: AnyEntity,
  prop: EntityProperty<AnyEntity>,
  isNew: (entity: AnyEntity) => boolean,
): AnyEntity[] {
  const value = (entity as Record<string, unknown>)[prop.name];
  if (prop.kind === ReferenceKind.MANY_TO_MANY) {
    const added = collectionChanges(value)?.added ?? [];
    return added.filter((item): item is AnyEntity => Utils.isEntity(item) && isNew(item as AnyEntity));
  }
  const target = Reference.unwrapReference(value as object);
  const owning = prop.mappedBy;
  return Utils.isEntity(target) &&
    isNew(target) &&
    Reference.unwrapReference((target as Record<string, unknown>)[owning] as object) === entity
    ? [target]
    : [];
}
