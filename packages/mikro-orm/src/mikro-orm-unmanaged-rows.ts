import type { EntityGraph, UnwrittenRelation } from '@cohort/core/adapter';
import { type AnyEntity, type EntityMetadata, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import { collectionState, entityInternals } from './mikro-orm-internals.js';
import type { LinkFinder } from './mikro-orm-links.js';
import type { RelationFinder } from './mikro-orm-relation-finder.js';

const MANAGED_TRUE =
  'pass managed: true (a stream defaults to managed: false), so that the written entities are managed as after flush';

/**
 * The relation finder of a call that leaves its rows unmanaged (`managed: false`, a stream's
 * default). A row that a managed entity's loaded collection holds is refused: a many-to-one set to
 * a managed parent whose inverse collection is loaded (MikroORM adds the row to it), or
 * many-to-many links cohort would write (each related entity's loaded inverse collection holds the
 * row). The next flush would reach the unmanaged row through that collection and insert it again;
 * flush itself never leaves a written entity unmanaged.
 */
export function unmanagedRowsFinder(
  meta: EntityMetadata<AnyEntity>,
  relations: RelationFinder | undefined,
  links: LinkFinder | undefined,
): RelationFinder | undefined {
  const held = meta.root.props.filter(heldByInverseCollection);
  const inverse = meta.root.props.filter((prop) => prop.kind === ReferenceKind.ONE_TO_MANY);
  if (held.length === 0 && inverse.length === 0 && !links) return relations;
  return (entity, write, graph, em) => {
    const refused = relations?.(entity, write, graph, em);
    if (refused) return refused;
    // Items added to or removed from a one-to-many are left for the next flush, which would reach
    // the unmanaged row through their reference to it (mikro-orm-relation-finder.ts, pendingItem).
    for (const prop of inverse) if (changedItems(entity, prop, graph)) return refusal('inverse side', prop, meta, false);
    for (const prop of held) {
      const parent = Reference.unwrapReference((entity as Record<string, unknown>)[prop.name] as object);
      if (parent == null || !Utils.isEntity(parent) || !entityInternals(parent).__managed) continue;
      const inverse = (parent as Record<string, unknown>)[prop.inversedBy as string];
      if (!Utils.isCollection(inverse) || !collectionState(inverse).isInitialized()) continue;
      if (!collectionState(inverse).getItems(false).includes(entity)) continue;
      return refusal('unmanaged in a collection', prop, meta);
    }
    const [first] = links?.(entity, write) ?? [];
    if (!first) return undefined;
    return {
      kind: 'many-to-many link',
      property: first.property,
      target: first.target,
      entityName: first.entityName,
      advice: `${MANAGED_TRUE}: left unmanaged, the related entities' loaded collections would hold them and the next flush would insert them again`,
    };
  };
}

/** A to-one the row owns whose other side is a collection (a many-to-one with `inversedBy`). */
function heldByInverseCollection(prop: EntityProperty<AnyEntity>): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE && typeof prop.inversedBy === 'string';
}

function refusal(
  kind: UnwrittenRelation['kind'],
  prop: EntityProperty<AnyEntity>,
  meta: EntityMetadata<AnyEntity>,
  heldBy = true,
): UnwrittenRelation {
  const target = prop.targetMeta?.className ?? prop.type;
  return {
    kind,
    property: prop.name,
    target,
    entityName: meta.className,
    advice: heldBy
      ? `${MANAGED_TRUE}, or write without ${target}.${prop.inversedBy} loaded`
      : `${MANAGED_TRUE}: the ${target} entities added or removed refer to the row and are left for the next flush`,
  };
}

/** Whether a one-to-many collection of the row holds items other than its snapshot's (not counting items the call inserts). */
function changedItems(entity: AnyEntity, prop: EntityProperty<AnyEntity>, graph: EntityGraph | undefined): boolean {
  const value = (entity as Record<string, unknown>)[prop.name];
  if (!Utils.isCollection(value)) return false;
  const collection = collectionState(value);
  if (!collection.isInitialized() || !collection.isDirty()) return false;
  const items = collection.getItems(false).filter((item) => !graph?.has(item as object));
  const snapshot = collection.getSnapshot() ?? [];
  return items.some((item) => !snapshot.includes(item)) || snapshot.some((item) => !items.includes(item));
}
