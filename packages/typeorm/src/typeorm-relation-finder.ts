import type { EntityGraph, RelationWrite, UnwrittenRelation } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral, RelationMetadata } from 'typeorm';
import { relatedKey, storedKeys } from './related-keys.js';
import { skippedCopy } from './typeorm-cascade-changes.js';
import { heldBy } from './typeorm-held-items.js';
import { typeormInverseSide, unwrittenOrphans } from './typeorm-inverse-side.js';
import { typeormLinks, unwrittenJunctionColumns } from './typeorm-links.js';
import { refersToOwnTable } from './typeorm-self-references.js';

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
    else checks.push(referenceCheck(relation, refersToOwnTable(metadata, relation)));
  }
  const behindStored = storedHoldingNewCheck(metadata);
  if (behindStored) checks.push(behindStored);
  return checks;
}

/** A join column pointing at an entity whose referenced value is missing: cohort would write NULL. */
function referenceCheck(relation: RelationMetadata, ownTable: boolean): RelationCheck {
  const found: UnwrittenRelation = {
    kind: 'unsaved reference',
    property: relation.propertyPath,
    target: relation.inverseEntityMetadata.name,
  };
  const referenced = relation.joinColumns.map((c) => c.referencedColumn);
  const cascadesInsert = relation.isCascadeInsert && !ownTable;
  return (entity, write, _stored, graph) => {
    // A new parent of the own table is the engine's to link on insert (typeorm-self-references.ts).
    if (ownTable && write === 'insert') return undefined;
    const value = relation.getEntityValue(entity);
    if (value === null || typeof value !== 'object') return undefined;
    // A stored row's new target that the call inserts before the row's UPDATE (typeorm-cascades.ts
    // follows the relation and puts its class before the row's), whose key the UPDATE then writes
    // (issue 22). The graph holds the call's rows too: a new row of the own table is not one.
    if (write === 'update' && cascadesInsert && graph?.has(value)) return undefined;
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
    return (entity, write, stored, graph) => {
      if (write === 'upsert') return undefined;
      const value = relation.getEntityValue(entity);
      if (value !== null && !Array.isArray(value)) return undefined;
      // A stored row loaded as save() loads it holds the relation's ids; a snapshot standing in for
      // it (`reload: false`) of an entity loaded without the relation knows none of its stored
      // links, which save() diffs against: writing from it would add stored links again and keep
      // those save() removes.
      if (write === 'update' && stored && relation.getEntityValue(stored as ObjectLiteral) === undefined) return unknownLinks;
      if (!newOnes || value === null) return undefined;
      // New items the call inserts with a row, new or stored (typeorm-cascades.ts), are linked once
      // they have their keys; new rows of the row's own table are not cascaded: refused.
      const inserted = target.tablePath !== metadata.tablePath ? graph : undefined;
      for (const item of value) if (keyOf(item) === undefined && !inserted?.has(item)) return newOnes;
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
    (inverse.getEntityValue(item as ObjectLiteral) === entity || heldBy(item as ObjectLiteral, inverse) === entity);
  // Stored items added or removed are written by cohort (typeorm-inverse-side.ts) where it can.
  const side = typeormInverseSide(relation);
  const why = side && unwrittenOrphans(relation);
  const orphaned: UnwrittenRelation | undefined = why
    ? {
        ...linked,
        advice: `${why}, which cohort does not write: remove or delete those items yourself, or use the ORM's own save`,
      }
    : undefined;
  const unknownItems: UnwrittenRelation = {
    ...linked,
    advice: `load these rows with their ${relation.propertyPath} relation (its stored items), or use the ORM's own save`,
  };
  // A junction cohort does not write: say which columns it references (the row may be the owning side).
  const columns = unwrittenJunctionColumns(relation);
  const unwritten: UnwrittenRelation = columns
    ? { ...linked, advice: `${columns}: use the ORM's own save for these rows` }
    : linked;
  const added = side ? undefined : unwritten;
  const removed = side ? orphaned : unwritten;
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
  const inverse = relation.inverseRelation;
  // A new entity of the row's own table is not cascaded (typeorm-cascades.ts): refused.
  const crossTable = target.tablePath !== metadata.tablePath;
  return (entity, write, stored, graph) => {
    if (write === 'upsert') return undefined;
    const value = relation.getEntityValue(entity);
    if (value === undefined) return undefined;
    const before = write === 'update' && stored ? keyOf(relation.getEntityValue(stored)) : undefined;
    if (value === null) return before === undefined ? undefined : linked;
    const key = keyOf(value);
    // A new target the call inserts after the row, referring to it: its own insert writes the link.
    // A stored row's (bulkSave) only when it had none: save() would clear the old target's key too.
    if (key === undefined)
      return (write === 'insert' || (stored !== undefined && before === undefined)) &&
        crossTable &&
        graph?.has(value) &&
        inverse &&
        (inverse.getEntityValue(value) === entity || heldBy(value, inverse) === entity)
        ? undefined
        : newOne;
    return key === before ? undefined : linked;
  };
}

/** Whether save() walks the relation (CascadesSubjectBuilder follows those cascading inserts or updates). */
function walked(relation: RelationMetadata): boolean {
  return (relation.isCascadeInsert || relation.isCascadeUpdate) && relation.persistenceEnabled !== false;
}

function itemsOf(relation: RelationMetadata, entity: ObjectLiteral): ObjectLiteral[] {
  const value = relation.getEntityValue(entity);
  const items: unknown[] = Array.isArray(value) ? value : [value];
  return items.filter((item): item is ObjectLiteral => item !== null && typeof item === 'object');
}

/** Per call (its graph), the stored entities already walked and found holding no new entity. */
const walkedClean = new WeakMap<EntityGraph, WeakSet<object>>();

/**
 * A stored related entity (one with a key) reached through relations that cascade, holding a new
 * entity that save() would insert: CascadesSubjectBuilder walks into stored entities too and inserts
 * the new ones it reaches there through relations that cascade inserts (`post.author.publisher`, a
 * new book in a loaded `author.books`). cohort inserts the new entities reached through new ones
 * (typeorm-cascades.ts) and those of the stored entities it writes with the rows (findChangedRelation
 * puts them in the call's graph: updated when reached through relations that cascade updates, never
 * when through ones that cascade inserts only); any other such row is refused rather than written
 * without them. A check made before that look (a batch whose stored rows hold new entities
 * themselves) lets such a row through (`heldByStored`) to the check made after it. Entities of the call's graph (rows, entities it
 * inserts or updates with them) are written by the call and not walked.
 */
function storedHoldingNewCheck(metadata: EntityMetadata): RelationCheck | undefined {
  const relations = metadata.relations.filter(walked);
  if (relations.length === 0) return undefined;
  return (entity, write, _stored, graph) => {
    if (write === 'upsert') return undefined;
    const clean = graph && (walkedClean.get(graph) ?? new WeakSet<object>());
    if (graph && clean) walkedClean.set(graph, clean);
    for (const relation of relations) {
      const target = relation.inverseEntityMetadata;
      const keyOf = relatedKey(target);
      for (const item of itemsOf(relation, entity)) {
        // A later copy of a stored entity (findChangedRelation's walk): save() does not walk it.
        if (keyOf(item) === undefined || graph?.has(item) || clean?.has(item) || skippedCopy(entity, item)) continue;
        const found = newBehind(item, target.findInheritanceMetadata(item), graph, new Set([entity]), (deeper) =>
          skippedCopy(entity, deeper),
        );
        if (!found) {
          clean?.add(item);
          continue;
        }
        return {
          kind: 'cascade insert',
          property: `${relation.propertyPath}.${found.path}`,
          target: found.target,
          advice: `insert the new ${found.target} entities held by the stored ${target.name} first (and set its reference), or use the ORM's own save for these rows`,
          heldByStored: true,
        };
      }
    }
    return undefined;
  };
}

/** The first new entity reachable from a stored one as save() walks it, as a path and class. */
function newBehind(
  entity: ObjectLiteral,
  metadata: EntityMetadata,
  graph: EntityGraph | undefined,
  visited: Set<object>,
  copy: (item: object) => boolean,
): { path: string; target: string } | undefined {
  visited.add(entity);
  for (const relation of metadata.relations) {
    if (!walked(relation)) continue;
    const target = relation.inverseEntityMetadata;
    const keyOf = relatedKey(target);
    for (const item of itemsOf(relation, entity)) {
      if (visited.has(item) || graph?.has(item) || copy(item)) continue;
      const own = target.findInheritanceMetadata(item);
      // A new entity behind a relation that cascades updates only is not inserted by save() either.
      if (keyOf(item) === undefined) {
        if (relation.isCascadeInsert) return { path: relation.propertyPath, target: own.name };
        continue;
      }
      const deeper = newBehind(item, own, graph, visited, copy);
      if (deeper) return { path: `${relation.propertyPath}.${deeper.path}`, target: deeper.target };
    }
  }
  return undefined;
}
