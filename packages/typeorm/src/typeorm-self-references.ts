import type { SelfReference, TreeUpdate } from '@cohort/core/adapter';
import type { DataSource, EntityMetadata, ObjectLiteral, RelationMetadata } from 'typeorm';
import { takeSnapshot } from './entity-snapshots.js';
import { type ColumnMetadata, insertDiffColumnsOf, type UpdateEventChange } from './typeorm-internals.js';

type Finder = (entity: ObjectLiteral, pending?: (target: object) => boolean) => SelfReference[] | undefined;
const found = new WeakMap<EntityMetadata, Finder | null>();
// A linked row's changed columns as save() found them for its insert (after its before-insert hooks).
const insertedColumns = new WeakMap<ObjectLiteral, ColumnMetadata[]>();

/**
 * The row's many-to-one and owning one-to-one references to new entities (no referenced key yet) of
 * its own table (EntityAccess.selfReferences): a tree's parent saved in the same call. save() inserts
 * such rows with the join column NULL and sets it with an UPDATE once the parent has its key, whatever
 * the relation's cascade (both are subjects of the save). A row the call has yet to insert (`pending`)
 * counts as new whatever key it carries: a key left from a failed call is not its row's.
 * Undefined when the class has no such relation.
 * (trackEntityChanges: the snapshot taken at the row's insert holds the parent object, whose key
 * the follow-up UPDATE wrote: test/src/typeorm/self-reference-trees.test.ts.)
 */
export function typeormSelfReferences(metadata: EntityMetadata): Finder | undefined {
  let finder = found.get(metadata);
  if (finder === undefined) {
    finder = buildFinder(metadata) ?? null;
    found.set(metadata, finder);
  }
  return finder ?? undefined;
}

/** Whether the relation is a join column to the entity's own table. */
export function refersToOwnTable(metadata: EntityMetadata, relation: RelationMetadata): boolean {
  return relation.joinColumns.length > 0 && relation.inverseEntityMetadata.tablePath === metadata.tablePath;
}

function buildFinder(metadata: EntityMetadata): Finder | undefined {
  const classes = [metadata, ...metadata.childEntityMetadatas];
  if (!classes.some((m) => m.relations.some((r) => refersToOwnTable(m, r)))) return undefined;
  return (entity, pending) => {
    const own = metadata.findInheritanceMetadata(entity);
    let references: SelfReference[] | undefined;
    for (const relation of own.relations) {
      if (relation.persistenceEnabled === false || !refersToOwnTable(own, relation)) continue;
      const value = relation.getEntityValue(entity);
      if (value === null || typeof value !== 'object') continue;
      // A row the call has yet to insert is new whatever key it carries (save() drops a serial one).
      if (!relation.joinColumns.some((c) => c.referencedColumn?.getEntityValue(value) == null) && !pending?.(value)) continue;
      if (!references) {
        references = [];
        // Taken now, after the before-insert hooks and before the INSERT puts its values on the object.
        insertedColumns.set(entity, insertDiffColumnsOf(own, entity));
      }
      references.push({
        property: relation.propertyPath,
        entityName: own === metadata ? undefined : own.name,
        target: value,
        columns: relation.joinColumns.map((c) => c.databaseName),
        referenced: relation.joinColumns.map((c) => c.referencedColumn?.databaseName ?? c.databaseName),
        nullable: relation.joinColumns.every((c) => c.isNullable),
      });
    }
    return references;
  };
}

/**
 * The update events of a tree's follow-up UPDATE as save() fires them (SubjectExecutor): the rows it
 * updates after their INSERT become update subjects only then, after its before-events, so they get
 * no beforeUpdate — only an afterUpdate per row (listeners and subscribers), after every afterInsert,
 * whose UpdateEvent carries the entity, no `databaseEntity`, the insert subject's changed columns
 * (`updatedColumns`: the columns the entity had set after its before-insert hooks) and no
 * `updatedRelations`. save()'s UPDATE also moves the version on and sets the update dates (returned
 * and put onto the object). Undefined for a class without such a relation.
 */
export function typeormTreeUpdate(
  dataSource: DataSource,
  metadata: EntityMetadata,
  write: (entity: ObjectLiteral, column: string, value: unknown) => void,
): TreeUpdate<ObjectLiteral> | undefined {
  if (!typeormSelfReferences(metadata)) return undefined;
  return {
    before: false,
    change(entity, references) {
      const own = metadata.findInheritanceMetadata(entity);
      const properties = references.map((r) => r.property);
      const native: UpdateEventChange = {
        databaseEntity: undefined,
        updatedColumns: insertedColumns.get(entity) ?? insertDiffColumnsOf(own, entity),
        updatedRelations: [],
      };
      return {
        properties,
        before: Object.fromEntries(properties.map((p) => [p, null])),
        columns: references.flatMap((r) => r.columns),
        native,
      };
    },
    written(entity, returned) {
      for (const [column, value] of Object.entries(returned)) write(entity, column, value);
      takeSnapshot(dataSource, entity);
    },
  };
}
