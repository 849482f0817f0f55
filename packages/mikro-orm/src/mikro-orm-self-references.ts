import { UnsupportedFeatureError } from '@cohort/core';
import type { SelfReference, TreeUpdate } from '@cohort/core/adapter';
import {
  ChangeSet,
  ChangeSetType,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  Reference,
  ReferenceKind,
  Utils,
} from '@mikro-orm/core';
import { diffSnapshots, entityInternals, prototypeMeta } from './mikro-orm-internals.js';
import { embeddedValue } from './mikro-orm-relation-finder.js';
import { prepareEntity } from './prepare-entity.js';

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

// The change sets of a tree's follow-up UPDATE: not updates the call's write context counts.
const treeChangeSets = new WeakSet<object>();

/** Whether a batch's update events are a tree's follow-up UPDATE (see {@link mikroOrmTreeUpdate}). */
export function isTreeUpdate(changes: readonly { readonly native?: unknown }[]): boolean {
  return (
    changes.length > 0 && changes.every((c) => typeof c.native === 'object' && c.native !== null && treeChangeSets.has(c.native))
  );
}

/**
 * The update events of a tree's follow-up UPDATE as flush fires them for its extra updates
 * (UnitOfWork.commitExtraUpdates): after every insert of the flush (and its afterCreate hooks), per
 * row `beforeUpdate` then `afterUpdate` (entity hooks, then subscribers) with an UPDATE change set
 * whose payload is the parent's key — and, in `afterUpdate`, the new version. Its UPDATE moves the
 * version on. What flush would write beside the parent's key cohort refuses (`tree update`): the
 * values of `onUpdate` properties, and whatever a hook (`afterCreate`, `beforeUpdate`) changed on the
 * row since its insert. Undefined for a class without such a relation.
 */
export function mikroOrmTreeUpdate(meta: EntityMetadata<AnyEntity>, em: () => EntityManager): TreeUpdate<AnyEntity> | undefined {
  if (!mikroOrmSelfReferences(meta)) return undefined;
  const refuse = (entity: AnyEntity, properties: readonly string[], why: string, index?: number, batch?: number) => {
    const own = prototypeMeta(entity) ?? meta;
    const name = `${own.className}.${properties[0]}`;
    return new UnsupportedFeatureError(
      'tree update',
      `${name}${index === undefined ? '' : ` at row ${index}`}: flush writes ${why} in the UPDATE that sets a tree's parent after its insert; cohort writes only the parent's key there (and the version), so it refuses rather than leave it unwritten. Insert the parents first (an earlier call), or leave ${properties.join(', ')} alone in the hooks.`,
      { entityName: own.className, property: properties[0], index, entity, batch },
    );
  };
  /** What flush's extra update would write beside the references and the version. */
  const extra = (entity: AnyEntity, properties: readonly string[]): string[] => {
    const own = prototypeMeta(entity) ?? meta;
    const snapshot = entityInternals(entity).__originalEntityData as Record<string, unknown> | undefined;
    if (!snapshot) return [];
    const diff = diffSnapshots(em(), own, snapshot, prepareEntity(em(), entity));
    const skip = new Set([...properties, ...(own.versionProperty ? [own.versionProperty as string] : [])]);
    return Object.keys(diff).filter((key) => !skip.has(key));
  };
  return {
    before: true,
    change(entity, references) {
      const own = prototypeMeta(entity) ?? meta;
      const properties = references.map((r) => r.property);
      const onUpdate = own.hydrateProps.filter((p) => p.onUpdate).map((p) => p.name as string);
      if (onUpdate.length > 0) throw refuse(entity, [...properties, ...onUpdate], `the onUpdate value of ${onUpdate.join(', ')}`);
      const changed = extra(entity, properties);
      if (changed.length > 0)
        throw refuse(entity, [...properties, ...changed], `what changed on the row since its insert (${changed.join(', ')})`);
      const payload: Record<string, unknown> = {};
      for (const reference of references) payload[reference.property] = entityInternals(reference.target).getPrimaryKey();
      const changeSet = new ChangeSet(entity, ChangeSetType.UPDATE, payload, own);
      changeSet.originalEntity = { ...(entityInternals(entity).__originalEntityData ?? {}) };
      treeChangeSets.add(changeSet);
      return {
        properties,
        before: Object.fromEntries(properties.map((p) => [p, null])),
        columns: references.flatMap((r) => r.columns),
        native: changeSet,
      };
    },
    checkHooked(entity, change, index, batch) {
      const changed = extra(entity, change.properties);
      if (changed.length > 0) {
        throw refuse(
          entity,
          [...change.properties, ...changed],
          `what its beforeUpdate hooks changed (${changed.join(', ')})`,
          index,
          batch,
        );
      }
    },
    written(entity, returned, change) {
      const own = prototypeMeta(entity) ?? meta;
      const version = own.versionProperty as string | undefined;
      const field = version ? (own.properties as Record<string, EntityProperty<AnyEntity>>)[version]?.fieldNames?.[0] : undefined;
      if (!version || !field || !(field in returned)) return;
      const value = returned[field];
      (entity as Record<string, unknown>)[version] = value;
      const snapshot = entityInternals(entity).__originalEntityData as Record<string, unknown> | undefined;
      if (snapshot) snapshot[version] = prepareEntity(em(), entity)[version];
      (change.native as ChangeSet<AnyEntity>).payload[version] = value;
    },
  };
}
