import type { ChangedRelations, InsertedEntities, RelatedUpdateGroup } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { snapshotAsLoaded, snapshotOf } from './entity-snapshots.js';
import { type CallRows, keyText, tableKey } from './typeorm-call-rows.js';
import { batchCopyRefusal, changedRow, earliest, missingRow, ownTableRefusal, withRowClass } from './typeorm-cascade-refusals.js';
import { saveDiffOf } from './typeorm-internals.js';
import { splitInsertRefusal } from './typeorm-new-entity-order.js';

/**
 * A related entity with a key, reached from the row at `position` by `path`: save() updates it with
 * the row when it changed (`updates`: reached through a relation that cascades updates), and inserts
 * it when its row does not exist (`inserts`: through one that cascades inserts).
 */
export interface Reached {
  readonly position: number;
  readonly path: string;
  readonly entity: ObjectLiteral;
  readonly metadata: EntityMetadata;
  updates: boolean;
  inserts: boolean;
  /** Holds a new entity through a relation that cascades inserts: save() inserts it even when this one did not change. */
  holdsNew: boolean;
  /** The order the walk reached it in (rows in order, depth first), as save() builds its subjects. */
  readonly order: number;
  /**
   * Of the rows' own table, reached only through another object with its key given as a row of
   * another batch (or through such a one): that row's index and key (see CallRows).
   */
  copyAt?: Copy;
}

/** A row of another batch with the key of a reached entity of the rows' own table. */
interface Copy {
  readonly index: number;
  readonly key: string;
}

const cascading = new WeakMap<EntityMetadata, boolean>();

// Related entities cohort inserted with rows (typeorm-cascades.ts), while their transaction stands:
// their rows exist, no look-up needed (this call's new shops, when the rows are checked).
const insertedRelated = new WeakSet<object>();

// Per row of the batch last walked, the objects it reached that save() takes for another (a later
// copy of a stored entity, another object with a row's key): save() neither writes nor walks them.
const skippedCopies = new WeakMap<object, WeakSet<object>>();

/** Whether the walk of the row's batch found `item` a copy that save() neither writes nor walks (the new entities it holds are not inserted). */
export function skippedCopy(row: object, item: object): boolean {
  return skippedCopies.get(row)?.has(item) ?? false;
}

/** Notes a related entity the call inserted (`true`), or one whose insert rolled back (`false`). */
export function noteInsertedRelated(entity: object, inserted: boolean): void {
  if (inserted) insertedRelated.add(entity);
  else insertedRelated.delete(entity);
}

/** Whether save() cascades through a relation of the class or of another class of its table. */
export function cascades(metadata: EntityMetadata): boolean {
  let found = cascading.get(metadata);
  if (found === undefined) {
    found = [metadata, ...metadata.childEntityMetadatas].some((md) =>
      md.relations.some((r) => r.isCascadeInsert || r.isCascadeUpdate),
    );
    cascading.set(metadata, found);
  }
  return found;
}

/**
 * The stored entities that save() would update with the rows of the batch (grouped by class with
 * `groupOf`, each once; `first`: the earliest row reaching one), or the refusal of the earliest row
 * reaching a keyed entity with no row — found as CascadesSubjectBuilder walks the relations: through every relation that
 * cascades inserts or updates, to any depth; an entity reached through one that cascades updates and
 * has its key is updated when it changed. "Changed" is what save() computes
 * (SubjectChangedColumnsComputer), against the entity's snapshot when trackEntityChanges took one
 * (as the rows' own diff), otherwise against its row, loaded like save() loads it: one query per
 * related class and batch, only for batches that reach such entities. Entities of the batch are
 * written by the call and not looked at, nor other objects with a row's key (save() takes them for
 * the row). Changed entities of the rows' own table are one more group of their class: a second
 * UPDATE of the table, after the rows'. One with a key whose row does not exist, reached through a
 * relation that cascades inserts, save() inserts (SubjectDatabaseEntityLoader finds no row): cohort
 * inserts only related entities without a key, and refuses such a row (`cascade insert`) rather than
 * write a foreign key to no row. With a snapshot (trackEntityChanges) the entity was loaded: stored.
 * The entities grouped to update join the call's `graph`: their update inserts the new entities
 * they hold (their class's cascades), so the rows' relation finder does not refuse those. So do those
 * reached only through relations that cascade inserts and holding new entities, which save() inserts
 * without updating the holder (its group's tracker finds it unchanged).
 */
