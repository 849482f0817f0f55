import { UnsupportedFeatureError } from '@cohort/core';
import { located } from '@cohort/core/adapter';
import { Cascade, type EntityManager, type EntityMetadata, Reference, Utils } from '@mikro-orm/core';
import {
  type CollectionState,
  type EntityInternals,
  entityInternals,
  identityMapEntry,
  identityMapStore,
  mikroOrmMajor,
} from './mikro-orm-internals.js';

type AnyEntity = object;
type Wrapped = EntityInternals<AnyEntity> & {
  __data: Record<string, unknown>;
  __identifier?: unknown;
  __touched?: boolean;
};

/** A to-one reference of another managed entity, with the value it held (`__data`, or its own for a formula). */
interface HeldReference {
  readonly referrer: AnyEntity;
  readonly name: string;
  readonly formula: boolean;
  readonly value: unknown;
}

/** What `unsetIdentity` changes for one entity, as it was before: put back by `restoreRemoval`. */
interface Removal {
  readonly em: EntityManager;
  readonly entity: AnyEntity;
  readonly wrapped: Wrapped;
  readonly mapped: boolean;
  readonly managed: boolean;
  readonly snapshot: unknown;
  readonly identifier: unknown;
  readonly touched: boolean | undefined;
  readonly stacks: readonly Set<AnyEntity>[];
  readonly references: HeldReference[];
  /** Collections of other managed entities that held it: their items and dirty flag before. */
  readonly collections: { readonly collection: CollectionState; readonly items: unknown[]; readonly dirty: boolean }[];
  /** Referrers whose primary key holds it, which `unsetIdentity` takes out too (MikroORM 7). */
  readonly referrers: Removal[];
}

/**
 * Leaves a removed entity as `em.remove()` + `em.flush()` leaves it: out of the identity map and
 * off the unit of work's stacks, the references other managed entities hold to it deleted
 * (`unitOfWork.unsetIdentity`, what flush calls after its DELETE), so a later flush sends nothing
 * for it. Returns how to put all of it back if the transaction that removed it rolls back (see
 * `restoreRemoval`), or undefined when there is nothing to put back.
 */
export function removeFromUnitOfWork(em: EntityManager, entity: AnyEntity): Removal | undefined {
  const removal = capture(em, entity, new Set());
  em.getUnitOfWork().unsetIdentity(entity);
  keepDeleted(removal);
  // Nothing to put back (an entity the unit of work never held, as a stream's): nothing kept for the call.
  return changed(removal) ? removal : undefined;
}

function changed(removal: Removal): boolean {
  return (
    removal.mapped ||
    removal.managed ||
    removal.snapshot !== undefined ||
    removal.identifier !== undefined ||
    removal.touched === true ||
    removal.stacks.length + removal.references.length + removal.collections.length + removal.referrers.length > 0
  );
}

function capture(em: EntityManager, entity: AnyEntity, seen: Set<AnyEntity>): Removal {
  seen.add(entity);
  const uow = em.getUnitOfWork();
  const wrapped = entityInternals(entity) as Wrapped;
  const stacks = [uow.getPersistStack(), uow.getRemoveStack(), uow.getOrphanRemoveStack()] as Set<AnyEntity>[];
  const removal: Removal = {
    em,
    entity,
    wrapped,
    mapped: identityMapEntry(em, entity) === entity,
    managed: wrapped.__managed,
    snapshot: wrapped.__originalEntityData,
    identifier: wrapped.__identifier,
    touched: wrapped.__touched,
    stacks: stacks.filter((stack) => stack.has(entity)),
    references: [],
    collections: [],
    referrers: [],
  };
  // The references `unsetIdentity` deletes: in every managed entity of a class that refers to this one.
  for (const { meta, prop } of wrapped.__meta.referencingProperties) {
    for (const referrer of identityMapStore(em, meta).values()) {
      const value = Reference.unwrapReference((referrer as Record<string, unknown>)[prop.name] as object);
      if (Utils.isCollection(value)) {
        const collection = value as unknown as CollectionState;
        const items = collection.getItems(false);
        if (items.includes(entity)) removal.collections.push({ collection, items, dirty: collection.isDirty() });
      } else if (value != null && (prop.mapToPk || value === entity)) {
        // A key-mapped reference (`mapToPk`) is kept below if `unsetIdentity` deleted it.
        if (prop.primary && mikroOrmMajor >= 7) {
          if (!seen.has(referrer)) removal.referrers.push(capture(em, referrer, seen));
        } else {
          const reference = { referrer, name: prop.name, formula: prop.formula !== undefined, value: undefined };
          removal.references.push({ ...reference, value: holderOf(reference)[prop.name] });
        }
      }
    }
  }
  return removal;
}

