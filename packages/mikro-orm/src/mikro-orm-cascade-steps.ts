import { type EntityMetadata, type EntityProperty, ReferenceKind } from '@mikro-orm/core';
import { cascadedLinksOrInverse, cascadesPersist } from './mikro-orm-linked-cascades.js';
import { embeddedValues } from './mikro-orm-relation-finder.js';

type AnyEntity = object;
type Meta = EntityMetadata<AnyEntity>;

/** One relation of a class, as the walk reads it: worked out once per class. */
export interface Step {
  readonly name: string;
  readonly prop: EntityProperty<AnyEntity>;
  /** A to-one (many-to-one, owning one-to-one); `linked`: a many-to-many or inverse one-to-one; `items`: a one-to-many. */
  readonly kind: 'to-one' | 'linked' | 'items';
  readonly cascades: boolean;
  readonly embedded: boolean;
  readonly mappedBy: string;
}

const steps = new WeakMap<Meta, readonly Step[]>();

/** The relations of a class through which flush's persist or change-set computation reaches new entities. */
export function stepsOf(meta: Meta): readonly Step[] {
  let found = steps.get(meta);
  if (!found) {
    const list: Step[] = [];
    for (const prop of meta.relations) {
      const kind = walkedToOne(prop)
        ? 'to-one'
        : cascadedLinksOrInverse(prop)
          ? 'linked'
          : cascadedCollection(prop)
            ? 'items'
            : undefined;
      // An embedded relation's value is not on the entity itself: flush's persist does not follow it.
      if (kind === undefined || (kind !== 'to-one' && prop.embedded)) continue;
      list.push({
        name: prop.name,
        prop,
        kind,
        cascades: cascadesPersist(prop),
        embedded: !!prop.embedded,
        mappedBy: prop.mappedBy,
      });
    }
    found = list;
    steps.set(meta, list);
  }
  return found;
}

/**
 * A to-one whose new target flush's change-set computation inserts: an owning one with a column of
 * its own, or one inside an embeddable — inline, nested, object (JSON) or an array of them, whose
 * key flush writes into the embeddable's column.
 */
export function walkedToOne(prop: EntityProperty<AnyEntity>): boolean {
  if (toOneOwner(prop)) return true;
  return (
    prop.embedded !== undefined &&
    !prop.mapToPk &&
    (prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner === true))
  );
}

/** The values of a to-one on an entity: one, or those of every embeddable holding it (arrays of them included). */
export function toOneValues(meta: Meta, entity: AnyEntity, prop: EntityProperty<AnyEntity>): unknown[] {
  return prop.embedded ? embeddedValues(meta, entity, prop) : [(entity as Record<string, unknown>)[prop.name]];
}

/** A many-to-one or owning one-to-one with a column of its own. */
export function toOneOwner(prop: EntityProperty<AnyEntity>): boolean {
  return (
    prop.persist !== false &&
    !prop.mapToPk &&
    (prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner === true))
  );
}

/** A one-to-many that cascades persist. */
export function cascadedCollection(prop: EntityProperty<AnyEntity>): boolean {
  return (
    prop.kind === ReferenceKind.ONE_TO_MANY &&
    prop.persist !== false &&
    typeof prop.mappedBy === 'string' &&
    cascadesPersist(prop)
  );
}

/** Notes that flush computes `target`'s change set before `entity`'s. */
export function follow(before: Map<AnyEntity, AnyEntity[]>, entity: AnyEntity, target: AnyEntity): void {
  const list = before.get(entity);
  if (list) list.push(target);
  else before.set(entity, [target]);
}
