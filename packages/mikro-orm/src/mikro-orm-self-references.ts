import type { SelfReference } from '@cohort/core/adapter';
import { type EntityMetadata, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import { entityInternals, prototypeMeta } from './mikro-orm-internals.js';
import { embeddedValue } from './mikro-orm-relation-finder.js';

// Metadata of an entity type this does not know.
type AnyEntity = any;

/** Whether the property is an owning to-one to the entity's own table (a tree's parent). */
export function refersToOwnTable(meta: EntityMetadata<AnyEntity>, prop: EntityProperty<AnyEntity>): boolean {
  return (
    prop.persist !== false &&
    (prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner === true)) &&
    prop.targetMeta?.root.tableName === meta.root.tableName
  );
}

/**
 * The row's owning to-one references to new entities (no primary key yet) of its own table
 * (EntityAccess.selfReferences): flush inserts such rows with the join column NULL and writes it
 * with its extra updates once the parent has its key. `written` puts the parent's key into the row's
 * snapshot, as flush's extra update leaves it, so a following flush sends nothing.
 */
export function mikroOrmSelfReferences(
  meta: EntityMetadata<AnyEntity>,
): ((entity: AnyEntity) => SelfReference[] | undefined) | undefined {
  if (!meta.root.props.some((prop) => refersToOwnTable(meta, prop))) return undefined;
  return (entity) => {
    const own = prototypeMeta(entity) ?? meta;
    let references: SelfReference[] | undefined;
    for (const prop of own.relations) {
      if (!refersToOwnTable(own, prop) || prop.mapToPk) continue;
      const value = embeddedValue(entity, prop);
      if (value == null || typeof value !== 'object') continue;
      const target = Reference.unwrapReference(value as object);
      if (!Utils.isEntity(target) || entityInternals(target).hasPrimaryKey()) continue;
      references ??= [];
      references.push({
        property: prop.name,
        entityName: own.className === meta.className ? undefined : own.className,
        target,
        columns: prop.fieldNames,
        referenced: prop.referencedColumnNames,
        nullable: prop.nullable === true,
        written: () => {
          const snapshot = entityInternals(entity).__originalEntityData as Record<string, unknown> | undefined;
          if (snapshot) snapshot[prop.name] = entityInternals(target).getPrimaryKey();
        },
      });
    }
    return references;
  };
}
