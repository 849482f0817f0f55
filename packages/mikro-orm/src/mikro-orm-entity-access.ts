import type { ColumnModel, EntityAccess } from '@cohort/core/adapter';
import type { EntityMetadata } from '@mikro-orm/core';
import { type LinkFinder, mikroOrmLinkFinder } from './mikro-orm-links.js';
import type { MikroOrmEntity } from './mikro-orm-model-reader.js';
import { mikroOrmRelationFinder, type RelationFinder } from './mikro-orm-relation-finder.js';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';

/**
 * How the engine reads and writes one call's entities: values come out of flush's payload (the
 * entity's readers, worked out per class); returned values, the payload and the clean-up after an
 * insert go through the call's write context, which keeps what the unit of work needs per row.
 */
export function mikroOrmEntityAccess<E extends object>(
  entity: MikroOrmEntity,
  meta: EntityMetadata<E>,
  context: MikroOrmWriteContext,
): EntityAccess<E> {
  const reader = (column: ColumnModel) => {
    const read = entity.readers.get(column);
    if (!read) throw new Error(`cohort internal error: no reader for column ${column.name} of ${entity.model.name}`);
    return read;
  };
  const relations = mikroOrmRelationFinder(meta);
  const links = mikroOrmLinkFinder(meta, entity.model.schema, (step) => context.undoOnRollBack(step));
  return {
    reader,
    // Collected per row and hydrated at once in finishInsert, as flush maps its RETURNING row.
    writer: (column) => (row, value) => context.returned(row, column.name, value),
    prepare: (row) => context.prepare(row),
    finishInsert: (row, upserted) => context.finishInsert(row, upserted),
    insertOnly: entity.hasOnCreate ? (row) => context.insertOnly(row) : undefined,
    unwrittenRelation: context.managed || !links ? relations : refuseUnmanagedLinks(relations, links),
    links,
  };
}

/**
 * Rows left unmanaged (`managed: false`, a stream's default) whose many-to-many links would be
 * written are refused. Adding a row to a collection also adds it to the loaded collections of the
 * related (managed) entities; their next flush would reach the unmanaged row through them and
 * insert it again. flush never leaves a written entity unmanaged, so it has no such state.
 */
function refuseUnmanagedLinks(relations: RelationFinder | undefined, links: LinkFinder): RelationFinder {
  return (entity, write) => {
    const refused = relations?.(entity, write);
    if (refused) return refused;
    const [first] = links(entity, write) ?? [];
    if (!first) return undefined;
    return {
      kind: 'many-to-many link',
      property: first.property,
      target: first.target,
      entityName: first.entityName,
      advice:
        'pass managed: true (a stream defaults to managed: false), so that the written entities are managed as after ' +
        "flush: left unmanaged, the related entities' loaded collections would hold them and the next flush would insert them again",
    };
  };
}
