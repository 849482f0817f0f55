import type { JunctionTable, RelationWrite, RowLinks } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral, RelationMetadata } from 'typeorm';
import { relatedKey } from './related-keys.js';
import type { ColumnMetadata } from './typeorm-internals.js';
import { type InverseSide, inverseSideLinks, inverseSidesOf } from './typeorm-inverse-side.js';

/** The many-to-many links save() would add and remove for a row (EntityAccess.links). */
export type LinkFinder = (entity: ObjectLiteral, write: RelationWrite, stored?: unknown) => readonly RowLinks[] | undefined;

/** What writing one many-to-many relation's links needs, worked out once per relation. */
export interface RelationLinks {
  readonly relation: RelationMetadata;
  readonly junction: JunctionTable;
  /** The columns of the owning side's and of the inverse side's entity that the junction's columns reference, in its order. */
  readonly ownerColumns: readonly ColumnMetadata[];
  readonly inverseColumns: readonly ColumnMetadata[];
  readonly keyOf: (item: unknown) => string | undefined;
}

const writable = new WeakMap<RelationMetadata, RelationLinks | null>();
// The junction's metadata, for the events save() broadcasts per junction row.
const junctionMetadata = new WeakMap<JunctionTable, EntityMetadata>();

/** The metadata of a junction table cohort writes links to (undefined for another object). */
export function junctionMetadataOf(junction: JunctionTable): EntityMetadata | undefined {
  return junctionMetadata.get(junction);
}

/** A junction row's key map, as save() hands it to the junction's events (`entityId`). */
export function junctionIdentifier(metadata: EntityMetadata, values: readonly unknown[]): ObjectLiteral | undefined {
  const row: ObjectLiteral = {};
  [...metadata.ownerColumns, ...metadata.inverseColumns].forEach((column, i) => {
    column.setEntityValue(row, values[i]);
  });
  return metadata.getEntityIdMap(row);
}

/**
 * How cohort writes the links of a many-to-many relation, owning or inverse side (save()'s
 * ManyToManySubjectBuilder writes both); undefined when it does not: junction columns referencing
 * anything but the related entities' plain primary-key columns (embedded, relation-based or
 * transformed keys, or other columns) stay refused as `many-to-many link`; lazy relations are left
 * to the relation finder as before.
 */
export function typeormLinks(relation: RelationMetadata): RelationLinks | undefined {
  let found = writable.get(relation);
  if (found === undefined) {
    found = linksOf(relation) ?? null;
    writable.set(relation, found);
  }
  return found ?? undefined;
}

function linksOf(relation: RelationMetadata): RelationLinks | undefined {
  const junction = relation.junctionEntityMetadata;
  if (!relation.isManyToMany || relation.isLazy || !junction) return undefined;
  const owning = relation.isOwning ? relation.entityMetadata : relation.inverseEntityMetadata;
  const inverse = relation.isOwning ? relation.inverseEntityMetadata : relation.entityMetadata;
  const ownerColumns = referenced(junction.ownerColumns, owning);
  const inverseColumns = referenced(junction.inverseColumns, inverse);
  if (!ownerColumns || !inverseColumns) return undefined;
  const table: JunctionTable = {
    schema: junction.schema,
    table: junction.tableName,
    columns: [...junction.ownerColumns, ...junction.inverseColumns].map((c) => c.databaseName),
  };
  junctionMetadata.set(table, junction);
  return {
    relation,
    junction: table,
    ownerColumns,
    inverseColumns,
    keyOf: relatedKey(relation.inverseEntityMetadata),
  };
}

/**
 * Why cohort does not write a many-to-many relation's links although it has a junction table: the
 * columns its junction references, where they are not both sides' plain primary keys (for the
 * refusal's advice: the links are refused on either side, and the ORM's own save writes the
 * referenced values, failing on a NULL one). Undefined where cohort writes the links, or for any
 * other reason it does not.
 */
export function unwrittenJunctionColumns(relation: RelationMetadata): string | undefined {
  const junction = relation.junctionEntityMetadata;
  if (!relation.isManyToMany || relation.isLazy || !junction || typeormLinks(relation)) return undefined;
  const named = [...junction.ownerColumns, ...junction.inverseColumns].map((c) => {
    const to = c.referencedColumn;
    return to ? `${to.entityMetadata.name}.${to.propertyPath}` : c.databaseName;
  });
  return `the junction table ${junction.tableName} references ${named.join(', ')}, and cohort writes links only to the related entities' plain primary keys`;
}

