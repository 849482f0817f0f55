import { UnsupportedFeatureError } from '@cohort/core';
import { located } from '@cohort/core/adapter';
import { Cascade, type EntityManager, type EntityMetadata, Reference, Utils } from '@mikro-orm/core';
import { type AlternateKey, alternateKeys, restoreAlternateKeys } from './alternate-keys.js';
import {
  type CollectionState,
  type EntityInternals,
  entityInternals,
  identityMapEntry,
  identityMapStore,
  mikroOrmMajor,
} from './mikro-orm-internals.js';
import type { UndoLog } from './undo-log.js';

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
  /** The identity map's entries of it under a non-key property, which `unsetIdentity` deletes too (MikroORM 7). */
  readonly alternateKeys: readonly AlternateKey[];
  readonly managed: boolean;
  readonly snapshot: unknown;
  readonly identifier: unknown;
  readonly touched: boolean | undefined;
  readonly stacks: readonly Set<AnyEntity>[];
  readonly references: HeldReference[];
  /** How many collections of other managed entities held it (each put back once per call, see CollectionBefore). */
  collections: number;
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
export function removeFromUnitOfWork(em: EntityManager, entity: AnyEntity, undo: UndoLog): void {
  const removal = capture(em, entity, new Set(), undo);
  em.getUnitOfWork().unsetIdentity(entity);
  keepDeleted(removal);
  // Nothing to put back (an entity the unit of work never held, as a stream's): nothing kept for the call.
  if (changed(removal)) undo.push(restoreRemoval, removal);
}

/**
 * A collection's items and dirty flag before the call first removed one of its items: one per
 * collection per call (its undo log), whatever the number of its items the call removes, put back
 * once on rollback (see restoreCollection).
 */
interface CollectionBefore {
  readonly undo: UndoLog;
  readonly collection: CollectionState;
  readonly items: unknown[];
  readonly dirty: boolean;
  /** The items the call removed from it. */
  readonly removed: Set<unknown>;
}

const collectionsByCall = new WeakMap<UndoLog, Map<CollectionState, CollectionBefore>>();

/** Notes that `unsetIdentity` is about to take the entity out of the collection. */
function noteCollection(undo: UndoLog, collection: CollectionState, entity: AnyEntity): void {
  let collections = collectionsByCall.get(undo);
  if (!collections) {
    collections = new Map();
    collectionsByCall.set(undo, collections);
  }
  let before = collections.get(collection);
  if (!before) {
    const items = [...collection.getItems(false)];
    before = { undo, collection, items, dirty: collection.isDirty(), removed: new Set() };
    collections.set(collection, before);
    undo.push(restoreCollection, before);
  }
  before.removed.add(entity);
}

/**
 * Puts the items the call removed back in their places, keeping any other change to the collection
 * since: the held items up to the first one out of place stay, the ones after it are taken out and
 * added again in the order before the call, and items added since go last.
 */
function restoreCollection(before: CollectionBefore): void {
  collectionsByCall.get(before.undo)?.delete(before.collection);
  const { collection, removed } = before;
  const held = collection.getItems(false);
  const wanted = before.items.filter((item) => removed.has(item) || collection.contains(item as object, false));
  let kept = 0;
  while (kept < held.length && kept < wanted.length && held[kept] === wanted[kept]) kept++;
  if (kept === held.length && kept === wanted.length) return;
  const later = held.slice(kept);
  // From the end: each removal renumbers the items after it.
  for (let i = later.length - 1; i >= 0; i--) collection.removeWithoutPropagation(later[i]);
  for (let i = kept; i < wanted.length; i++) collection.addWithoutPropagation(wanted[i]);
  for (const item of later) collection.addWithoutPropagation(item);
  collection.setDirty(before.dirty);
}

function changed(removal: Removal): boolean {
  return (
    removal.mapped ||
    removal.alternateKeys.length > 0 ||
    removal.managed ||
    removal.snapshot !== undefined ||
    removal.identifier !== undefined ||
    removal.touched === true ||
    removal.stacks.length + removal.references.length + removal.collections + removal.referrers.length > 0
  );
}

function capture(em: EntityManager, entity: AnyEntity, seen: Set<AnyEntity>, undo: UndoLog): Removal {
  seen.add(entity);
  const uow = em.getUnitOfWork();
  const wrapped = entityInternals(entity) as Wrapped;
  const stacks = [uow.getPersistStack(), uow.getRemoveStack(), uow.getOrphanRemoveStack()] as Set<AnyEntity>[];
  const removal: Removal = {
    em,
    entity,
    wrapped,
    mapped: identityMapEntry(em, entity) === entity,
    alternateKeys: alternateKeys(em, entity, undo),
    managed: wrapped.__managed,
    snapshot: wrapped.__originalEntityData,
    identifier: wrapped.__identifier,
    touched: wrapped.__touched,
    stacks: stacks.filter((stack) => stack.has(entity)),
    references: [],
    collections: 0,
    referrers: [],
  };
  // The references `unsetIdentity` deletes: in every managed entity of a class that refers to this one.
  let keyText: string | null | undefined;
  for (const { meta, prop } of wrapped.__meta.referencingProperties) {
    if (prop.mapToPk && keyText === undefined) keyText = scalarText(wrapped.getPrimaryKey() as unknown);
    for (const referrer of identityMapStore(em, meta).values()) {
      const value = Reference.unwrapReference((referrer as Record<string, unknown>)[prop.name] as object);
      if (Utils.isCollection(value)) {
        const collection = value as unknown as CollectionState;
        if (collection.contains(entity, false)) {
          noteCollection(undo, collection, entity);
          removal.collections++;
        }
      } else if (value != null && (prop.mapToPk ? mayHoldKey(value, keyText as string | null) : value === entity)) {
        // A key-mapped reference (`mapToPk`) that may hold its key is kept below if `unsetIdentity` deleted it.
        if (prop.primary && mikroOrmMajor >= 7) {
          if (!seen.has(referrer)) removal.referrers.push(capture(em, referrer, seen, undo));
        } else {
          const reference = { referrer, name: prop.name, formula: prop.formula !== undefined, value: undefined };
          removal.references.push({ ...reference, value: holderOf(reference)[prop.name] });
        }
      }
    }
  }
  return removal;
}

/**
 * Whether a key-mapped reference's value (`mapToPk`) may be the entity's key, which `unsetIdentity`
 * finds by serializing both: false only where both are one scalar each and differ as text, so that
 * the referrers of other entities of the class are not captured (on MikroORM 7 an entity keyed by
 * one would be captured whole, its own referrers with it, and kept until the call ends).
 */
function mayHoldKey(value: unknown, keyText: string | null): boolean {
  const text = scalarText(value);
  return text === null || keyText === null || text === keyText;
}

/** A single scalar key's text, or null for anything else (a composite key, an object). */
function scalarText(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? `${value}` : null;
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
function restoreRemoval(removal: Removal): void {
  const { em, entity, wrapped } = removal;
  if (removal.mapped && identityMapEntry(em, entity) === undefined) em.getUnitOfWork().getIdentityMap().store(entity);
  restoreAlternateKeys(em, entity, removal.alternateKeys);
  wrapped.__managed = removal.managed;
  wrapped.__originalEntityData = removal.snapshot as Wrapped['__originalEntityData'];
  if (removal.identifier !== undefined) wrapped.__identifier = removal.identifier;
  if (removal.touched !== undefined) wrapped.__touched = removal.touched;
  for (const stack of removal.stacks) stack.add(entity);
  for (const reference of removal.references) {
    const holder = holderOf(reference);
    if (!(reference.name in holder)) holder[reference.name] = reference.value;
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
