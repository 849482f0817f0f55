import type { UnwrittenRelation } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { snapshotAsLoaded, snapshotOf } from './entity-snapshots.js';
import { saveDiffOf } from './typeorm-internals.js';

/**
 * A related entity with a key, reached from the row at `position` by `path`: save() updates it with
 * the row when it changed (`updates`: reached through a relation that cascades updates), and inserts
 * it when its row does not exist (`inserts`: through one that cascades inserts).
 */
interface Reached {
  readonly position: number;
  readonly path: string;
  readonly entity: ObjectLiteral;
  readonly metadata: EntityMetadata;
  updates: boolean;
  inserts: boolean;
}

const cascading = new WeakMap<EntityMetadata, boolean>();

// Related entities cohort inserted with rows (typeorm-cascades.ts), while their transaction stands:
// their rows exist, no look-up needed (this call's new shops, when the rows are checked).
const insertedRelated = new WeakSet<object>();

/** Notes a related entity the call inserted (`true`), or one whose insert rolled back (`false`). */
export function noteInsertedRelated(entity: object, inserted: boolean): void {
  if (inserted) insertedRelated.add(entity);
  else insertedRelated.delete(entity);
}

/** Whether save() cascades through a relation of the class or of another class of its table. */
function cascades(metadata: EntityMetadata): boolean {
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
 * The first row of the batch that reaches, through relations that cascade, a stored entity that
 * save() would update with it — as CascadesSubjectBuilder walks them: through every relation that
 * cascades inserts or updates, to any depth; an entity reached through one that cascades updates and
 * has its key is updated when it changed. "Changed" is what save() computes
 * (SubjectChangedColumnsComputer), against the entity's snapshot when trackEntityChanges took one
 * (as the rows' own diff), otherwise against its row, loaded like save() loads it: one query per
 * related class and batch, only for batches that reach such entities. Entities of the batch are
 * written by the call and not looked at. One with a key whose row does not exist, reached through a
 * relation that cascades inserts, save() inserts (SubjectDatabaseEntityLoader finds no row): cohort
 * inserts only related entities without a key, and refuses such a row (`cascade insert`) rather than
 * write a foreign key to no row. With a snapshot (trackEntityChanges) the entity was loaded: stored.
 */
export async function findChangedRelation(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
  onQuery: () => void,
): Promise<{ position: number; found: UnwrittenRelation } | undefined> {
  if (!cascades(metadata)) return undefined;
  const reached = reachedEntities(metadata, entities);
  if (reached.length === 0) return undefined;
  const changed = (r: Reached, stored: ObjectLiteral): boolean =>
    r.updates && saveDiffOf(r.metadata, r.entity, stored).mustBeUpdated;
  let first: Reached | undefined;
  let missing: Reached | undefined;
  const toLoad = new Map<EntityMetadata, Reached[]>();
  for (const r of reached) {
    const snapshot = snapshotOf(r.entity);
    if (snapshot === undefined) {
      const list = toLoad.get(r.metadata);
      if (list) list.push(r);
      else toLoad.set(r.metadata, [r]);
    } else if (changed(r, snapshotAsLoaded(snapshot, r.metadata, true)) && (!first || r.position < first.position)) {
      first = r;
    }
  }
  for (const [md, list] of toLoad) {
    // Only rows earlier than a change already found can change the answer.
    const wanted = first ? list.filter((r) => r.position < (first as Reached).position) : list;
    if (wanted.length === 0) continue;
    const qb = queryRunner.manager
      .getRepository<ObjectLiteral>(md.target)
      .createQueryBuilder('e')
      .setFindOptions({
        loadEagerRelations: false,
        loadRelationIds: { relations: md.relationsWithJoinColumns.map((r) => r.propertyPath), disableMixedMap: true },
        withDeleted: true,
      })
      .whereInIds(wanted.map((r) => md.getEntityIdMap(r.entity)));
    onQuery();
    const rows = new Map((await qb.getMany()).map((row) => [keyText(md, row), row]));
    for (const r of wanted) {
      const row = rows.get(keyText(md, r.entity));
      if (row && changed(r, row) && (!first || r.position < first.position)) first = r;
      if (!row && r.inserts && (!missing || r.position < missing.position)) missing = r;
    }
  }
  if (missing && (!first || missing.position <= first.position)) return missingRow(metadata, entities, missing);
  if (!first) return undefined;
  const own = metadata.findInheritanceMetadata(entities[first.position] as ObjectLiteral);
  return {
    position: first.position,
    found: {
      kind: 'cascade update',
      property: first.path,
      target: first.metadata.name,
      ...(own !== metadata && { entityName: own.name }),
    },
  };
}

/** The entities with a key reached through relations that cascade inserts or updates, each once. */
function reachedEntities(metadata: EntityMetadata, entities: readonly ObjectLiteral[]): Reached[] {
  const inBatch = new Set<object>(entities);
  const visited = new Set<object>();
  const reached = new Map<object, Reached>();
  const walk = (owner: ObjectLiteral, md: EntityMetadata, path: string, position: number): void => {
    for (const relation of md.relations) {
      if (!relation.isCascadeInsert && !relation.isCascadeUpdate) continue;
      const value = relation.getEntityValue(owner);
      if (value === null || typeof value !== 'object') continue;
      const at = path ? `${path}.${relation.propertyPath}` : relation.propertyPath;
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item === null || typeof item !== 'object' || inBatch.has(item)) continue;
        const target = relation.inverseEntityMetadata.findInheritanceMetadata(item);
        if (target.hasAllPrimaryKeys(item) && !insertedRelated.has(item)) {
          const found = reached.get(item) ?? {
            position,
            path: at,
            entity: item,
            metadata: target,
            updates: false,
            inserts: false,
          };
          found.updates ||= relation.isCascadeUpdate;
          found.inserts ||= relation.isCascadeInsert;
          reached.set(item, found);
        }
        if (visited.has(item)) continue;
        visited.add(item);
        walk(item, target, at, position);
      }
    }
  };
  entities.forEach((entity, position) => {
    walk(entity, metadata.findInheritanceMetadata(entity), '', position);
  });
  return [...reached.values()];
}

/** An entity's key as text, to match loaded rows with the entities they were loaded for. */
function keyText(md: EntityMetadata, entity: ObjectLiteral): string {
  return JSON.stringify(md.primaryColumns.map((c) => String(c.getEntityValue(entity))));
}

/** The refusal of a row reaching a related entity with a key and no row, which save() would insert. */
function missingRow(
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
  missing: Reached,
): { position: number; found: UnwrittenRelation } {
  const own = metadata.findInheritanceMetadata(entities[missing.position] as ObjectLiteral);
  const target = missing.metadata.name;
  return {
    position: missing.position,
    found: {
      kind: 'cascade insert',
      property: missing.path,
      target,
      ...(own !== metadata && { entityName: own.name }),
      advice: `the ${target} has a key (${keyText(missing.metadata, missing.entity)}) but no row: save() looks it up and inserts it, cohort inserts a related entity only when it has no key — insert the ${target} entities first (a bulk call of their own), or leave their keys unset`,
    },
  };
}
