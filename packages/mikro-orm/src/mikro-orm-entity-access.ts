import type { ColumnModel, EntityAccess, InputBatch, TreeUpdate } from '@cohort/core/adapter';
import type { AnyEntity, EntityMetadata } from '@mikro-orm/core';
import type { MikroOrmCascades } from './mikro-orm-cascades.js';
import { mikroOrmLinkFinder } from './mikro-orm-links.js';
import type { MikroOrmEntity } from './mikro-orm-model-reader.js';
import { mikroOrmRelationFinder } from './mikro-orm-relation-finder.js';
import { mikroOrmSelfReferences, mikroOrmTreeUpdate } from './mikro-orm-self-references.js';
import { unmanagedRowsFinder } from './mikro-orm-unmanaged-rows.js';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';
import { wasInsertedBy } from './written-entities.js';

/**
 * How the engine reads and writes one call's entities: values come out of flush's payload (the
 * entity's readers, worked out per class); returned values, the payload and the clean-up after an
 * insert go through the call's write context, which keeps what the unit of work needs per row.
 */
export function mikroOrmEntityAccess<E extends object>(
  entity: MikroOrmEntity,
  meta: EntityMetadata<E>,
  context: MikroOrmWriteContext,
  cascades?: { readonly of: MikroOrmCascades; readonly root: boolean },
): EntityAccess<E> {
  const reader = (column: ColumnModel) => {
    const read = entity.readers.get(column);
    if (!read) throw new Error(`cohort internal error: no reader for column ${column.name} of ${entity.model.name}`);
    return read;
  };
  const relations = mikroOrmRelationFinder(meta);
  // A related class's links to the call's stored rows are left to the rows (written after them, in one INSERT).
  const rowsLink = cascades && !cascades.root ? cascades.of.storedRow : undefined;
  const links = mikroOrmLinkFinder(meta, entity.model.schema, (step) => context.undoOnRollBack(step), {
    rowsLink,
    unwritten: cascades?.of.unwritten,
  });
  const finder = context.managed ? relations : unmanagedRowsFinder(meta as EntityMetadata<AnyEntity>, relations, links);
  const graph = cascades?.of.graph;
  return {
    reader,
    // Collected per row and hydrated at once in finishInsert, as flush maps its RETURNING row.
    writer: (column) => (row, value) => context.returned(row, column.name, value),
    prepare: (row) => context.prepare(row),
    finishInsert: (row, upserted) => context.finishInsert(row, upserted),
    insertOnly: entity.hasOnCreate ? (row) => context.insertOnly(row) : undefined,
    // The engine passes an update's stored row as the third argument: the finder takes the call's graph there.
    unwrittenRelation: finder && ((row, write) => finder(row, write, graph, context.em)),
    links,
    selfReferences: mikroOrmSelfReferences(meta as EntityMetadata<AnyEntity>, (target) => wasInsertedBy(context.undo, target)),
    treeUpdate: mikroOrmTreeUpdate(
      meta as EntityMetadata<AnyEntity>,
      () => context.em,
      new Set(entity.model.columns.filter((c) => c.updatable).map((c) => c.name)),
    ) as TreeUpdate<E> | undefined,
    cascades: cascades?.root ? (batch) => cascades.of.find(batch as InputBatch<AnyEntity>) : undefined,
  };
}
