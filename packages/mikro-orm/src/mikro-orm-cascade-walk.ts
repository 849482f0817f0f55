import { type EntityMetadata, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import { collectionState } from './mikro-orm-internals.js';
import { cascadedLinksOrInverse, cascadesPersist, linkedTargets } from './mikro-orm-linked-cascades.js';
import { embeddedValues } from './mikro-orm-relation-finder.js';

type AnyEntity = object;
type Meta = EntityMetadata<AnyEntity>;

/**
 * The new related entities of one class (its hierarchy's root) a batch's walk reached, in the order
 * flush computes their change sets (see {@link walkCascades}).
 */
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
  /** Flush's persist stack: the rows, then what they cascade to (depth first). */
  readonly persisted: AnyEntity[];
  /** The entities of the unit of work's persist stack before the call that are rows or reached, in its order. */
  readonly earlier: AnyEntity[];
  /** The new related entities, in the order reached, by the input row each was reached from. */
  readonly reached: Map<AnyEntity, number>;
  /** The same, per class root (classes in the order first reached, entities in flush's change-set order). */
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
 * an entity reached that way). A row reached through a cascade is walked there, as flush's cascade
 * enters it (`shop.orders` reaches the next order). A new entity of the rows' own class outside the
 * batch is not followed (a tree: the engine's or the relation finder's). One pass finds what the
 * commit order and the dependency check read too, so that each relation of each entity is read once;
 * it records, per entity, the new entities flush's change-set computation goes to before it, and
 * {@link changeSetOrder} puts each class's new entities in flush's order from those.
 */
export function walkCascades(
  rows: readonly AnyEntity[],
  indices: readonly number[],
  rootMeta: Meta,
  metaOf: (entity: AnyEntity) => Meta,
  isNew: (entity: AnyEntity) => boolean,
  /** The unit of work's persist stack before the call. */
  stack: ReadonlySet<AnyEntity> = new Set(),
): CascadeWalk {
  const batch = new Map<AnyEntity, number>();
  for (let position = 0; position < rows.length; position++) batch.set(rows[position] as AnyEntity, position);
  // The rows come first in flush's stack (`em.persist(rows)`), then what the cascade adds.
  const persisted: AnyEntity[] = rows.slice();
  const entered = new Set<AnyEntity>();
  // Per entity, the new entities flush's change-set computation visits before it (to-ones, the new
  // target of an inverse one-to-one, many-to-many items), in the order of its relations. Mostly one
  // (an item's holder): held as is, an array only from the second on.
  const before = new Map<AnyEntity, Followed>();
  const follow = (entity: AnyEntity, target: AnyEntity) => {
    const found = before.get(entity);
    if (found === undefined) before.set(entity, target);
    else if (Array.isArray(found)) found.push(target);
    else before.set(entity, [found, target]);
  };
  const reached = new Map<AnyEntity, number>();
  const byClass = new Map<Meta, ReachedClass>();
  const linkedClasses = new Set<Meta>();
  const classes = new Set<Meta>();
  const dependencies = new Map<Meta, Set<Meta>>();
  let unvisitedTargets = false;

  // A new entity found through `step` of `holder`'s entity: walked unless known already or of the rows' own class.
  const reach = (target: AnyEntity, targetMeta: Meta, holder: Meta, step: Step, index: number, persisting: boolean): void => {
    if (targetMeta.root === rootMeta) {
      // A row reached through a cascade: flush's cascade enters it there.
      const position = batch.get(target);
      if (position !== undefined && persisting && step.cascades && !entered.has(target)) {
        visit(target, targetMeta, indices[position] as number, true);
      }
      return;
    }
    if (reached.has(target)) return;
    reached.set(target, index);
    if (!byClass.has(targetMeta.root)) {
      byClass.set(targetMeta.root, { entities: [], indices: [], entityName: holder.className, property: step.name });
    }
    if (step.prop.kind === ReferenceKind.MANY_TO_MANY) linkedClasses.add(targetMeta.root);
    persisted.push(target);
    visit(target, targetMeta, index, persisting && step.cascades);
  };
  // One value of a to-one of `entity`: a new target is followed and reached.
  const toOne = (entity: AnyEntity, meta: Meta, step: Step, index: number, persisting: boolean, value: unknown): void => {
    if (value == null || typeof value !== 'object') return;
    const target = Reference.unwrapReference(value as object);
    if (!Utils.isEntity(target) || !isNew(target)) return;
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
    follow(entity, target);
    // Reached inside an embeddable, by the change-set computation only: flush's persist does
    // not cascade through embeddables.
    reach(target, targetMeta, meta, step, index, persisting && !step.embedded);
  };
  const visit = (entity: AnyEntity, meta: Meta, index: number, persisting: boolean): void => {
    if (meta.root === rootMeta) entered.add(entity);
    classes.add(meta.root);
    const values = entity as Record<string, unknown>;
    for (const step of stepsOf(meta)) {
      if (step.kind === 'to-one') {
        // An entity's own to-one is read without an array of its one value.
        if (!step.embedded) toOne(entity, meta, step, index, persisting, values[step.name]);
        else for (const value of toOneValues(meta, entity, step.prop)) toOne(entity, meta, step, index, persisting, value);
        continue;
      }
      const value = values[step.name];
      if (value == null) continue;
      if (!persisting) continue;
      if (step.kind === 'linked') {
        for (const target of linkedTargets(entity, step.prop, isNew)) {
          follow(entity, target);
          reach(target, metaOf(target), meta, step, index, true);
        }
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
    if (!entered.has(row)) visit(row, metaOf(row), indices[position] as number, true);
  }
  const earlier: AnyEntity[] = [];
  // Nothing reached (a batch without new related entities): no order to work out, and no pass over
  // the unit of work's persist stack, which holds every entity em.create() made and no call wrote yet.
  if (reached.size > 0) {
    for (const entity of stack) if (batch.has(entity) || reached.has(entity)) earlier.push(entity);
    changeSetOrder([earlier, persisted], before, reached, byClass, metaOf);
  }
  return { persisted, earlier, reached, byClass, linkedClasses, classes, dependencies, unvisitedTargets };
}

/** What an entity's change set follows: one new entity, or several in order. */
type Followed = AnyEntity | AnyEntity[];

/**
 * Fills each class's group with its new entities in the order flush computes their change sets
 * (and so inserts them, numbers their keys and runs their create hooks): flush goes through its
 * persist stack in order, and computes an entity's change set after those of the new entities
 * `before` lists for it, depth first, each entity once.
 */
function changeSetOrder(
  stacks: readonly (readonly AnyEntity[])[],
  before: ReadonlyMap<AnyEntity, Followed>,
  reached: ReadonlyMap<AnyEntity, number>,
  byClass: ReadonlyMap<Meta, ReachedClass>,
  metaOf: (entity: AnyEntity) => Meta,
): void {
  const done = new Set<AnyEntity>();
  let lastClass: unknown;
  let lastGroup: ReachedClass | undefined;
  const place = (entity: AnyEntity): void => {
    if (done.has(entity)) return;
    done.add(entity);
    const targets = before.get(entity);
    if (Array.isArray(targets)) for (const target of targets) place(target);
    else if (targets !== undefined) place(targets);
    const index = reached.get(entity);
    if (index === undefined) return;
    // Consecutive entities are mostly of one class: look its group up once per run.
    const type = entity.constructor;
    if (type !== lastClass) {
      lastClass = type;
      lastGroup = byClass.get(metaOf(entity).root);
    }
    lastGroup?.entities.push(entity);
    lastGroup?.indices.push(index);
  };
  for (const stack of stacks) for (const entity of stack) place(entity);
}
