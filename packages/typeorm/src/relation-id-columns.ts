import type { EntityMetadata, ObjectLiteral, RelationMetadata } from 'typeorm';
import type { ColumnMetadata } from './typeorm-internals.js';

/**
 * As save() after writing a row (SubjectExecutor.updateSpecialColumnsInInsertedAndUpdatedEntities):
 * a to-one relation it wrote also sets the entity's own property of its join column, when that
 * column is declared as a property too (`@Column() categoryId` beside `@JoinColumn({ name:
 * 'categoryId' }) category`): `post.categoryId` then holds the key of `post.category`.
 * `relations` are the relations the row wrote: for an insert every one with a value, for an update
 * the changed ones.
 */
export function setJoinColumnProperties(entity: ObjectLiteral, relations: Iterable<RelationMetadata>): void {
  for (const relation of relations) {
    const value = relation.getEntityValue(entity);
    if (value === undefined) continue;
    const id = isObject(value) ? relation.getRelationIdMap(value) : value;
    // A related entity without a key writes nothing (cohort refuses it before the statement).
    if (id === undefined) continue;
    for (const column of relation.joinColumns) {
      if (column.isVirtual) continue;
      column.setEntityValue(entity, isObject(id) ? column.referencedColumn?.getEntityValue(id) : id);
    }
  }
}

const withPropertyJoinColumns = new WeakMap<EntityMetadata, RelationMetadata[]>();

/** The entity's relations with a join column that is also one of its own properties (worked out once). */
export function relationsWithPropertyJoinColumns(metadata: EntityMetadata): RelationMetadata[] {
  let relations = withPropertyJoinColumns.get(metadata);
  if (!relations) {
    relations = metadata.relationsWithJoinColumns.filter((r) => r.joinColumns.some((c) => !c.isVirtual));
    withPropertyJoinColumns.set(metadata, relations);
  }
  return relations;
}

/** TypeORM's ObjectUtils.isObject, without byte arrays (a binary key is a value, not an entity). */
function isObject(value: unknown): value is ObjectLiteral {
  return value !== null && typeof value === 'object' && !(value instanceof Uint8Array);
}

/**
 * Join columns declared as properties whose relation an update detaches (sets to null), per entity.
 * ColumnMetadata.getEntityValue falls back to the property (`groupId`, still the old key) when the
 * relation is null; save()'s UPDATE writes what the relation's change says, NULL. Set by the change
 * tracker for the rows it is about to update, cleared after the write and on every new diff.
 */
const detached = new WeakMap<ObjectLiteral, ReadonlySet<ColumnMetadata>>();

/** Notes (or clears) the join columns `entity`'s update writes as NULL: its changed relations now null. */
export function noteDetachedRelations(entity: ObjectLiteral, changed: Iterable<RelationMetadata>): void {
  let columns: Set<ColumnMetadata> | undefined;
  for (const relation of changed) {
    if (relation.getEntityValue(entity) !== null) continue;
    for (const column of relation.joinColumns) {
      if (column.isVirtual) continue;
      columns ??= new Set();
      columns.add(column);
    }
  }
  if (columns) detached.set(entity, columns);
  else detached.delete(entity);
}

/** The column's relation was detached for the pending update of `entity` (see noteDetachedRelations). */
export function isDetached(entity: ObjectLiteral, column: ColumnMetadata): boolean {
  return detached.get(entity)?.has(column) ?? false;
}