export async function findChangedRelation(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
  onQuery: () => void,
  groupOf?: RelatedGroupOf,
  graph?: InsertedEntities,
  callRows?: CallRows,
  initial?: WeakMap<object, ObjectLiteral>,
): Promise<ChangedRelations | undefined> {
  if (!cascades(metadata)) return undefined;
  const reached = reachedEntities(metadata, entities, callRows);
  if (reached.length === 0) return undefined;
  // Changed, or holding new entities (the update inserts them with it, as save() inserts them). One
  // reached only through relations that cascade inserts is never updated by save(), but the new
  // entities it holds are inserted: it joins its class's group, which inserts them and does not
  // update it (`notUpdated`).
  // Changed before the hooks too (`initial`): save() sends its before-update event, whatever the hooks did.
  const changed = (r: Reached, stored: ObjectLiteral): boolean => {
    if (!r.updates) return r.inserts && r.holdsNew;
    if (r.holdsNew || saveDiffOf(r.metadata, r.entity, stored).mustBeUpdated) return true;
    const before = initial?.get(r.entity);
    return before !== undefined && saveDiffOf(r.metadata, before, stored).mustBeUpdated;
  };
  const found: Reached[] = [];
  let missing: Reached | undefined;
  const toLoad = new Map<EntityMetadata, Reached[]>();
  for (const r of reached) {
    const snapshot = snapshotOf(r.entity);
    if (snapshot === undefined) {
      const list = toLoad.get(r.metadata);
      if (list) list.push(r);
      else toLoad.set(r.metadata, [r]);
    } else if (changed(r, snapshotAsLoaded(snapshot, r.metadata, true))) {
      found.push(r);
    }
  }
  for (const [md, list] of toLoad) {
    const qb = queryRunner.manager
      .getRepository<ObjectLiteral>(md.target)
      .createQueryBuilder('e')
      .setFindOptions({
        loadEagerRelations: false,
        loadRelationIds: { relations: md.relationsWithJoinColumns.map((r) => r.propertyPath), disableMixedMap: true },
        withDeleted: true,
      })
      .whereInIds(list.map((r) => md.getEntityIdMap(r.entity)));
    onQuery();
    const rows = new Map((await qb.getMany()).map((row) => [keyText(md, row), row]));
    for (const r of list) {
      const row = rows.get(keyText(md, r.entity));
      if (row && changed(r, row)) found.push(r);
      if (!row && r.inserts && (!missing || r.position < missing.position)) missing = r;
    }
  }
  // Before the later batches look: changed or not, the first object reached per key is save()'s.
  const batchCopy = callRows && batchCopyRefusal(metadata, entities, found, callRows);
  if (!batchCopy) for (const r of reached) callRows?.noteReached(r.metadata, r.entity);
  const first = earliest(found);
  if (missing && (!first || missing.position <= first.position)) {
    return { first: missingRow(metadata, entities, missing), refused: true, groups: [] };
  }
  if (!first) return undefined;
  const copied = callRows && (ownTableRefusal(metadata, entities, found, callRows) ?? batchCopy);
  if (copied) return { first: copied, refused: true, groups: [] };
  const groups: RelatedUpdateGroup[] = [];
  if (groupOf) {
    // One group per class, classes in the order first reached; entities in the order reached.
    const byClass = new Map<EntityMetadata, Reached[]>();
    for (const r of [...found].sort((a, b) => a.order - b.order)) {
      const list = byClass.get(r.metadata);
      if (list) list.push(r);
      else byClass.set(r.metadata, [r]);
    }
    const split = splitInsertRefusal(byClass, entities, metadata);
    if (split)
      return { first: { position: split.position, found: withRowClass(metadata, entities, split) }, refused: true, groups: [] };
    for (const [md, list] of byClass) {
      const head = list[0] as Reached;
      for (const r of list) graph?.add(r.entity);
      const viaOf = (r: Reached) => ({
        entityName: metadata.findInheritanceMetadata(entities[r.position] as ObjectLiteral).name,
        property: r.path,
      });
      const first = viaOf(head);
      // Each entity's own path, for an error at it, where it is not the first entity's.
      const vias = new Map<ObjectLiteral, { entityName: string; property: string }>();
      for (const r of list) {
        const via = viaOf(r);
        if (via.entityName !== first.entityName || via.property !== first.property) vias.set(r.entity, via);
      }
      groups.push(
        groupOf(
          md,
          list.map((r) => r.entity),
          list.map((r) => r.position),
          first,
          list.filter((r) => !r.updates).map((r) => r.entity),
          vias,
        ),
      );
    }
  }
  return { first: changedRow(metadata, entities, first), groups };
}

/**
 * Makes the update group of a related class (the tracker's: on its transaction); `notUpdated`: those
 * of its entities save() does not update (reached through relations that cascade inserts only),
 * whose new entities the group inserts all the same.
 */
export type RelatedGroupOf = (
  metadata: EntityMetadata,
  entities: ObjectLiteral[],
  positions: number[],
  via: { entityName: string; property: string },
  notUpdated: ObjectLiteral[],
  vias: ReadonlyMap<ObjectLiteral, { entityName: string; property: string }>,
) => RelatedUpdateGroup;

