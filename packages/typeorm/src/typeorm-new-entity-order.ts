import type { UnwrittenRelation } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral } from 'typeorm';

/** A stored related entity one update group writes (see findChangedRelation): what the check needs of it. */
export interface GroupedEntity {
  readonly entity: ObjectLiteral;
  readonly metadata: EntityMetadata;
  /** Its relation path from the row. */
  readonly path: string;
  /** The row's position in the batch. */
  readonly position: number;
}

/**
 * The refusal (`cascade insert`) of the first new entity that one related update group would insert
 * into a table another group of the batch inserts into too. Each group inserts the new entities its
 * stored entities hold with its own INSERT, in the groups' order, where save() inserts a table's new
 * entities in one statement in the order its subject walk reached them: the same rows, but the
 * generated keys in another order (`order.customer.home` and `order.customer.address.city`, both
 * new cities: cohort gives the customer's the first key, save() the address's). A new entity held
 * twice is inserted once, by the first group holding it. `rows`: the batch's rows (written by the call).
 */
export function splitInsertRefusal(
  groups: ReadonlyMap<EntityMetadata, readonly GroupedEntity[]>,
  rows: ReadonlySet<object>,
): { position: number; found: Omit<UnwrittenRelation, 'entityName'> } | undefined {
  const claimed = new Set<object>();
  // Per table: the group that inserts into it first, and the path to its first new entity there.
  const inserting = new Map<string, { group: EntityMetadata; path: string }>();
  for (const [group, list] of groups) {
    for (const held of list) {
      // An explicit stack: a chain of new entities may be long.
      const stack: [ObjectLiteral, EntityMetadata, string][] = [[held.entity, held.metadata, held.path]];
      for (let next = stack.pop(); next; next = stack.pop()) {
        const [owner, md, path] = next;
        for (const relation of md.relations) {
          if (!relation.isCascadeInsert || relation.persistenceEnabled === false) continue;
          const value = relation.getEntityValue(owner);
          if (value === null || typeof value !== 'object') continue;
          const at = `${path}.${relation.propertyPath}`;
          for (const item of Array.isArray(value) ? value : [value]) {
            if (item === null || typeof item !== 'object' || rows.has(item) || claimed.has(item)) continue;
            const target = relation.inverseEntityMetadata.findInheritanceMetadata(item);
            // A stored one is its own class's group (or not written), not this one's.
            if (target.hasAllPrimaryKeys(item)) continue;
            claimed.add(item);
            const first = inserting.get(target.tablePath);
            if (first && first.group !== group) {
              return { position: held.position, found: refusal(target, at, first.group, first.path, group) };
            }
            if (!first) inserting.set(target.tablePath, { group, path: at });
            stack.push([item, target, at]);
          }
        }
      }
    }
  }
  return undefined;
}

function refusal(
  target: EntityMetadata,
  property: string,
  firstGroup: EntityMetadata,
  firstPath: string,
  group: EntityMetadata,
): Omit<UnwrittenRelation, 'entityName'> {
  return {
    kind: 'cascade insert',
    property,
    target: target.name,
    advice: `new ${target.name} entities are held by two stored related entities the call updates with the rows (a ${firstGroup.name} at ${firstPath}, a ${group.name} at ${property}); cohort would insert each class's in its own INSERT, in the classes' order, where save() inserts them in one in the order it reaches them, so their generated keys would differ from save()'s — save those related entities first (then these rows), or use the ORM's save() for these rows`,
  };
}
