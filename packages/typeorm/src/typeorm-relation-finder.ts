import type { EntityGraph, RelationWrite, UnwrittenRelation } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral, RelationMetadata } from 'typeorm';
import { relatedKey, storedKeys } from './related-keys.js';
import { orphanedRowAction, typeormInverseSide, writesOrphans } from './typeorm-inverse-side.js';
import { typeormLinks } from './typeorm-links.js';

/**
 * Finds the first relation of a row that save() would write and cohort does not
 * (EntityAccess.unwrittenRelation). `graph`: the entities the call inserts (typeorm-cascades.ts): a
 * new one-to-many item among them that refers to the row is written by its own insert.
 */
export type RelationFinder = (
  entity: ObjectLiteral,
  write: RelationWrite,
  stored?: unknown,
  graph?: EntityGraph,
) => UnwrittenRelation | undefined;

type RelationCheck = (
  entity: ObjectLiteral,
  write: RelationWrite,
  stored: ObjectLiteral | undefined,
  graph?: EntityGraph,
) => UnwrittenRelation | undefined;

const finders = new WeakMap<EntityMetadata, RelationFinder | null>();

/**
 * The relation finder of an entity class, worked out once per metadata; undefined when the class has
 * no relation save() could write beyond its own join columns' keys, so its rows cost nothing. What
 * save() writes through each kind of relation is read from TypeORM's subject builders:
 * - a join column (many-to-one, owning one-to-one) pointing at an object without its referenced key:
 *   save() inserts that entity first (cascade) or fails, where cohort would write NULL;
 * - one-to-many, inverse one-to-one, many-to-many (OneToManySubjectBuilder and its siblings): the
 *   related rows whose key is not among the ones stored for the row (none for a new row) get their
 *   foreign key set or a junction row, stored ones no longer held are unlinked (unless the orphaned
 *   row action is `disable`), related entities without a key are inserted when the relation cascades
 *   inserts and otherwise left alone — an unchanged loaded array writes nothing, as in save().
 * An upsert writes only the row's own columns (TypeORM's upsert ignores relations): only the join
 * columns are checked.
 */
export function typeormRelationFinder(metadata: EntityMetadata): RelationFinder | undefined {
  let finder = finders.get(metadata);
  if (finder === undefined) {
    finder = buildFinder(metadata) ?? null;
    finders.set(metadata, finder);
  }
  return finder ?? undefined;
}

function buildFinder(metadata: EntityMetadata): RelationFinder | undefined {
  const own = finderOf(metadata);
  const children = metadata.childEntityMetadatas.filter((child) => child !== metadata);
  if (children.length === 0) return own;
  // Single-table inheritance: a row is checked with its own class's relations.
  const byClass = new Map<EntityMetadata, RelationFinder | undefined>(children.map((child) => [child, finderOf(child)]));
  if (!own && [...byClass.values()].every((finder) => finder === undefined)) return undefined;
  return (entity, write, stored, graph) => {
    const actual = metadata.findInheritanceMetadata(entity);
    if (actual === metadata) return own?.(entity, write, stored, graph);
    const found = byClass.get(actual)?.(entity, write, stored, graph);
    return found && { ...found, entityName: actual.name };
  };
}

function finderOf(metadata: EntityMetadata): RelationFinder | undefined {
  const checks = checksOf(metadata);
  if (checks.length === 0) return undefined;
  return (entity, write, stored, graph) => {
    for (const check of checks) {
      const found = check(entity, write, stored as ObjectLiteral | undefined, graph);
      if (found) return found;
    }
    return undefined;
  };
}

function checksOf(metadata: EntityMetadata): RelationCheck[] {
  const checks: RelationCheck[] = [];
  for (const relation of metadata.relations) {
    if (relation.persistenceEnabled === false) continue;
    if (relation.isOneToMany || relation.isManyToMany) checks.push(collectionCheck(metadata, relation));
    else if (relation.isOneToOneNotOwner) checks.push(inverseOneCheck(metadata, relation));
    else checks.push(referenceCheck(relation));
  }
  return checks;
}

/** A join column pointing at an entity whose referenced value is missing: cohort would write NULL. */
function referenceCheck(relation: RelationMetadata): RelationCheck {
  const found: UnwrittenRelation = {
    kind: 'unsaved reference',
    property: relation.propertyPath,
    target: relation.inverseEntityMetadata.name,
  };
  const referenced = relation.joinColumns.map((c) => c.referencedColumn);
  return (entity) => {
    const value = relation.getEntityValue(entity);
    if (value === null || typeof value !== 'object') return undefined;
    for (const column of referenced) if (column && column.getEntityValue(value) == null) return found;
    return undefined;
  };
}

