import { type EntityMetadata, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import { follow, type Step, stepsOf, toOneValues } from './mikro-orm-cascade-steps.js';
import { collectionState } from './mikro-orm-internals.js';
import { linkedTargets } from './mikro-orm-linked-cascades.js';
import { linksStored, storedLeadingOn, throughStoredOrder } from './mikro-orm-stored-order.js';

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

/** An entity for the walk to enter: the entity, its class, the input row it was reached from, whether flush's persist reaches it. */
type Visit = [entity: AnyEntity, meta: Meta, index: number, persisting: boolean];

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
  /**
   * MikroORM 7: the given stored entities that are in the identity map, in its order (flush cascades
   * from those first); undefined on 6, whose flush cascades from its persist stack first.
   */
  identityOrder?: (stored: readonly AnyEntity[]) => AnyEntity[],
): CascadeWalk {
  const batch = new Map<AnyEntity, number>();
  for (let position = 0; position < rows.length; position++) batch.set(rows[position] as AnyEntity, position);
  // The rows come first in flush's stack (`em.persist(rows)`), then what the cascade adds.
  const persisted: AnyEntity[] = rows.slice();
  const entered = new Set<AnyEntity>();
  // Per entity, the new entities flush's change-set computation visits before it (to-ones, the new
  // target of an inverse one-to-one, many-to-many items), in the order of its relations.
  const before = new Map<AnyEntity, AnyEntity[]>();
  const reached = new Map<AnyEntity, number>();
  const byClass = new Map<Meta, ReachedClass>();
  const linkedClasses = new Set<Meta>();
  const classes = new Set<Meta>();
  const dependencies = new Map<Meta, Set<Meta>>();
  let unvisitedTargets = false;
  // Some entity the walk visited cascades persist to a stored entity through which flush's cascade
  // can change the order (storedLeadingOn): flush's cascade goes through it.
  let throughStored = false;

  // A new entity found through `step` of `holder`'s entity: walked (yielded to the driver) unless
  // known already or of the rows' own class.
  const reach = (
    target: AnyEntity,
    targetMeta: Meta,
    holder: Meta,
    step: Step,
    index: number,
    persisting: boolean,
  ): Visit | undefined => {
    if (targetMeta.root === rootMeta) {
      // A row reached through a cascade: flush's cascade enters it there.
      const position = batch.get(target);
      if (position !== undefined && persisting && step.cascades && !entered.has(target)) {
        return [target, targetMeta, indices[position] as number, true];
      }
      return undefined;
    }
    if (reached.has(target)) return undefined;
    reached.set(target, index);
    if (!byClass.has(targetMeta.root)) {
      byClass.set(targetMeta.root, { entities: [], indices: [], entityName: holder.className, property: step.name });
    }
    if (step.prop.kind === ReferenceKind.MANY_TO_MANY) linkedClasses.add(targetMeta.root);
    persisted.push(target);
    return [target, targetMeta, index, persisting && step.cascades];
  };
  // Yields each entity to walk next, depth first: the driver below enters it before this one goes on.
  const visit = function* (entity: AnyEntity, meta: Meta, index: number, persisting: boolean): Generator<Visit, void, void> {
    if (meta.root === rootMeta) entered.add(entity);
    classes.add(meta.root);
    const values = entity as Record<string, unknown>;
    for (const step of stepsOf(meta)) {
      if (step.kind === 'to-one') {
        for (const value of toOneValues(meta, entity, step.prop)) {
          if (value == null || typeof value !== 'object') continue;
          const target = Reference.unwrapReference(value as object);
          if (!Utils.isEntity(target)) continue;
          if (!isNew(target)) {
            if (persisting && step.cascades && !step.embedded && storedLeadingOn(target, metaOf(target))) throughStored = true;
            continue;
          }
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
          follow(before, entity, target);
          // Reached inside an embeddable, by the change-set computation only: flush's persist does
          // not cascade through embeddables.
          const next = reach(target, targetMeta, meta, step, index, persisting && !step.embedded);
          if (next) yield next;
        }
        continue;
      }
      const value = values[step.name];
      if (value == null) continue;
      if (!persisting) continue;
      if (step.kind === 'linked') {
        if (!throughStored && linksStored(entity, step.prop, batch, metaOf)) throughStored = true;
        for (const target of linkedTargets(entity, step.prop, isNew)) {
          follow(before, entity, target);
          const next = reach(target, metaOf(target), meta, step, index, true);
          if (next) yield next;
        }
        continue;
      }
      if (!Utils.isCollection(value)) continue;
      const collection = collectionState(value);
      if (!collection.isInitialized()) continue;
      // Only new items whose own reference is the holder: their insert writes the link. A stored
      // item is one flush's cascade goes through.
      for (const item of collection.getItems(false)) {
        if (!Utils.isEntity(item)) continue;
        if (!isNew(item as AnyEntity)) {
          if (!batch.has(item as AnyEntity) && storedLeadingOn(item as AnyEntity, metaOf(item as AnyEntity)))
            throughStored = true;
        } else if (Reference.unwrapReference((item as Record<string, unknown>)[step.mappedBy] as object) === entity) {
          const next = reach(item as AnyEntity, metaOf(item as AnyEntity), meta, step, index, true);
          if (next) yield next;
        }
      }
    }
  };
  for (let position = 0; position < rows.length; position++) {
    const row = rows[position] as AnyEntity;
    if (entered.has(row)) continue;
    // An explicit stack, not recursion: a chain of thousands of new entities (each the parent of the
    // last) would overflow the call stack.
    const walking = [visit(row, metaOf(row), indices[position] as number, true)];
    while (walking.length > 0) {
      const next = (walking[walking.length - 1] as Generator<Visit, void, void>).next();
      if (next.done) walking.pop();
      else walking.push(visit(...next.value));
    }
  }
  const earlier: AnyEntity[] = [];
  // Nothing reached (a batch without new related entities): no order to work out, and no pass over
  // the unit of work's persist stack, which holds every entity em.create() made and no call wrote yet.
  if (reached.size === 0) {
    return { persisted, earlier, reached, byClass, linkedClasses, classes, dependencies, unvisitedTargets };
  }
  for (const entity of stack) if (batch.has(entity) || reached.has(entity)) earlier.push(entity);
  if (!throughStored) {
    changeSetOrder([earlier, persisted], before, reached, byClass, metaOf);
    return { persisted, earlier, reached, byClass, linkedClasses, classes, dependencies, unvisitedTargets };
  }
  const cascaded = throughStoredOrder(rows, batch, reached, stack, metaOf, isNew, before, identityOrder);
  changeSetOrder([earlier, cascaded], before, reached, byClass, metaOf);
  // What only a to-one reached (no cascade) is not on flush's persist stack: kept after the rest.
  const ordered = cascaded.filter((entity) => batch.has(entity) || reached.has(entity));
  const listed = new Set(ordered);
  for (const entity of persisted) if (!listed.has(entity)) ordered.push(entity);
  return { persisted: ordered, earlier, reached, byClass, linkedClasses, classes, dependencies, unvisitedTargets };
}