function holderOf({ referrer, formula }: HeldReference): Record<string, unknown> {
  return formula ? (referrer as Record<string, unknown>) : (entityInternals(referrer) as Wrapped).__data;
}

/** Keeps only the references `unsetIdentity` deleted. */
function keepDeleted(removal: Removal): void {
  const deleted = removal.references.filter((reference) => !(reference.name in holderOf(reference)));
  removal.references.splice(0, removal.references.length, ...deleted);
  for (const referrer of removal.referrers) keepDeleted(referrer);
}

/**
 * After a rollback: the entity and the references to it as before the call, where flush, failing
 * after its DELETE, leaves them deleted though the row is back (a next flush then writes the
 * references' removal: a referrer's foreign key set to NULL, its junction rows deleted). A managed
 * entity is managed again with its snapshot, so a next flush neither inserts it again nor loses its
 * pending changes.
 */
export function restoreRemoval(removal: Removal): void {
  const { em, entity, wrapped } = removal;
  if (removal.mapped && identityMapEntry(em, entity) === undefined) em.getUnitOfWork().getIdentityMap().store(entity);
  wrapped.__managed = removal.managed;
  wrapped.__originalEntityData = removal.snapshot as Wrapped['__originalEntityData'];
  if (removal.identifier !== undefined) wrapped.__identifier = removal.identifier;
  if (removal.touched !== undefined) wrapped.__touched = removal.touched;
  for (const stack of removal.stacks) stack.add(entity);
  for (const reference of removal.references) {
    const holder = holderOf(reference);
    if (!(reference.name in holder)) holder[reference.name] = reference.value;
  }
  for (const { collection, items, dirty } of removal.collections) {
    // Back in its place: the items after it are taken out and added again after it.
    const held = new Set(collection.getItems(false));
    if (held.has(entity)) continue;
    for (const item of held) collection.removeWithoutPropagation(item);
    for (const item of items) if (item === entity || held.delete(item)) collection.addWithoutPropagation(item);
    for (const item of held) collection.addWithoutPropagation(item);
    collection.setDirty(dirty);
  }
  for (const referrer of removal.referrers) restoreRemoval(referrer);
}

/**
 * Refuses, before anything is sent, a remove that `em.remove()` would carry to related entities:
 * a relation with `Cascade.REMOVE` or `Cascade.ALL`, or with `orphanRemoval`.
 */
export function refuseCascadingRemove(meta: EntityMetadata<object>): void {
  for (const prop of meta.props) {
    const cascades = prop.cascade?.includes(Cascade.REMOVE) || prop.cascade?.includes(Cascade.ALL);
    if (!cascades && !prop.orphanRemoval) continue;
    const how = prop.orphanRemoval
      ? 'orphanRemoval'
      : `cascade ${cascades && prop.cascade.includes(Cascade.ALL) ? 'Cascade.ALL' : 'Cascade.REMOVE'}`;
    throw new UnsupportedFeatureError(
      'cascade remove',
      `bulkRemove of ${meta.className}: relation "${prop.name}" has ${how}, which em.remove() follows to the related ` +
        'entities; cohort removes only the given rows — remove the related entities first, or use em.remove()',
      { entityName: meta.className, property: prop.name },
    );
  }
}

/**
 * Refuses a stored row's new inverse one-to-one target with orphanRemoval when flush's early step
 * would delete a replaced target whose class cascades removes (what {@link refuseCascadingRemove}
 * refuses of the bulkRemove that writes that step): told at the row (`index`) and its relation.
 */
export function refuseReplacedRemoval(
  holder: { readonly index: number; readonly entityName: string; readonly property: string },
  classes: readonly EntityMetadata<object>[],
): void {
  try {
    for (const meta of new Set(classes)) refuseCascadingRemove(meta);
  } catch (error) {
    const target = classes[0]?.className ?? '';
    throw located(error, { entityName: holder.entityName, property: holder.property, target }, 'removed', holder.index);
  }
}
