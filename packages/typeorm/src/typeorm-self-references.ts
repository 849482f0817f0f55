import type { SelfReference } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral, RelationMetadata } from 'typeorm';

const found = new WeakMap<EntityMetadata, ((entity: ObjectLiteral) => SelfReference[] | undefined) | null>();

/**
 * The row's many-to-one and owning one-to-one references to new entities (no referenced key yet) of
 * its own table (EntityAccess.selfReferences): a tree's parent saved in the same call. save() inserts
 * such rows with the join column NULL and sets it with an UPDATE once the parent has its key, whatever
 * the relation's cascade (both are subjects of the save). Undefined when the class has no such relation.
 * (trackEntityChanges: the snapshot taken at the row's insert holds the parent object, whose key
 * the follow-up UPDATE wrote: test/src/typeorm/self-reference-trees.test.ts.)
 */
export function typeormSelfReferences(
  metadata: EntityMetadata,
): ((entity: ObjectLiteral) => SelfReference[] | undefined) | undefined {
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

function buildFinder(metadata: EntityMetadata): ((entity: ObjectLiteral) => SelfReference[] | undefined) | undefined {
  const classes = [metadata, ...metadata.childEntityMetadatas];
  if (!classes.some((m) => m.relations.some((r) => refersToOwnTable(m, r)))) return undefined;
  return (entity) => {
    const own = metadata.findInheritanceMetadata(entity);
    let references: SelfReference[] | undefined;
    for (const relation of own.relations) {
      if (relation.persistenceEnabled === false || !refersToOwnTable(own, relation)) continue;
      const value = relation.getEntityValue(entity);
      if (value === null || typeof value !== 'object') continue;
      if (!relation.joinColumns.some((c) => c.referencedColumn?.getEntityValue(value) == null)) continue;
      references ??= [];
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
