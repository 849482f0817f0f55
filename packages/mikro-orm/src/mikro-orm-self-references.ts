import { UnsupportedFeatureError } from '@cohort/core';
import type { RowChange, SelfReference, TreeUpdate } from '@cohort/core/adapter';
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
import { applyReturnedRow } from './apply-returned-row.js';
import { applyOnUpdate } from './mikro-orm-change-tracker.js';
import { propertyPath } from './mikro-orm-column-model.js';
import { diffSnapshots, entityInternals, prototypeMeta } from './mikro-orm-internals.js';
import { embeddedValue } from './mikro-orm-relation-finder.js';
import { perClass } from './per-class.js';
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

/** The owning to-one properties of the class's hierarchy to its own table (a tree's parents), once per class. */
export const ownTableReferences = perClass((meta) => meta.root.props.filter((prop) => refersToOwnTable(meta, prop)));

/**
 * The row's owning to-one references to new entities of its own table (EntityAccess.selfReferences):
 * flush inserts such rows with the join column NULL and writes it with its extra updates once the
 * parent has its key. New: no primary key yet, or inserted by the same call (`insertedByCall`) in an
 * earlier batch — one flush of the whole input would still have inserted it with the row and linked
 * the row with its extra update (moving the version on, with update events; issue 22), so the engine
 * sends that UPDATE for it in the row's batch (a nullable join column: a NOT NULL one is written by
 * the row's INSERT, as before). A row the call has yet to insert (`pending`) is named whatever key
 * it carries (the engine writes a key kept on insert by the row's INSERT when both share a batch,
 * else with the tree's UPDATE once that row went in). `written` puts the parent's key into the row's snapshot, as flush's
 * extra update leaves it, so a following flush sends nothing.
 */
