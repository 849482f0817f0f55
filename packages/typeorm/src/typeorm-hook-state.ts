import type { DataSource, EntityMetadata, ObjectLiteral } from 'typeorm';
import { copyValue } from './entity-snapshots.js';
import { reachedEntities } from './typeorm-cascade-changes.js';
import type { EmbeddedMetadata } from './typeorm-internals.js';

/**
 * The stored related entities a batch's rows reach through relations that cascade (as the
 * changed-relations look-up finds them), each copied as it is before the hooks run: save() builds
 * its subjects and diffs them before its hooks (SubjectExecutor.execute broadcasts the before-events
 * for the subjects that must be updated then, with that diff), then recomputes after them and
 * writes what must be updated then. Undefined when the rows' class cascades nowhere.
 */
export function stateBeforeHooks(
  dataSource: DataSource,
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
): WeakMap<object, ObjectLiteral> | undefined {
  if (!cascadesUpdates(metadata) || !anyBeforeHook(dataSource)) return undefined;
  const copies = new WeakMap<object, ObjectLiteral>();
  for (const r of reachedEntities(metadata, entities)) copies.set(r.entity, copyOf(r.metadata, r.entity));
  return copies;
}

const updating = new WeakMap<EntityMetadata, boolean>();

/**
 * Whether a relation that cascades updates can be reached from the class through relations that
 * cascade (the look-up compares a state before the hooks only for entities reached through one).
 */
function cascadesUpdates(metadata: EntityMetadata): boolean {
  let found = updating.get(metadata);
  if (found === undefined) {
    found = false;
    const seen = new Set<EntityMetadata>();
    const walking = [metadata];
    while (walking.length > 0 && !found) {
      const md = walking.pop() as EntityMetadata;
      if (seen.has(md)) continue;
      seen.add(md);
      for (const m of [md, ...md.childEntityMetadatas]) {
        for (const relation of m.relations) {
          if (relation.isCascadeUpdate) found = true;
          else if (relation.isCascadeInsert) walking.push(relation.inverseEntityMetadata);
        }
      }
    }
    updating.set(metadata, found);
  }
  return found;
}

/** Whether a subscriber or a before-insert or before-update listener of any class may run (else nothing changes before the statements). */
function anyBeforeHook(dataSource: DataSource): boolean {
  return (
    dataSource.subscribers.length > 0 ||
    dataSource.entityMetadatas.some((md) => md.beforeInsertListeners.length > 0 || md.beforeUpdateListeners.length > 0)
  );
}

/**
 * A copy of an entity for save()'s diff: its own properties (related objects by reference, as the
 * diff reads their keys), its embedded objects copied, and the object values of its columns (a Date,
 * a Buffer, an array, a plain JSON object) copied, in case a hook changes them in place.
 */
function copyOf(metadata: EntityMetadata, entity: ObjectLiteral): ObjectLiteral {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(entity)) as ObjectLiteral, entity);
  const copyEmbedded = (holder: ObjectLiteral, embedded: EmbeddedMetadata) => {
    const value = holder[embedded.propertyName];
    if (value === null || typeof value !== 'object') return;
    const inner = Object.assign(Object.create(Object.getPrototypeOf(value)) as ObjectLiteral, value);
    holder[embedded.propertyName] = inner;
    for (const nested of embedded.embeddeds) copyEmbedded(inner, nested);
  };
  for (const embedded of metadata.embeddeds) copyEmbedded(copy, embedded);
  for (const column of metadata.columns) {
    if (column.relationMetadata || column.isVirtual) continue;
    const value = column.getEntityValue(copy);
    if (value !== null && typeof value === 'object') column.setEntityValue(copy, copyValue(value));
  }
  return copy;
}
