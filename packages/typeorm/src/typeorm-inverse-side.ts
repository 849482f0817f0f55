import type { JunctionTable, OrphanRemoval, RowLinks } from '@cohort/core/adapter';
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
  /**
   * Stored items no longer held get their foreign key cleared (`nullify`), are deleted or
   * soft-deleted (`delete`, `soft-delete`: `table.foreignKey.orphans`), or are left alone (`disable`).
   */
  readonly orphans: 'nullify' | 'disable' | OrphanRemoval['action'];
}

const sides = new WeakMap<RelationMetadata, InverseSide | null>();
// The items' metadata, for the events save() broadcasts per item it updates.
const itemMetadata = new WeakMap<JunctionTable, EntityMetadata>();
// The items' own relation (`line.holder`) of each such table, for the events of their foreign keys.
const itemRelation = new WeakMap<JunctionTable, RelationMetadata>();

/** An item's key map from its values (its primary key first), as save() hands it to an orphan's events (`entityId`). */
export function itemIdentifier(metadata: EntityMetadata, values: readonly unknown[]): ObjectLiteral | undefined {
  return metadata.getEntityIdMap(itemKeyObject(metadata, values));
}

/** An item as a plain object with its primary-key properties only (`{ id: 7 }`), from its values (its primary key first). */
export function itemKeyObject(metadata: EntityMetadata, values: readonly unknown[]): ObjectLiteral {
  const item: ObjectLiteral = {};
  metadata.primaryColumns.forEach((column, i) => {
    column.setEntityValue(item, values[i]);
  });
  return item;
}

/** The metadata of the items' table of a one-to-many cohort writes (undefined for another object). */
export function itemMetadataOf(table: JunctionTable): EntityMetadata | undefined {
  return itemMetadata.get(table);
}

/** The items' relation (`line.holder`) whose foreign key a one-to-many cohort writes sets (undefined for another object). */
export function itemRelationOf(table: JunctionTable): RelationMetadata | undefined {
  return itemRelation.get(table);
}

/**
 * How cohort writes a one-to-many's inverse side (OneToManySubjectBuilder): for a stored item whose
 * key is not among the row's stored relation ids, save() sends an UPDATE of its foreign key to the
 * row — a subject without an entity, so the item object is left as it is, its update date and version
 * change as in any UPDATE, and subscribers get beforeUpdate/afterUpdate with `entity` undefined
 * (so does cohort: typeorm-link-events.ts) — and for a stored item no longer held it applies the
 * `orphanedRowAction` of the items' relation: `nullify` clears its foreign key in the same UPDATE,
 * `delete` deletes its row and `soft-delete` soft-deletes it (a subject without an entity too: no
 * listener runs, subscribers get beforeRemove / beforeSoftRemove with `entity` and `databaseEntity`
 * undefined and the item's key as `entityId`, no version check, the item's own cascades are not
 * followed — the database's ON DELETE rules apply — and the item object is left as it is).
 * Undefined when cohort does not write it (the relation finder refuses as `inverse side`): a
 * relation that cascades updates (save() then updates each item object as a whole, with its hooks),
 * a lazy one, one to the row's own table, keys or referenced columns that are not plain columns.
 * The removals of the relation's items are refused ({@link writesOrphans}) for `nullify` of a
 * non-nullable foreign key (save() deletes the item on TypeORM 1.x, fails on 0.3), `soft-delete` of
 * items without a `@DeleteDateColumn` (save() fails) and `delete` of a nested-set or closure tree's
 * items (save() maintains the tree's own rows).
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

/** Why cohort does not write the removals of the relation's items (see {@link typeormInverseSide}); undefined when it does. */
export function unwrittenOrphans(relation: RelationMetadata): string | undefined {
  const action = orphanedRowAction(relation);
  const item = relation.inverseEntityMetadata;
  const named = `its items' relation has orphanedRowAction '${action}'`;
  if (action === 'nullify' && !(relation.inverseRelation?.joinColumns.every((c) => c.isNullable) ?? false))
    return `${named} on a non-nullable foreign key (save() deletes the item on TypeORM 1.x and fails on 0.3)`;
  if (action === 'soft-delete' && !item.deleteDateColumn)
    return `${named} and ${item.name} has no @DeleteDateColumn() (save() fails with MissingDeleteDateColumnError)`;
  if (action === 'delete' && (item.treeType === 'nested-set' || item.treeType === 'closure-table'))
    return `${named} and ${item.name} is a ${item.treeType} tree, whose own rows save() maintains when it deletes one`;
  return undefined;
}

/** Whether cohort writes the removals of the relation's items (see {@link typeormInverseSide}). */
export function writesOrphans(relation: RelationMetadata): boolean {
  return unwrittenOrphans(relation) === undefined;
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
  const orphans = orphanRemoval(relation, item);
  const table: JunctionTable = {
    schema: item.schema,
    table: item.tableName,
    columns: [...itemKey, ...joinColumns].map((c) => c.databaseName),
    foreignKey: {
      keyColumns: itemKey.length,
      referenced: referenced.map((c) => c.databaseName),
      now,
      increment,
      ...(orphans ? { orphans } : {}),
    },
  };
  itemMetadata.set(table, item);
  itemRelation.set(table, inverse);
  return {
    relation,
    table,
    itemKey,
    referenced,
    keyOf: relatedKey(item),
    orphans: orphans?.action ?? (orphanedRowAction(relation) === 'disable' ? 'disable' : 'nullify'),
  };
}

/**
 * The statement save() sends for the relation's orphaned items when it removes them
 * (OneToManySubjectBuilder, SubjectExecutor): a DELETE by key, or SoftDeleteQueryBuilder's UPDATE
 * of the delete date, version and update date.
 */
function orphanRemoval(relation: RelationMetadata, item: EntityMetadata): OrphanRemoval | undefined {
  const action = orphanedRowAction(relation);
  if (action === 'delete') return { action };
  if (action !== 'soft-delete' || !item.deleteDateColumn) return undefined;
  return {
    action,
    deleteDate: item.deleteDateColumn.databaseName,
    updateDate: item.updateDateColumn?.databaseName,
    version: item.versionColumn?.databaseName,
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