/** One-to-many and many-to-many: what OneToManySubjectBuilder / ManyToManySubjectBuilder would write. */
function collectionCheck(metadata: EntityMetadata, relation: RelationMetadata): RelationCheck {
  const target = relation.inverseEntityMetadata;
  const linked: UnwrittenRelation = {
    kind: relation.isManyToMany ? 'many-to-many link' : 'inverse side',
    property: relation.propertyPath,
    target: target.name,
  };
  const inserted: UnwrittenRelation = { ...linked, kind: 'cascade insert' };
  // A new entity of the row's own table may be in the same save (as a subject save() links).
  const newOnes = relation.isCascadeInsert ? inserted : target.tablePath === metadata.tablePath ? linked : undefined;
  const unlinks = relation.isManyToMany || relation.inverseRelation?.orphanedRowAction !== 'disable';
  const keyOf = relatedKey(target);
  // Links to stored entities are written by cohort (typeorm-links.ts): only new entities are refused.
  if (typeormLinks(relation)) {
    const unknownLinks: UnwrittenRelation = {
      ...linked,
      advice: `load these rows with their ${relation.propertyPath} relation (its stored links), or use the ORM's own save`,
    };
    return (entity, write, stored) => {
      if (write === 'upsert') return undefined;
      const value = relation.getEntityValue(entity);
      if (value !== null && !Array.isArray(value)) return undefined;
      // A stored row loaded as save() loads it holds the relation's ids; a snapshot standing in for
      // it (`reload: false`) of an entity loaded without the relation knows none of its stored
      // links, which save() diffs against: writing from it would add stored links again and keep
      // those save() removes.
      if (write === 'update' && stored && relation.getEntityValue(stored as ObjectLiteral) === undefined) return unknownLinks;
      if (!newOnes || value === null) return undefined;
      for (const item of value) if (keyOf(item) === undefined) return newOnes;
      return undefined;
    };
  }
  // A new item the call inserts, referring to the row: its own insert writes the link.
  const inverse = relation.isOneToMany ? relation.inverseRelation : undefined;
  const insertedWith = (entity: ObjectLiteral, item: unknown, graph: EntityGraph | undefined) =>
    graph !== undefined &&
    inverse !== undefined &&
    typeof item === 'object' &&
    item !== null &&
    graph.has(item) &&
    inverse.getEntityValue(item as ObjectLiteral) === entity;
  // Stored items added or removed are written by cohort (typeorm-inverse-side.ts) where it can.
  const side = typeormInverseSide(relation);
  const orphaned: UnwrittenRelation | undefined =
    side && !writesOrphans(relation)
      ? {
          ...linked,
          advice: `its items' relation has orphanedRowAction '${orphanedRowAction(relation)}'${orphanedRowAction(relation) === 'nullify' ? ' on a non-nullable foreign key (save() deletes the item)' : ''}, which cohort does not write: remove or delete those items yourself, or use the ORM's own save`,
        }
      : undefined;
  const unknownItems: UnwrittenRelation = {
    ...linked,
    advice: `load these rows with their ${relation.propertyPath} relation (its stored items), or use the ORM's own save`,
  };
  const added = side ? undefined : linked;
  const removed = side ? orphaned : linked;
  return (entity, write, stored, graph) => {
    if (write === 'upsert') return undefined;
    const value = relation.getEntityValue(entity);
    if (value === undefined || (value !== null && !Array.isArray(value))) return undefined;
    const items: unknown[] = value ?? [];
    const before = storedKeys(relation, keyOf, write === 'update' ? stored : undefined);
    if (items.length === 0 && before.size === 0) return undefined;
    // As for many-to-many links: a snapshot without the relation knows none of the stored items.
    if (side && write === 'update' && stored && relation.getEntityValue(stored) === undefined) return unknownItems;
    const held = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      if (key === undefined) {
        if (newOnes && !insertedWith(entity, item, graph)) return newOnes;
        continue;
      }
      if (added && !before.has(key)) return added;
      held.add(key);
    }
    if (unlinks && removed) for (const key of before) if (!held.has(key)) return removed;
    return undefined;
  };
}

/** The inverse side of a one-to-one: what OneToOneInverseSideSubjectBuilder would write. */
function inverseOneCheck(metadata: EntityMetadata, relation: RelationMetadata): RelationCheck {
  const target = relation.inverseEntityMetadata;
  const linked: UnwrittenRelation = { kind: 'inverse side', property: relation.propertyPath, target: target.name };
  const newOne = relation.isCascadeInsert
    ? { ...linked, kind: 'cascade insert' as const }
    : target.tablePath === metadata.tablePath
      ? linked
      : undefined;
  const keyOf = relatedKey(target);
  return (entity, write, stored) => {
    if (write === 'upsert') return undefined;
    const value = relation.getEntityValue(entity);
    if (value === undefined) return undefined;
    const before = write === 'update' && stored ? keyOf(relation.getEntityValue(stored)) : undefined;
    if (value === null) return before === undefined ? undefined : linked;
    const key = keyOf(value);
    if (key === undefined) return newOne;
    return key === before ? undefined : linked;
  };
}
