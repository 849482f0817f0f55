import { type EntityMetadata, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import { follow, stepsOf, toOneValues } from './mikro-orm-cascade-steps.js';
import { collectionState, originalEntityData } from './mikro-orm-internals.js';
import { linkedTargets } from './mikro-orm-linked-cascades.js';

type AnyEntity = object;
type Meta = EntityMetadata<AnyEntity>;

/** A loaded entity: one with the unit of work's snapshot. */
export function storedEntity(entity: AnyEntity): boolean {
  return originalEntityData(entity) !== undefined;
}

/**
 * The entities flush's persist cascade goes to through a many-to-many (a loaded collection's items,
 * in its order) or an inverse one-to-one (its target) of `entity`.
 */
export function linkedEntities(entity: AnyEntity, prop: EntityProperty<AnyEntity>): AnyEntity[] {
  const value = (entity as Record<string, unknown>)[prop.name];
  if (value == null || typeof value !== 'object') return [];
  if (prop.kind === ReferenceKind.MANY_TO_MANY) {
    if (!Utils.isCollection(value)) return [];
    const collection = collectionState(value);
    if (!collection.isInitialized()) return [];
    return collection.getItems(false).filter((item): item is AnyEntity => Utils.isEntity(item));
  }
  const target = Reference.unwrapReference(value as object);
  return Utils.isEntity(target) ? [target] : [];
}

/**
 * A stored entity through which flush's cascade can change the order: one whose class has relations
 * the walk follows. One of a class without any (a tag with no relations of its own) enters nothing
 * and comes before no new entity's change set: the walk of the rows alone gives flush's order.
 */
export function storedLeadingOn(entity: AnyEntity, meta: Meta): boolean {
  return storedEntity(entity) && stepsOf(meta).length > 0;
}

/** Whether flush's cascade goes through `entity`'s many-to-many or inverse one-to-one into a stored entity not of `batch` that can change the order. */
export function linksStored(
  entity: AnyEntity,
  prop: EntityProperty<AnyEntity>,
  batch: ReadonlyMap<AnyEntity, number>,
  metaOf: (entity: AnyEntity) => Meta,
): boolean {
  const leads = (target: unknown): boolean =>
    Utils.isEntity(target) &&
    !batch.has(target as AnyEntity) &&
    storedLeadingOn(target as AnyEntity, metaOf(target as AnyEntity));
  const value = (entity as Record<string, unknown>)[prop.name];
  if (value == null || typeof value !== 'object') return false;
  if (prop.kind !== ReferenceKind.MANY_TO_MANY) return leads(Reference.unwrapReference(value as object));
  if (!Utils.isCollection(value)) return false;
  const collection = collectionState(value);
  if (!collection.isInitialized()) return false;
  for (const item of collection.getItems(false)) if (leads(item)) return true;
  return false;
}

/**
 * Flush's persist stack when the rows reach a stored entity through relations that cascade persist
 * (UnitOfWork.computeChangeSets: `cascade(…, Cascade.PERSIST)` from each entity, visiting managed
 * ones too): the rows (`em.persist(rows)`), then what the cascade adds, depth first through every
 * relation that cascades persist in the order of the class's relations (to-ones, one-to-many and
 * many-to-many items, an inverse one-to-one's target), stored entities included — their loaded
 * collections can enter a row before the walk of the rows reaches it. MikroORM 6 cascades from the persist stack (what was on it before
 * the call, then the rows) first; MikroORM 7 from the identity map's entities first, in its order
 * (`identityOrder`), then the persist stack. Only rows,
 * reached entities and stored entities are entered: a new entity the rows do not reach is not one
 * cohort writes. Stored entities stay on the list, as on flush's stack (their new to-ones' change
 * sets come at them), and each one's new to-one, many-to-many and inverse one-to-one targets are
 * noted in `before`.
 */
export function throughStoredOrder(
  rows: readonly AnyEntity[],
  batch: ReadonlyMap<AnyEntity, number>,
  reached: ReadonlyMap<AnyEntity, number>,
  stack: ReadonlySet<AnyEntity>,
  metaOf: (entity: AnyEntity) => Meta,
  isNew: (entity: AnyEntity) => boolean,
  before: Map<AnyEntity, AnyEntity[]>,
  identityOrder: ((stored: readonly AnyEntity[]) => AnyEntity[]) | undefined,
): AnyEntity[] {
  const walked = (entity: AnyEntity): boolean =>
    batch.has(entity) || reached.has(entity) || (!isNew(entity) && storedEntity(entity));
  // The entities `entity`'s cascade goes to, in order; `own`: a stored entity (not a row, not reached),
  // `last`: the run whose order counts notes its new to-ones.
  function* cascadesOf(entity: AnyEntity, own: boolean, last: boolean): Generator<AnyEntity, void, void> {
    const meta = metaOf(entity);
    for (const step of stepsOf(meta)) {
      if (step.kind === 'linked') {
        // Many-to-many items and an inverse one-to-one's target: flush's cascade follows them too.
        // A stored entity's new ones: flush's change-set computation goes to them at it.
        if (own && last) for (const target of linkedTargets(entity, step.prop, isNew)) follow(before, entity, target);
        for (const target of linkedEntities(entity, step.prop)) if (walked(target)) yield target;
        continue;
      }
      if (step.kind === 'to-one') {
        for (const value of toOneValues(meta, entity, step.prop)) {
          if (value == null || typeof value !== 'object') continue;
          const target = Reference.unwrapReference(value as object);
          if (!Utils.isEntity(target)) continue;
          // A stored entity's new to-one: flush computes its change set at the stored one.
          if (own && last && isNew(target)) follow(before, entity, target);
          if (step.cascades && !step.embedded && walked(target)) yield target;
        }
        continue;
      }
      const value = (entity as Record<string, unknown>)[step.name];
      if (!Utils.isCollection(value)) continue;
      const collection = collectionState(value);
      if (!collection.isInitialized()) continue;
      for (const item of collection.getItems(false)) {
        if (Utils.isEntity(item) && walked(item as AnyEntity)) yield item as AnyEntity;
      }
    }
  }
  // `stored` collects the stored entities entered.
  const run = (roots: readonly AnyEntity[], stored: AnyEntity[] | undefined, last: boolean): AnyEntity[] => {
    const order = rows.slice();
    const seen = new Set<AnyEntity>();
    const enter = (entity: AnyEntity): Generator<AnyEntity, void, void> | undefined => {
      if (seen.has(entity)) return undefined;
      seen.add(entity);
      if (!batch.has(entity)) order.push(entity);
      const own = !batch.has(entity) && !reached.has(entity);
      if (own) stored?.push(entity);
      return cascadesOf(entity, own, last);
    };
    // Depth first with an explicit stack, not recursion: a chain of thousands of entities would
    // overflow the call stack.
    const cascade = (root: AnyEntity): void => {
      const first = enter(root);
      if (!first) return;
      const walking = [first];
      while (walking.length > 0) {
        const next = (walking[walking.length - 1] as Generator<AnyEntity, void, void>).next();
        if (next.done) {
          walking.pop();
          continue;
        }
        const inner = enter(next.value);
        if (inner) walking.push(inner);
      }
    };
    for (const root of roots) cascade(root);
    for (const row of rows) cascade(row);
    return order;
  };
  // What was on flush's persist stack before the call (em.create, em.persist) is cascaded from
  // before the rows: the rows, the entities they reach and stored entities of it, in its order.
  const stacked: AnyEntity[] = [];
  for (const entity of stack) if (walked(entity)) stacked.push(entity);
  if (!identityOrder) return run(stacked, undefined, true);
  // MikroORM 7: the stored entities the rows (or the stack) reach are cascaded from first, in the
  // identity map's order — those not on the persist stack (UnitOfWork.computeChangeSets skips them
  // there) — then the persist stack.
  const stored: AnyEntity[] = [];
  run(stacked, stored, false);
  const first = identityOrder(stored.filter((entity) => !stack.has(entity)));
  return run([...first, ...stacked], undefined, true);
}
