import type { UnwrittenRelation } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { snapshotAsLoaded, snapshotOf } from './entity-snapshots.js';
import { saveDiffOf } from './typeorm-internals.js';

/** A stored related entity save() would update with a row: reached from the row at `position` by `path`. */
interface Reached {
  readonly position: number;
  readonly path: string;
  readonly entity: ObjectLiteral;
  readonly metadata: EntityMetadata;
}

const cascading = new WeakMap<EntityMetadata, boolean>();

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
 * written by the call and not looked at; an entity whose row is gone is left alone.
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
  const changed = (r: Reached, stored: ObjectLiteral): boolean => saveDiffOf(r.metadata, r.entity, stored).mustBeUpdated;
  let first: Reached | undefined;
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
    }
  }
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

/** The stored entities (with a key) reached through relations that cascade updates, each once. */
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
        if (relation.isCascadeUpdate && !reached.has(item) && target.hasAllPrimaryKeys(item)) {
          reached.set(item, { position, path: at, entity: item, metadata: target });
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