/**
 * Fills each class's group with its new entities in the order flush computes their change sets
 * (and so inserts them, numbers their keys and runs their create hooks): flush goes through its
 * persist stack in order, and computes an entity's change set after those of the new entities
 * `before` lists for it, depth first, each entity once.
 */
function changeSetOrder(
  stacks: readonly (readonly AnyEntity[])[],
  before: ReadonlyMap<AnyEntity, readonly AnyEntity[]>,
  reached: ReadonlyMap<AnyEntity, number>,
  byClass: ReadonlyMap<Meta, ReachedClass>,
  metaOf: (entity: AnyEntity) => Meta,
): void {
  const done = new Set<AnyEntity>();
  let lastClass: unknown;
  let lastGroup: ReachedClass | undefined;
  const placed = (entity: AnyEntity): void => {
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
  // Each entity after those it lists, depth first, with an explicit stack (a chain of thousands of
  // new entities would overflow the call stack): per entity on it, how many of its list are placed.
  const entities: AnyEntity[] = [];
  const progress: number[] = [];
  const place = (entity: AnyEntity): void => {
    if (done.has(entity)) return;
    done.add(entity);
    entities.push(entity);
    progress.push(0);
    while (entities.length > 0) {
      const top = entities.length - 1;
      const current = entities[top] as AnyEntity;
      const targets = before.get(current);
      const at = progress[top] as number;
      if (targets && at < targets.length) {
        progress[top] = at + 1;
        const target = targets[at] as AnyEntity;
        if (done.has(target)) continue;
        done.add(target);
        entities.push(target);
        progress.push(0);
        continue;
      }
      entities.pop();
      progress.pop();
      placed(current);
    }
  };
  for (const stack of stacks) for (const entity of stack) place(entity);
}
