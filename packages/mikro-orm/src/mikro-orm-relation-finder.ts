import type { EntityGraph, RelationWrite, UnwrittenRelation } from '@cohort/core/adapter';
import { type EntityManager, type EntityMetadata, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import { propertyPath } from './mikro-orm-column-model.js';
import { collectionState, entityInternals, identityMapEntry, originalEntityData, prototypeMeta } from './mikro-orm-internals.js';
import { collectionChanges, otherSides, writesLinks } from './mikro-orm-links.js';
import { previousTargets, writesReplaced } from './mikro-orm-replaced-targets.js';
import { refersToOwnTable } from './mikro-orm-self-references.js';

// Metadata of an entity type the finder does not know.
type AnyEntity = any;

/**
 * Finds the first relation of a row that flush would write and cohort does not
 * (EntityAccess.unwrittenRelation). `graph`: the entities the call inserts (its rows and the new
 * related entities it inserts with them, mikro-orm-cascades.ts): a one-to-many item among them that
 * refers to the row is written by its own insert.
 */
export type RelationFinder = (
  entity: AnyEntity,
  write: RelationWrite,
  graph?: EntityGraph,
  em?: EntityManager,
) => UnwrittenRelation | undefined;

type RelationCheck = (
  entity: AnyEntity,
  write: RelationWrite,
  graph?: EntityGraph,
  em?: EntityManager,
) => UnwrittenRelation | undefined;

const finders = new WeakMap<EntityMetadata<AnyEntity>, RelationFinder | null>();

/**
 * The relation finder of an entity class, worked out once per metadata; undefined when no class of
 * its table has a relation, so its rows cost nothing. What flush writes through each kind of
 * relation (UnitOfWork, ChangeSetComputer, Collection):
 * - a to-one (many-to-one, owning one-to-one) pointing at an entity without a primary key: flush
 *   inserts that entity first (it follows to-one references whatever their cascade), where cohort
 *   would write NULL — checked for every write, upserts included;
 * - a collection (one-to-many, many-to-many) whose items differ from its snapshot (what it held when
 *   loaded or last flushed; nothing for a new entity): flush inserts new items, sets or clears the
 *   foreign key of items added or removed on a one-to-many, and writes junction rows for a
 *   many-to-many. A collection that is not dirty, or dirty with the same items, writes nothing;
 * - the inverse side of a one-to-one pointing at an entity whose stored foreign key is not the row's
 *   (or that is new): flush writes that entity's foreign key, or inserts it.
 * An upsert writes only the row's own columns (as `em.upsert()`): collections are not checked.
 */
export function mikroOrmRelationFinder(meta: EntityMetadata<AnyEntity>): RelationFinder | undefined {
  // Single-table inheritance: the root holds every class's properties; a row is checked with its own class's.
  if (!meta.root.props.some(isChecked)) return undefined;
  return (entity, write, graph, em) => {
    const own = prototypeMeta(entity) ?? meta;
    const found = finderOf(own)?.(entity, write, graph, em);
    return found && own.className !== meta.className ? { ...found, entityName: own.className } : found;
  };
}

function finderOf(meta: EntityMetadata<AnyEntity>): RelationFinder | undefined {
  let finder = finders.get(meta);
  if (finder === undefined) {
    const checks = meta.props.filter(isChecked).map((prop) => checkOf(meta, prop));
    finder =
      checks.length === 0
        ? null
        : (entity, write, graph, em) => {
            for (const check of checks) {
              const found = check(entity, write, graph, em);
              if (found) return found;
            }
            return undefined;
          };
    finders.set(meta, finder);
  }
  return finder ?? undefined;
}

function isChecked(prop: EntityProperty<AnyEntity>): boolean {
  // A relation inside an object (JSON) or array embeddable is not a column of its own (persist:
  // false), but flush writes its key into the JSON, and inserts a new target first.
  if (prop.persist === false && !(prop.object && prop.embedded)) return false;
  switch (prop.kind) {
    case ReferenceKind.MANY_TO_ONE:
    case ReferenceKind.ONE_TO_ONE:
    case ReferenceKind.ONE_TO_MANY:
    case ReferenceKind.MANY_TO_MANY:
      return true;
    default:
      return false;
  }
}

function checkOf(meta: EntityMetadata<AnyEntity>, prop: EntityProperty<AnyEntity>): RelationCheck {
  if (prop.kind === ReferenceKind.ONE_TO_MANY || prop.kind === ReferenceKind.MANY_TO_MANY) return collectionCheck(prop);
  if (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner) return inverseOneCheck(prop);
  // A new parent of the own table in an inline embeddable is linked as any (below) — but not from a
  // nested one (`outer.inner.parent`): flush writes NULL there (its extra updates do not reach it),
  // and cohort does not link it either, so it is refused (embeddedReferenceCheck) rather than lost.
  if (prop.embedded && (!refersToOwnTable(meta, prop) || propertyPath(meta, prop).length > 2))
    return embeddedReferenceCheck(meta, prop);
  const check = referenceCheck(prop);
  if (!refersToOwnTable(meta, prop) || prop.mapToPk) return check;
  // A new parent of the own table is the engine's to link on insert (mikro-orm-self-references.ts:
  // its follow-up UPDATE moves a version property on and fires the update events, as flush's extra
  // update does — a parent an earlier batch of the call inserted included).
  return (entity, write) => (write === 'insert' ? undefined : check(entity, write));
}

/** An owning to-one pointing at an entity without a primary key. */
function referenceCheck(prop: EntityProperty<AnyEntity>): RelationCheck {
  const found: UnwrittenRelation = {
    kind: 'unsaved reference',
    property: prop.embedded ? prop.embedded.join('.') : prop.name,
    target: prop.targetMeta?.className ?? prop.type,
  };
  return (entity, write, graph) => {
    const value = embeddedValue(entity, prop);
    if (!isUnsaved(value)) return undefined;
    // A stored row's new target that the call inserts before the row's UPDATE (mikro-orm-cascades.ts
    // checks that every new to-one's class comes before its holder's), whose key the UPDATE then
    // writes (issue 22).
    return write === 'update' && graph?.has(Reference.unwrapReference(value as object)) ? undefined : found;
  };
}

/**
 * A to-one inside an embeddable — inline, nested, object (JSON) or an array of them — pointing at an
 * entity without a primary key: flush inserts it first and writes its key, and so does the call when
 * its cascade walk reached it (mikro-orm-cascade-walk.ts: an entity of another class in the call's
 * graph, inserted before its holder). Refused otherwise: a cascade whose classes cannot be put in
 * dependency order, and a new entity of the holder's own class (the call's graph holds its rows, but
 * nothing links a row from inside an embeddable: its key would be left out).
 */
function embeddedReferenceCheck(meta: EntityMetadata<AnyEntity>, prop: EntityProperty<AnyEntity>): RelationCheck {
  const found: UnwrittenRelation = {
    kind: 'unsaved reference',
    property: propertyPath(meta, prop).join('.'),
    target: prop.targetMeta?.className ?? prop.type,
  };
  const inserted = (entity: AnyEntity, graph: EntityGraph | undefined) => (value: unknown) => {
    const target = Reference.unwrapReference(value as object);
    return graph?.has(target) === true && rootOf(target) !== rootOf(entity);
  };
  return (entity, _write, graph) =>
    embeddedValues(meta, entity, prop).some((value) => isUnsaved(value) && !inserted(entity, graph)(value)) ? found : undefined;
}

/** Every value of an embedded property on the entity: through nested embeddables and arrays of them. */
export function embeddedValues(meta: EntityMetadata<AnyEntity>, entity: AnyEntity, prop: EntityProperty<AnyEntity>): unknown[] {
  if (!prop.embedded) return [(entity as Record<string, unknown>)[prop.name]];
  const [parent, child] = prop.embedded;
  const holder = meta.properties[parent];
  if (!holder) return [];
  return embeddedValues(meta, entity, holder)
    .flatMap((value) => (Array.isArray(value) ? value : [value]))
    .map((value) => (value != null && typeof value === 'object' ? (value as Record<string, unknown>)[child] : undefined));
}

/** A one-to-many or many-to-many collection whose items changed since its snapshot. */
function collectionCheck(prop: EntityProperty<AnyEntity>): RelationCheck {
  const linked: UnwrittenRelation = {
    kind: prop.kind === ReferenceKind.MANY_TO_MANY ? 'many-to-many link' : 'inverse side',
    property: prop.name,
    target: prop.targetMeta?.className ?? prop.type,
  };
  const inserted: UnwrittenRelation = { ...linked, kind: 'cascade insert' };
  const added = (items: Iterable<unknown>): UnwrittenRelation => {
    for (const item of items) if (isUnsaved(item)) return inserted;
    return linked;
  };
  // Links of a many-to-many collection are written; an array assigned in its place is not one.
  const arrayGiven = (found: UnwrittenRelation): UnwrittenRelation =>
    found.kind === 'many-to-many link'
      ? {
          ...found,
          advice: `set the links through the collection (\`${prop.name}.set([...])\`, \`${prop.name}.add(…)\`) rather than assigning an array, or use the ORM's own flush`,
        }
      : found;
  const links = writesLinks(prop);
  // A new one-to-many item the call inserts, referring to the row: its own insert writes the link.
  const mappedBy = prop.kind === ReferenceKind.ONE_TO_MANY ? prop.mappedBy : undefined;
  const insertedWith = (entity: AnyEntity, graph: EntityGraph | undefined) => (item: unknown) =>
    graph !== undefined &&
    mappedBy !== undefined &&
    typeof item === 'object' &&
    item !== null &&
    graph.has(item) &&
    Reference.unwrapReference((item as Record<string, unknown>)[mappedBy] as object) === entity;
  const pending = mappedBy !== undefined ? pendingItem(prop, mappedBy) : undefined;
  return (entity, write, graph, em) => {
    if (write === 'upsert') return undefined;
    const value = (entity as Record<string, unknown>)[prop.name];
    // Links of an initialized collection to stored entities are written (mikro-orm-links.ts): new items are refused.
    if (links && Utils.isCollection(value) && collectionState(value).isInitialized()) {
      const changes = collectionChanges(value);
      if (changes) {
        // New items of another class the call inserts (mikro-orm-cascades.ts) are linked once both
        // sides have keys, from the side inserted last (mikro-orm-links.ts).
        // So are a stored row's (bulkSave inserts them before the row's UPDATE; issue 22).
        const later = (item: unknown) => isUnsaved(item) && !!graph?.has(item as object) && rootOf(item) !== rootOf(entity);
        for (const item of changes.added) if (isUnsaved(item) && !later(item)) return inserted;
        if (changes.removed.length === 0 && changes.added.every(later)) return undefined;
        // Writing them would leave a change of the other side unwritten (see otherSides).
        return otherSides(prop, entity, changes) ? undefined : linked;
      }
      if (!collectionState(value).isDirty() || collectionState(value).getSnapshot() !== undefined) return undefined;
    }
    // An array given for a collection: flush makes it a collection holding every item.
    if (Array.isArray(value)) return value.length === 0 ? undefined : arrayGiven(added(value));
    if (!Utils.isCollection(value)) return undefined;
    const collection = collectionState(value);
    if (!collection.isDirty()) return undefined;
    const items = collection.getItems(false);
    const snapshot = collection.getSnapshot();
    // Replaced before it was loaded (set, removeAll): flush rewrites what is stored.
    const written = insertedWith(entity, graph);
    // Stored managed items whose change is pending in the unit of work: the next flush writes them.
    const pendingAdd = (item: unknown) => pending?.(em, entity, item, true) === true;
    if (snapshot === undefined) {
      const left = items.filter((item) => !written(item));
      if (left.length > 0) return write === 'insert' && left.every(pendingAdd) ? undefined : added(left);
      return items.length === 0 && write === 'update' ? linked : undefined;
    }
    if (snapshot.length === 0) {
      // A new row's collection: every item is added, none removed.
      const more = items.filter((item) => !written(item));
      return more.length > 0 && !more.every(pendingAdd) ? added(more) : undefined;
    }
    const before = new Set(snapshot);
    const now = new Set(items);
    const more = items.filter((item) => !before.has(item) && !written(item));
    if (more.length > 0 && !more.every(pendingAdd)) return added(more);
    for (const item of snapshot) if (!now.has(item) && !pending?.(em, entity, item, false)) return linked;
    return undefined;
  };
}

/**
 * Whether an item added to (`added`) or removed from a one-to-many is a change flush writes as the
 * item's own: adding it to the collection set its reference to the row (`order.shop = shop`),
 * removing it cleared it (or, with `orphanRemoval`, scheduled its removal), so the item is a changed
 * managed entity, and a bulk call — which leaves the other managed entities' changes pending for
 * the next flush (docs/guide.md, "Changed related entities") — need not write it: the call and that
 * flush leave what persist + flush leaves. An item that is not managed, has no key, or whose
 * reference does not agree with the collection is refused as before.
 */
function pendingItem(prop: EntityProperty<AnyEntity>, mappedBy: string) {
  return (em: EntityManager | undefined, entity: AnyEntity, item: unknown, added: boolean): boolean => {
    if (em === undefined || item == null || typeof item !== 'object' || !Utils.isEntity(item)) return false;
    const internals = entityInternals(item);
    // Managed by the call's EntityManager: the flush that follows the call is that one's.
    if (!internals.__managed || !internals.hasPrimaryKey() || identityMapEntry(em, item) !== item) return false;
    const holder = Reference.unwrapReference((item as Record<string, unknown>)[mappedBy] as object);
    if (added) return holder === entity;
    return holder !== entity || (prop.orphanRemoval === true && entityInternals(entity).__managed === true);
  };
}

/** The inverse side of a one-to-one: flush writes the owner's foreign key when it is not the row's. */
function inverseOneCheck(prop: EntityProperty<AnyEntity>): RelationCheck {
  const linked: UnwrittenRelation = {
    kind: 'inverse side',
    property: prop.name,
    target: prop.targetMeta?.className ?? prop.type,
  };
  const inserted: UnwrittenRelation = { ...linked, kind: 'cascade insert' };
  const replaced: UnwrittenRelation = { ...inserted, advice: replacedAdvice(prop, linked.target) };
  const owning = prop.mappedBy;
  return (entity, write, graph, em) => {
    if (write === 'upsert') return undefined;
    const target = Reference.unwrapReference((entity as Record<string, unknown>)[prop.name] as object);
    if (target == null || !Utils.isEntity(target)) return undefined;
    // A new target the call inserts, referring to the row: its own insert writes the link (a stored
    // row's: inserted before the row's UPDATE, as flush inserts before it updates; issue 22). One
    // with a key but no row (kept from a failed call, or set by hand) is new if the cascade found it
    // (of another class: the graph holds the call's rows too, stored ones included).
    if (isUnsaved(target) || (graph?.has(target) && rootOf(target) !== rootOf(entity))) {
      const own = owning && Reference.unwrapReference((target as Record<string, unknown>)[owning] as object);
      if (!graph?.has(target) || own !== entity) return inserted;
      if (write === 'insert') return undefined;
      // A stored row that had a target: flush first clears that target's reference (an early UPDATE
      // of it, with its update events; with orphanRemoval, its removal), and so does the call, before
      // the new target's insert (mikro-orm-replaced-targets.ts) — refused where flush's step fails
      // (a NOT NULL foreign key) or the old target still points at the row.
      if (em === undefined) return replaced;
      const olds = previousTargets(em, prop, entity, target);
      return olds.length === 0 || writesReplaced(prop, olds) ? undefined : replaced;
    }
    if (write === 'insert') return linked;
    const stored = originalEntityData(target);
    if (!stored || !owning) return linked;
    return Utils.equals(stored[owning], entityInternals(entity).getPrimaryKey()) ? undefined : linked;
  };
}

/**
 * Why a stored row's previous inverse one-to-one target is refused, and the way round. Flush first
 * clears its reference (or deletes it, with orphanRemoval) before inserting the new one, and so does
 * the call (mikro-orm-replaced-targets.ts), except where flush's step fails — a NOT NULL foreign key:
 * its UPDATE fails and the flush rolls back — or the old target's own reference is not cleared on
 * the object (it still holds the row, or another entity): the call writes only the clearing step.
 */
function replacedAdvice(prop: EntityProperty<AnyEntity>, target: string): string {
  const owner = prop.mappedBy ? prop.targetMeta?.properties[prop.mappedBy] : undefined;
  if (owner && !prop.orphanRemoval && owner.nullable !== true)
    return `the row had another ${target} (${prop.name}): flush first clears that one's reference, which fails on its NOT NULL column (${owner.fieldNames?.join(', ') ?? owner.name}) and rolls back; cohort does not write it either — remove or re-point the old ${target} first (em.remove(), em.flush()), then assign the new one`;
  return `the row had another ${target} (${prop.name}) whose own reference (\`${prop.mappedBy}\`) is not cleared on the object: cohort clears (or, with orphanRemoval, deletes) the old one first, as flush does, only when assigning the new one cleared it — clear it first (\`${prop.name} = null\`, then em.flush()) and assign the new one after, or use the ORM's own flush`;
}

/** The metadata of the entity's own class. */
function ownMeta(entity: AnyEntity): EntityMetadata<AnyEntity> | undefined {
  return prototypeMeta(entity as object) ?? entityInternals(entity as object)?.__meta;
}

/** The root class of an entity's hierarchy (single-table inheritance). */
function rootOf(entity: unknown): unknown {
  return ownMeta(entity as AnyEntity)?.root;
}

/** An entity (or reference to one) without a primary key: flush would insert it. */
function isUnsaved(value: unknown): boolean {
  if (value == null || typeof value !== 'object') return false;
  const target = Reference.unwrapReference(value as object);
  return Utils.isEntity(target) && !entityInternals(target).hasPrimaryKey();
}

/**
 * The value of a (possibly inline-embedded) property on the entity itself, at any depth: a property
 * of an embeddable inside an embeddable (`outer.inner.tags`) is embedded in `outer_inner`, itself a
 * property of the metadata embedded in `outer`. `meta`: the entity's (or its root's), else its own.
 */
export function embeddedValue(entity: AnyEntity, prop: EntityProperty<AnyEntity>, meta?: EntityMetadata<AnyEntity>): unknown {
  if (!prop.embedded) return (entity as Record<string, unknown>)[prop.name];
  const [parent, child] = prop.embedded;
  const holderProp = meta?.properties[parent] ?? ownMeta(entity)?.properties[parent];
  const holder = holderProp?.embedded ? embeddedValue(entity, holderProp, meta) : (entity as Record<string, unknown>)[parent];
  return holder == null || typeof holder !== 'object' ? undefined : (holder as Record<string, unknown>)[child];
}
