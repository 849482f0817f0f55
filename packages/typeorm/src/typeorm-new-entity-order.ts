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
 * twice is inserted once, by the first group holding it. `entities`: the batch's rows (written by the call),
 * whose own new related entities go in before any group's, with an INSERT of their own: a group
 * inserting into one of their tables is refused too (`order.pickup` and `order.customer.address.city`).
 */
export function splitInsertRefusal(
  groups: ReadonlyMap<EntityMetadata, readonly GroupedEntity[]>,
  entities: readonly ObjectLiteral[],
  rowsMetadata: EntityMetadata,
): { position: number; found: Omit<UnwrittenRelation, 'entityName'> } | undefined {
  const rows = new Set<object>(entities);
  const claimed = new Set<object>();
  // Per table: who inserts into it first (the rows' own cascade: `undefined`; or a group), and the
  // path to its first new entity there.
  const inserting = new Map<string, { group: EntityMetadata | undefined; holder: string; path: string }>();
  // The rows' own new related entities go in with the rows, in an INSERT of their own too.
  const own: GroupedEntity[] = entities.map((entity, position) => ({ entity, metadata: rowsMetadata, path: '', position }));
  for (const [group, list] of [[undefined, own] as const, ...groups]) {
    for (const held of list) {
      // An explicit stack: a chain of new entities may be long.
      const stack: [ObjectLiteral, EntityMetadata, string][] = [
        [held.entity, held.metadata.findInheritanceMetadata(held.entity), held.path],
      ];
      for (let next = stack.pop(); next; next = stack.pop()) {
        const [owner, md, path] = next;
        for (const relation of md.relations) {
          if (!relation.isCascadeInsert || relation.persistenceEnabled === false) continue;
          const value = relation.getEntityValue(owner);
          if (value === null || typeof value !== 'object') continue;
          const at = path ? `${path}.${relation.propertyPath}` : relation.propertyPath;
          for (const item of Array.isArray(value) ? value : [value]) {
            if (item === null || typeof item !== 'object' || rows.has(item) || claimed.has(item)) continue;
            const target = relation.inverseEntityMetadata.findInheritanceMetadata(item);
            // A stored one is its own class's group (or not written), not this one's.
            if (target.hasAllPrimaryKeys(item)) continue;
            claimed.add(item);
            const first = inserting.get(target.tablePath);
            // The rows come first: a later inserter is always a group.
            if (first && group && first.group !== group) {
              const earlier = first.group ? `a ${first.holder} at ${first.path}` : `the row itself at ${first.path}`;
              return { position: held.position, found: refusal(target, at, earlier, md.name) };
            }
            if (!first) inserting.set(target.tablePath, { group, holder: md.name, path: at });
            stack.push([item, target, at]);
          }
        }
      }
    }
  }
  return undefined;
}

/** The refusal: `earlier` holds the first new entities of the table, a `holder` at `property` the next. */
function refusal(
  target: EntityMetadata,
  property: string,
  earlier: string,
  holder: string,
): Omit<UnwrittenRelation, 'entityName'> {
  return {
    kind: 'cascade insert',
    property,
    target: target.name,
    advice: `new ${target.name} entities held by ${earlier} and by a ${holder} at ${property} (reached through stored related entities) would go in with an INSERT each, in turn, where save() inserts them in one in the order it reaches them, so their generated keys would differ from save()'s — save those related entities first (then these rows), or use the ORM's save() for these rows`,
  };
}
