import type { JunctionTable, RowLinks } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral, RelationMetadata } from 'typeorm';
import { relatedKey, storedKeys } from './related-keys.js';
import type { ColumnMetadata } from './typeorm-internals.js';

/** What writing the inverse side of one one-to-many relation needs, worked out once per relation. */
export interface InverseSide {
  readonly relation: RelationMetadata;
  /** The items' table: their primary key, then their foreign key to the row (JunctionTable.foreignKey). */
  readonly table: JunctionTable;
  readonly itemKey: readonly ColumnMetadata[];
  /** The row's columns the items' foreign key references, in its order. */
  readonly referenced: readonly ColumnMetadata[];
  readonly keyOf: (item: unknown) => string | undefined;
  /** Stored items no longer held get their foreign key cleared (`nullify`); `disable`: left alone. */
  readonly orphans: 'nullify' | 'disable';
}

const sides = new WeakMap<RelationMetadata, InverseSide | null>();
// The items' metadata, for the events save() broadcasts per item it updates.
const itemMetadata = new WeakMap<JunctionTable, EntityMetadata>();

/** The metadata of the items' table of a one-to-many cohort writes (undefined for another object). */
export function itemMetadataOf(table: JunctionTable): EntityMetadata | undefined {
  return itemMetadata.get(table);
}

/**
 * How cohort writes a one-to-many's inverse side (OneToManySubjectBuilder): for a stored item whose
 * key is not among the row's stored relation ids, save() sends an UPDATE of its foreign key to the
 * row — a subject without an entity, so the item object is left as it is, its update date and version
 * change as in any UPDATE, and subscribers get beforeUpdate/afterUpdate with `entity` undefined
 * (so does cohort: typeorm-lifecycle.ts) — and for a stored item no longer held it applies the
 * `orphanedRowAction` of the items' relation. Undefined when cohort does not write it (the relation
 * finder refuses as `inverse side`): a relation that cascades updates (save() then updates each item
 * object as a whole, with its hooks), a lazy one, one to the row's own table, keys or referenced
 * columns that are not plain columns. `orphans` is undefined when the removal is not written: the
 * orphaned row action `delete`, `soft-delete`, or `nullify` of a non-nullable foreign key (save()
 * deletes the item).
 */
export function typeormInverseSide(relation: RelationMetadata): InverseSide | undefined {
  let found = sides.get(relation);
  if (found === undefined) {
    found = sideOf(relation) ?? null;
    sides.set(relation, found);
  }
  return found ?? undefined;
}

/** The orphaned row action save() applies to the items removed from a one-to-many, as TypeORM names it. */
export function orphanedRowAction(relation: RelationMetadata): string {
  return relation.inverseRelation?.orphanedRowAction ?? 'nullify';
}

/** Whether cohort writes the removals of the relation's items (see {@link typeormInverseSide}). */
export function writesOrphans(relation: RelationMetadata): boolean {
  const action = orphanedRowAction(relation);
  if (action === 'disable') return true;
  return action === 'nullify' && (relation.inverseRelation?.joinColumns.every((c) => c.isNullable) ?? false);
}

function sideOf(relation: RelationMetadata): InverseSide | undefined {
  const inverse = relation.inverseRelation;
  const item = relation.inverseEntityMetadata;
  if (!relation.isOneToMany || relation.isLazy || relation.isCascadeUpdate || !inverse) return undefined;
  if (item.tablePath === relation.entityMetadata.tablePath) return undefined;
  const itemKey = item.primaryColumns;
  const joinColumns = inverse.joinColumns;
  const referenced = joinColumns.map((c) => c.referencedColumn);
  if (itemKey.length === 0 || !itemKey.every(plain) || joinColumns.length === 0) return undefined;
  if (!referenced.every((c): c is ColumnMetadata => !!c && plain(c))) return undefined;
  if (joinColumns.some((c) => itemKey.includes(c))) return undefined;
  const now = item.updateDateColumn ? [item.updateDateColumn.databaseName] : undefined;
  const increment = item.versionColumn ? [item.versionColumn.databaseName] : undefined;
  const table: JunctionTable = {
    schema: item.schema,
    table: item.tableName,
    columns: [...itemKey, ...joinColumns].map((c) => c.databaseName),
    foreignKey: { keyColumns: itemKey.length, now, increment },
  };
  itemMetadata.set(table, item);
  return {
    relation,
    table,
    itemKey,
    referenced,
    keyOf: relatedKey(item),
    orphans: orphanedRowAction(relation) === 'disable' ? 'disable' : 'nullify',
  };
}

function plain(c: ColumnMetadata): boolean {
  return !c.embeddedMetadata && !c.relationMetadata && !c.referencedColumn && !c.transformer;
}

/**
 * The items of a row whose foreign key save() sets (stored items not among the row's stored relation
 * ids; none held for a new row) or clears (stored ids no longer held); undefined when none. Items
 * without a key are left to the relation finder and the cascade inserts.
 */
export function inverseSideLinks(
  side: InverseSide,
  entity: ObjectLiteral,
  stored: ObjectLiteral | undefined,
): RowLinks | undefined {
  const { relation, keyOf } = side;
  const value = relation.getEntityValue(entity);
  if (value === undefined || (value !== null && !Array.isArray(value))) return undefined;
  const before = storedItems(relation, keyOf, stored);
  const held = new Set<string>();
  const added: ObjectLiteral[] = [];
  for (const item of (value ?? []) as ObjectLiteral[]) {
    const key = keyOf(item);
    if (key === undefined) continue;
    held.add(key);
    if (!before.has(key)) added.push(item);
  }
  const removed = side.orphans === 'disable' ? [] : [...before].filter(([key]) => !held.has(key)).map(([, item]) => item);
  if (added.length === 0 && removed.length === 0) return undefined;
  const itemKey = (item: ObjectLiteral) => side.itemKey.map((c) => c.getEntityValue(item));
  return {
    property: relation.propertyPath,
    target: relation.inverseEntityMetadata.name,
    junction: side.table,
    added: () => added.map((item) => [...itemKey(item), ...side.referenced.map((c) => c.getEntityValue(entity))]),
    removed: () => removed.map((item) => [...itemKey(item), ...side.referenced.map(() => null)]),
  };
}

/** The items stored for the row (loaded with its relation ids, as save() loads them), by key. */
function storedItems(
  relation: RelationMetadata,
  keyOf: (item: unknown) => string | undefined,
  stored: ObjectLiteral | undefined,
): Map<string, ObjectLiteral> {
  const items = new Map<string, ObjectLiteral>();
  if (storedKeys(relation, keyOf, stored).size === 0) return items;
  for (const item of relation.getEntityValue(stored as ObjectLiteral) as ObjectLiteral[]) {
    const key = keyOf(item);
    if (key !== undefined) items.set(key, item);
  }
  return items;
}

/** The one-to-many relations of a class whose inverse side cohort writes. */
export function inverseSidesOf(metadata: EntityMetadata): InverseSide[] {
  return metadata.oneToManyRelations.filter((r) => r.persistenceEnabled !== false).flatMap((r) => typeormInverseSide(r) ?? []);
}
