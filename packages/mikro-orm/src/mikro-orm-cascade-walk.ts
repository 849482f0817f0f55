import { type EntityMetadata, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import { collectionState } from './mikro-orm-internals.js';
import { cascadedLinksOrInverse, cascadesPersist, linkedTargets } from './mikro-orm-linked-cascades.js';
import { embeddedValues } from './mikro-orm-relation-finder.js';

type AnyEntity = object;
type Meta = EntityMetadata<AnyEntity>;

/** The new related entities of one class (its hierarchy's root) a batch's walk reached, in the order reached. */
export interface ReachedClass {
  readonly entities: AnyEntity[];
  /** Per entity, the input row it was reached from. */
  readonly indices: number[];
  /** Where the first of them was reached: the holder's class and the relation. */
  readonly entityName: string;
  readonly property: string;
}

/** What the walk of a batch's graph found (see {@link walkCascades}). */
export interface CascadeWalk {
  /** Flush's persist stack: the rows, each followed by what it cascades to (depth first). */
  readonly persisted: AnyEntity[];
  /** The new related entities, in the order reached, by the input row each was reached from. */
  readonly reached: Map<AnyEntity, number>;
  /** The same, per class root, in the order their classes were first reached. */
  readonly byClass: Map<Meta, ReachedClass>;
  /** The classes of new many-to-many items: inserted before the rows, whose links read their keys. */
  readonly linkedClasses: Set<Meta>;
  /** The class roots of the persisted entities. */
  readonly classes: Set<Meta>;
  /** Per class root, the other class roots of the new entities its entities' to-ones refer to. */
  readonly dependencies: Map<Meta, Set<Meta>>;
  /**
   * Some entity refers by a to-one to a new entity the walk did not visit (a new parent of the rows'
   * class outside the batch): its class may be one of none visited.
   */
  readonly unvisitedTargets: boolean;
}

/** One relation of a class, as the walk reads it: worked out once per class. */
interface Step {
  readonly name: string;
  readonly prop: EntityProperty<AnyEntity>;
  /** A to-one (many-to-one, owning one-to-one); `linked`: a many-to-many or inverse one-to-one; `items`: a one-to-many. */
  readonly kind: 'to-one' | 'linked' | 'items';
  readonly cascades: boolean;
  readonly embedded: boolean;
  readonly mappedBy: string;
}

const steps = new WeakMap<Meta, readonly Step[]>();

/** The relations of a class through which flush's persist or change-set computation reaches new entities. */
function stepsOf(meta: Meta): readonly Step[] {
  let found = steps.get(meta);
  if (!found) {
    const list: Step[] = [];
    for (const prop of meta.relations) {
      const kind = walkedToOne(prop)
        ? 'to-one'
        : cascadedLinksOrInverse(prop)
          ? 'linked'
          : cascadedCollection(prop)
            ? 'items'
            : undefined;
      // An embedded relation's value is not on the entity itself: flush's persist does not follow it.
      if (kind === undefined || (kind !== 'to-one' && prop.embedded)) continue;
      list.push({
        name: prop.name,
        prop,
        kind,
        cascades: cascadesPersist(prop),
        embedded: !!prop.embedded,
        mappedBy: prop.mappedBy,
      });
    }
    found = list;
    steps.set(meta, list);
  }
  return found;
}

/**
 * A to-one whose new target flush's change-set computation inserts: an owning one with a column of
 * its own, or one inside an embeddable — inline, nested, object (JSON) or an array of them, whose
 * key flush writes into the embeddable's column.
 */
export function walkedToOne(prop: EntityProperty<AnyEntity>): boolean {
  if (toOneOwner(prop)) return true;
  return (
    prop.embedded !== undefined &&
    !prop.mapToPk &&
    (prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner === true))
  );
}

/** The values of a to-one on an entity: one, or those of every embeddable holding it (arrays of them included). */
export function toOneValues(meta: Meta, entity: AnyEntity, prop: EntityProperty<AnyEntity>): unknown[] {
  return prop.embedded ? embeddedValues(meta, entity, prop) : [(entity as Record<string, unknown>)[prop.name]];
}

/** A many-to-one or owning one-to-one with a column of its own. */
export function toOneOwner(prop: EntityProperty<AnyEntity>): boolean {
  return (
    prop.persist !== false &&
    !prop.mapToPk &&
    (prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner === true))
  );
}