/** The primary-key columns the junction's columns reference, when they are exactly the entity's plain primary key. */
function referenced(columns: readonly ColumnMetadata[], entity: EntityMetadata): ColumnMetadata[] | undefined {
  const found = columns.map((c) => c.referencedColumn);
  const primary = entity.primaryColumns;
  const plain = (c: ColumnMetadata | undefined): c is ColumnMetadata =>
    !!c && c.isPrimary && !c.embeddedMetadata && !c.relationMetadata && !c.referencedColumn && !c.transformer;
  if (found.length !== primary.length || !found.every(plain)) return undefined;
  return found.every((c) => primary.includes(c)) ? found : undefined;
}

/**
 * The link finder of an entity class; undefined when no class of its table has a many-to-many
 * relation cohort writes. As save()'s ManyToManySubjectBuilder: the related entities with a key that
 * are not among the row's stored relation ids (none for a new row) are linked, the stored ones no
 * longer held are unlinked (a `null` relation unlinks all, an `undefined` one is not looked at);
 * related entities without a key are linked when the relation cascades inserts (the call inserts
 * them before the links are written, or the relation finder refuses them) and left alone otherwise.
 * `written` is called for each row whose links were written.
 */
export function typeormLinkFinder(metadata: EntityMetadata, written?: (entity: ObjectLiteral) => void): LinkFinder | undefined {
  const relationsOf = (m: EntityMetadata) =>
    m.manyToManyRelations.filter((r) => r.persistenceEnabled !== false).flatMap((r) => typeormLinks(r) ?? []);
  const byClass = new Map<EntityMetadata, RelationLinks[]>();
  // One-to-many items whose foreign key save() sets or clears are written the same way (typeorm-inverse-side.ts).
  const sidesByClass = new Map<EntityMetadata, InverseSide[]>();
  for (const m of [metadata, ...metadata.childEntityMetadatas]) {
    byClass.set(m, relationsOf(m));
    sidesByClass.set(m, inverseSidesOf(m));
  }
  const none = (lists: Iterable<unknown[]>) => [...lists].every((list) => list.length === 0);
  if (none(byClass.values()) && none(sidesByClass.values())) return undefined;
  return (entity, write, stored) => {
    if (write === 'upsert') return undefined;
    const actual = metadata.findInheritanceMetadata(entity);
    const entityName = actual === metadata ? undefined : actual.name;
    const before = write === 'update' ? (stored as ObjectLiteral | undefined) : undefined;
    const found: RowLinks[] = [];
    const done = written && (() => written(entity));
    for (const links of byClass.get(actual) ?? relationsOf(actual)) {
      const change = rowLinks(links, entity, before);
      if (change) found.push({ ...change, entityName, written: done });
    }
    for (const side of sidesByClass.get(actual) ?? inverseSidesOf(actual)) {
      const change = inverseSideLinks(side, entity, before);
      if (change) found.push({ ...change, entityName, written: done });
    }
    return found;
  };
}

function rowLinks(links: RelationLinks, entity: ObjectLiteral, stored: ObjectLiteral | undefined): RowLinks | undefined {
  const { relation, keyOf } = links;
  const value = relation.getEntityValue(entity);
  if (value === undefined || (value !== null && !Array.isArray(value))) return undefined;
  const storedValue = stored ? relation.getEntityValue(stored) : undefined;
  const before = new Map<string, unknown>();
  if (Array.isArray(storedValue)) {
    for (const item of storedValue) {
      const key = keyOf(item);
      if (key !== undefined) before.set(key, item);
    }
  }
  const held = new Set<string>();
  const added: unknown[] = [];
  for (const item of (value ?? []) as unknown[]) {
    const key = keyOf(item);
    if (key === undefined) {
      // A new item save() inserts (cascade): the call inserts it before the links read its key.
      if (relation.isCascadeInsert && item !== null && typeof item === 'object') added.push(item);
      continue;
    }
    held.add(key);
    if (!before.has(key)) added.push(item);
  }
  const removed = [...before].filter(([key]) => !held.has(key)).map(([, item]) => item);
  if (added.length === 0 && removed.length === 0) return undefined;
  const tuple = (related: unknown) => linkValues(links, entity, related as ObjectLiteral);
  return {
    property: relation.propertyPath,
    target: relation.inverseEntityMetadata.name,
    junction: links.junction,
    added: () => added.map(tuple),
    removed: () => removed.map(tuple),
  };
}

/** A junction row's values: the owning side's key, then the inverse side's. */
function linkValues(links: RelationLinks, entity: ObjectLiteral, related: ObjectLiteral): unknown[] {
  const owner = links.relation.isOwning ? entity : related;
  const inverse = links.relation.isOwning ? related : entity;
  return [
    ...links.ownerColumns.map((c) => c.getEntityValue(owner)),
    ...links.inverseColumns.map((c) => c.getEntityValue(inverse)),
  ];
}