export function mikroOrmSelfReferences(
  meta: EntityMetadata<AnyEntity>,
  insertedByCall?: (entity: AnyEntity) => boolean,
): ((entity: AnyEntity, pending?: (target: object) => boolean) => SelfReference[] | undefined) | undefined {
  if (ownTableReferences(meta).length === 0) return undefined;
  return (entity, pending) => {
    const own = prototypeMeta(entity) ?? meta;
    let references: SelfReference[] | undefined;
    for (const prop of own.relations) {
      if (!refersToOwnTable(own, prop) || prop.mapToPk) continue;
      const value = embeddedValue(entity, prop, own);
      if (value == null || typeof value !== 'object') continue;
      const target = Reference.unwrapReference(value as object);
      if (!Utils.isEntity(target)) continue;
      if (
        entityInternals(target).hasPrimaryKey() &&
        !(prop.nullable === true && insertedByCall?.(target) === true) &&
        !pending?.(target as object)
      )
        continue;
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
 * The tree's follow-up UPDATE as flush sends its extra updates (UnitOfWork.commitExtraUpdates): after
 * every insert of the flush (and its afterCreate hooks), per row an UPDATE change set computed as
 * ChangeSetComputer does — what changed since the insert's snapshot (the parent's key, and whatever
 * an `afterCreate` hook changed), then the `onUpdate` values (set on the entity) — `beforeUpdate`
 * (entity hooks, then subscribers), what those hooks changed joining the payload, the UPDATE of all
 * of it (moving the version on), then `afterUpdate` with the new version in the payload. The
 * engine writes the columns the change names with the parent; `written` leaves the snapshot holding
 * what was written, so a following flush sends nothing. Refused (`tree update`): a change the
 * UPDATE cannot write (a property without a column of the table, a changed primary key). Undefined
 * for a class without such a relation. `columns`: the model's writable columns.
 */
export function mikroOrmTreeUpdate(
  meta: EntityMetadata<AnyEntity>,
  em: () => EntityManager,
  columns: ReadonlySet<string>,
): TreeUpdate<AnyEntity> | undefined {
  if (!mikroOrmSelfReferences(meta)) return undefined;
  // The entity as the change set last took it (prepareEntity): what before-update hooks change is diffed against it.
  const baselines = new WeakMap<ChangeSet<AnyEntity>, Data>();
  const refuse = (entity: AnyEntity, property: string, why: string, index?: number, batch?: number) => {
    const own = prototypeMeta(entity) ?? meta;
    return new UnsupportedFeatureError(
      'tree update',
      `${own.className}.${property}${index === undefined ? '' : ` at row ${index}`}: flush writes ${why} in the UPDATE that sets a tree's parent after its insert; cohort cannot write it there, so it refuses rather than leave it unwritten. Insert the parents first (an earlier call), or leave ${property} alone in the hooks.`,
      { entityName: own.className, property, index, entity, batch },
    );
  };
  /** The engine's view of the change set: its properties, their stored values, the columns written. */
  const rowChange = (
    entity: AnyEntity,
    changeSet: ChangeSet<AnyEntity>,
    references: ReadonlyMap<string, readonly string[]>,
    index?: number,
    batch?: number,
  ): RowChange => {
    const own = prototypeMeta(entity) ?? meta;
    const snapshot = (entityInternals(entity).__originalEntityData ?? {}) as Data;
    const properties: string[] = [];
    const before: Data = {};
    const written: string[] = [];
    const add = (name: string) => {
      if (!written.includes(name)) written.push(name);
    };
    for (const key of Object.keys(changeSet.payload)) {
      const joins = references.get(key);
      if (joins) {
        properties.push(key);
        before[key] = null;
        joins.forEach(add);
        continue;
      }
      if (key === own.versionProperty || waiting(entity, key)) continue;
      if ((own.primaryKeys as readonly string[]).includes(key))
        throw refuse(entity, key, `a changed primary key (${key})`, index, batch);
      const prop = (own.properties as Partial<Record<string, EntityProperty<AnyEntity>>>)[key];
      const fields = prop?.fieldNames?.filter((name) => columns.has(name)) ?? [];
      if (!prop || fields.length === 0)
        throw refuse(
          entity,
          key,
          `what changed on the row (${key}), which maps to no writable column of the table,`,
          index,
          batch,
        );
      const path = propertyPath(own, prop).join('.');
      properties.push(path);
      before[path] = snapshot[key];
      fields.forEach(add);
    }
    return { properties, before, columns: written, native: changeSet };
  };
  const joinsOf = (change: RowChange) => (change.native as TreeChangeSet).references;
  return {
    before: true,
    change(entity, references, index, batch) {
      const own = prototypeMeta(entity) ?? meta;
      const snapshot = entityInternals(entity).__originalEntityData as Data | undefined;
      const manager = em();
      // As ChangeSetComputer: the diff since the snapshot, then `onUpdate` (something changed: the
      // parent), its values joining the payload.
      const first = snapshot ? diffSnapshots(manager, own, snapshot, prepareEntity(manager, entity)) : {};
      applyOnUpdate(manager, entity, own);
      const prepared = prepareEntity(manager, entity);
      const payload: Data = { ...first, ...(snapshot ? withoutUndefined(diffSnapshots(manager, own, snapshot, prepared)) : {}) };
      for (const reference of references) payload[reference.property] = entityInternals(reference.target).getPrimaryKey();
      if (own.versionProperty) delete payload[own.versionProperty as string];
      const changeSet = new ChangeSet(entity, ChangeSetType.UPDATE, payload, own) as TreeChangeSet;
      changeSet.originalEntity = { ...(snapshot ?? {}) };
      changeSet.references = new Map(references.map((r) => [r.property, r.columns]));
      treeChangeSets.add(changeSet);
      baselines.set(changeSet, prepared);
      return rowChange(entity, changeSet, changeSet.references, index, batch);
    },
    hooked(entity, change, index, batch) {
      // As flush's runHooks after beforeUpdate: what the hooks changed joins the payload.
      const changeSet = change.native as TreeChangeSet;
      const own = prototypeMeta(entity) ?? meta;
      const current = prepareEntity(em(), entity);
      const diff = diffSnapshots(em(), own, baselines.get(changeSet) ?? current, current);
      if (Object.keys(diff).length === 0) return change;
      Object.assign(changeSet.payload, diff);
      baselines.set(changeSet, current);
      return rowChange(entity, changeSet, joinsOf(change), index, batch);
    },
    written(entity, returned, change) {
      const own = prototypeMeta(entity) ?? meta;
      const changeSet = change.native as TreeChangeSet;
      const version = own.versionProperty as string | undefined;
      const field = version ? (own.properties as Record<string, EntityProperty<AnyEntity>>)[version]?.fieldNames?.[0] : undefined;
      if (version && field && field in returned) {
        (entity as Data)[version] = returned[field];
        changeSet.payload[version] = returned[field];
      }
      // The other read-back columns (stored generated ones), mapped onto the entity and into the
      // payload as flush maps its UPDATE's RETURNING row.
      const others = Object.fromEntries(Object.entries(returned).filter(([name]) => name !== field));
      if (Object.keys(others).length > 0) Object.assign(changeSet.payload, applyReturnedRow(em(), own, entity, others));
      // The snapshot holds what the UPDATE wrote (flush takes the whole entity after its UPDATE).
      const snapshot = entityInternals(entity).__originalEntityData as Data | undefined;
      if (!snapshot) return;
      const prepared = prepareEntity(em(), entity);
      for (const key of Object.keys(changeSet.payload)) if (!changeSet.references.has(key)) snapshot[key] = prepared[key];
    },
  };
}

type Data = Record<string, unknown>;

/** Whether the property refers to an entity without a key yet (a parent a later UPDATE sets). */
function waiting(entity: AnyEntity, key: string): boolean {
  const value = (entity as Data)[key];
  if (value == null || typeof value !== 'object') return false;
  const target = Reference.unwrapReference(value as object);
  return Utils.isEntity(target) && !entityInternals(target).hasPrimaryKey();
}

/** A tree's change set, with the join columns of the references it writes (property → columns). */
type TreeChangeSet = ChangeSet<AnyEntity> & { references: ReadonlyMap<string, readonly string[]> };

function withoutUndefined(data: Data): Data {
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined));
}