/** A one-to-many that cascades persist. */
export function cascadedCollection(prop: EntityProperty<AnyEntity>): boolean {
  return (
    prop.kind === ReferenceKind.ONE_TO_MANY &&
    prop.persist !== false &&
    typeof prop.mappedBy === 'string' &&
    cascadesPersist(prop)
  );
}

/**
 * Walks a batch's rows as flush's persist does (mikro-orm-cascades.ts): each row, then depth first
 * what it cascades to — through relations that cascade persist, and through every to-one to a new
 * entity (flush's change-set computation follows those whatever their cascade, but no collection of
 * an entity reached that way). A new entity of the rows' own class is not followed (a tree: the
 * engine's or the relation finder's). One pass finds what the commit order and the dependency check
 * read too, so that each relation of each entity is read once.
 */
export function walkCascades(
  rows: readonly AnyEntity[],
  indices: readonly number[],
  rootMeta: Meta,
  metaOf: (entity: AnyEntity) => Meta,
  isNew: (entity: AnyEntity) => boolean,
): CascadeWalk {
  const batch = new Set(rows);
  const persisted: AnyEntity[] = [];
  const reached = new Map<AnyEntity, number>();
  const byClass = new Map<Meta, ReachedClass>();
  const linkedClasses = new Set<Meta>();
  const classes = new Set<Meta>();
  const dependencies = new Map<Meta, Set<Meta>>();
  let unvisitedTargets = false;

  // A new entity found through `step` of `holder`'s entity: walked unless known already or of the rows' own class.
  const reach = (target: AnyEntity, targetMeta: Meta, holder: Meta, step: Step, index: number, persisting: boolean): void => {
    if (targetMeta.root === rootMeta || reached.has(target) || batch.has(target)) return;
    reached.set(target, index);
    let group = byClass.get(targetMeta.root);
    if (!group) {
      group = { entities: [], indices: [], entityName: holder.className, property: step.name };
      byClass.set(targetMeta.root, group);
    }
    group.entities.push(target);
    group.indices.push(index);
    if (step.prop.kind === ReferenceKind.MANY_TO_MANY) linkedClasses.add(targetMeta.root);
    visit(target, targetMeta, index, persisting && step.cascades);
  };
  const visit = (entity: AnyEntity, meta: Meta, index: number, persisting: boolean): void => {
    persisted.push(entity);
    classes.add(meta.root);
    const values = entity as Record<string, unknown>;
    for (const step of stepsOf(meta)) {
      if (step.kind === 'to-one') {
        for (const value of toOneValues(meta, entity, step.prop)) {
          if (value == null || typeof value !== 'object') continue;
          const target = Reference.unwrapReference(value as object);
          if (!Utils.isEntity(target) || !isNew(target)) continue;
          const targetMeta = metaOf(target);
          if (targetMeta.root !== meta.root) {
            let refers = dependencies.get(meta.root);
            if (!refers) {
              refers = new Set();
              dependencies.set(meta.root, refers);
            }
            refers.add(targetMeta.root);
          }
          if (targetMeta.root === rootMeta && !batch.has(target)) unvisitedTargets = true;
          // Reached inside an embeddable, by the change-set computation only: flush's persist does
          // not cascade through embeddables.
          reach(target, targetMeta, meta, step, index, persisting && !step.embedded);
        }
        continue;
      }
      const value = values[step.name];
      if (value == null) continue;
      if (!persisting) continue;
      if (step.kind === 'linked') {
        for (const target of linkedTargets(entity, step.prop, isNew)) reach(target, metaOf(target), meta, step, index, true);
        continue;
      }
      if (!Utils.isCollection(value)) continue;
      const collection = collectionState(value);
      if (!collection.isInitialized()) continue;
      // Only items whose own reference is the holder: their insert writes the link.
      for (const item of collection.getItems(false)) {
        if (
          Utils.isEntity(item) &&
          isNew(item as AnyEntity) &&
          Reference.unwrapReference((item as Record<string, unknown>)[step.mappedBy] as object) === entity
        ) {
          reach(item as AnyEntity, metaOf(item as AnyEntity), meta, step, index, true);
        }
      }
    }
  };
  for (let position = 0; position < rows.length; position++) {
    const row = rows[position] as AnyEntity;
    visit(row, metaOf(row), indices[position] as number, true);
  }
  return { persisted, reached, byClass, linkedClasses, classes, dependencies, unvisitedTargets };
}