/** An entity for the walk to enter: the entity, its class, its path, the row's position, the copy it is reached through. */
type Walk = [entity: ObjectLiteral, metadata: EntityMetadata, path: string, position: number, copied: Copy | undefined];

/** The entities with a key reached through relations that cascade inserts or updates, each once. */
export function reachedEntities(metadata: EntityMetadata, entities: readonly ObjectLiteral[], callRows?: CallRows): Reached[] {
  const inBatch = new Set<object>(entities);
  // A row's marks are this walk's (made when it skips one: most rows skip none).
  for (const entity of entities) skippedCopies.delete(entity);
  const skip = (position: number, item: object) => {
    const row = entities[position] as object;
    const marks = skippedCopies.get(row);
    if (marks) marks.add(item);
    else skippedCopies.set(row, new WeakSet([item]));
  };
  // Another object with the key of a row of the batch: save() takes it for the row's subject (found
  // by key, CascadesSubjectBuilder.findByPersistEntityLike) and neither updates nor walks it.
  const rowKeys = new Set<string>();
  for (const entity of entities) {
    const md = metadata.findInheritanceMetadata(entity);
    if (md.hasAllPrimaryKeys(entity)) rowKeys.add(keyText(md, entity));
  }
  const visited = new Set<object>();
  const reached = new Map<object, Reached>();
  // The first object reached per stored row: save() takes every later object with its key (another
  // copy a find() gave) for that one's subject — neither writes nor walks it, findByPersistEntityLike.
  const firstByKey = new Map<string, Reached>();
  // A stored entity of the rows' own table with another object of another batch's row: the index of that row.
  const copyOf = (target: EntityMetadata, item: ObjectLiteral): Copy | undefined => {
    if (!callRows || target.tablePath !== metadata.tablePath || !target.hasAllPrimaryKeys(item)) return undefined;
    const row = callRows.withKey(metadata, target, item);
    return row && row.row !== item ? { index: row.index, key: keyText(target, item) } : undefined;
  };
  // Yields each entity to walk next, depth first: the driver below enters it before this one goes on.
  const walk = function* (
    owner: ObjectLiteral,
    md: EntityMetadata,
    path: string,
    position: number,
    copied?: Copy,
  ): Generator<Walk, void, void> {
    for (const relation of md.relations) {
      if (!relation.isCascadeInsert && !relation.isCascadeUpdate) continue;
      const value = relation.getEntityValue(owner);
      if (value === null || typeof value !== 'object') continue;
      const at = path ? `${path}.${relation.propertyPath}` : relation.propertyPath;
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item === null || typeof item !== 'object' || inBatch.has(item)) continue;
        const target = relation.inverseEntityMetadata.findInheritanceMetadata(item);
        if (target.tablePath === metadata.tablePath && target.hasAllPrimaryKeys(item) && rowKeys.has(keyText(target, item))) {
          skip(position, item);
          continue;
        }
        const copyAt = copied ?? copyOf(target, item);
        const holder = reached.get(owner);
        if (holder && relation.isCascadeInsert && !target.hasAllPrimaryKeys(item)) holder.holdsNew = true;
        if (target.hasAllPrimaryKeys(item) && !insertedRelated.has(item)) {
          const first = reached.has(item) ? undefined : firstByKey.get(tableKey(target, item));
          if (first) {
            first.updates ||= relation.isCascadeUpdate;
            first.inserts ||= relation.isCascadeInsert;
            skip(position, item);
            continue;
          }
          const found = reached.get(item) ?? {
            position,
            path: at,
            entity: item,
            metadata: target,
            updates: false,
            inserts: false,
            holdsNew: false,
            order: reached.size,
            copyAt,
          };
          // Reached through a path without such a copy too: save() reaches it there.
          if (copyAt === undefined) found.copyAt = undefined;
          found.updates ||= relation.isCascadeUpdate;
          found.inserts ||= relation.isCascadeInsert;
          reached.set(item, found);
          firstByKey.set(tableKey(target, item), found);
        }
        if (visited.has(item)) continue;
        visited.add(item);
        yield [item, target, at, position, copyAt];
      }
    }
  };
  entities.forEach((entity, position) => {
    // An explicit stack, not recursion: a chain of thousands of new entities would overflow the call stack.
    const walking = [walk(entity, metadata.findInheritanceMetadata(entity), '', position)];
    while (walking.length > 0) {
      const next = (walking[walking.length - 1] as Generator<Walk, void, void>).next();
      if (next.done) walking.pop();
      else walking.push(walk(...next.value));
    }
  });
  return [...reached.values()];
}
