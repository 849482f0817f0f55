import { UnsupportedFeatureError } from '@cohort/core';
import type { EntityMetadata } from 'typeorm';

/**
 * Refuses a remove that TypeORM's own remove() would carry further than the entity's row, before
 * anything is sent: a relation with `cascade: ['remove']` (or `cascade: true`) removes the related
 * entities too, and a tree table (nested set, closure) has rows of its own to maintain.
 */
export function refuseCascadingRemove(metadata: EntityMetadata): void {
  for (const md of [metadata, ...metadata.childEntityMetadatas]) {
    const cascading = md.relations.find((relation) => relation.isCascadeRemove);
    if (cascading) {
      throw new UnsupportedFeatureError(
        'cascade remove',
        `bulkRemove of ${md.name}: relation "${cascading.propertyPath}" cascades removes (cascade: ['remove'] or true), ` +
          "which TypeORM's remove() follows to the related entities; cohort removes only the given rows — remove the related " +
          'entities first, or use remove()',
        { entityName: md.name, property: cascading.propertyPath },
      );
    }
  }
  if (metadata.treeType === 'nested-set' || metadata.treeType === 'closure-table') {
    throw new UnsupportedFeatureError(
      'tree remove',
      `bulkRemove of ${metadata.name}: a ${metadata.treeType} tree keeps rows of its own that remove() maintains; use remove()`,
      { entityName: metadata.name },
    );
  }
}

/**
 * Refuses a soft remove TypeORM's softRemove() would refuse or carry further, before anything is sent:
 * an entity without a `@DeleteDateColumn` (softRemove() throws MissingDeleteDateColumnError), and a
 * relation with `cascade: ['soft-remove']` (or `cascade: true`), which soft-removes the related entities
 * too. Returns the delete-date column's database name.
 */
export function softRemoveColumn(metadata: EntityMetadata): string {
  const column = metadata.deleteDateColumn;
  if (!column) {
    throw new UnsupportedFeatureError(
      'soft remove without a delete date column',
      `bulkSoftRemove of ${metadata.name}: the entity has no @DeleteDateColumn() (TypeORM's softRemove() throws ` +
        'MissingDeleteDateColumnError); add one, or use bulkRemove',
      { entityName: metadata.name },
    );
  }
  for (const md of [metadata, ...metadata.childEntityMetadatas]) {
    const cascading = md.relations.find((relation) => relation.isCascadeSoftRemove);
    if (cascading) {
      throw new UnsupportedFeatureError(
        'cascade soft remove',
        `bulkSoftRemove of ${md.name}: relation "${cascading.propertyPath}" cascades soft removes (cascade: ['soft-remove'] ` +
          "or true), which TypeORM's softRemove() follows to the related entities; cohort soft-removes only the given rows — " +
          'soft-remove the related entities first, or use softRemove()',
        { entityName: md.name, property: cascading.propertyPath },
      );
    }
  }
  return column.databaseName;
}
