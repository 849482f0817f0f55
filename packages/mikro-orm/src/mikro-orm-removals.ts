import { UnsupportedFeatureError } from '@cohort/core';
import { located } from '@cohort/core/adapter';
import { Cascade, type EntityManager, type EntityMetadata } from '@mikro-orm/core';
import { entityInternals, identityMapEntry } from './mikro-orm-internals.js';

/**
 * Leaves removed entities as `em.remove()` + `em.flush()` leaves them: out of the identity map and
 * off the unit of work's stacks (`unitOfWork.unsetIdentity`, what flush calls after its DELETE), so
 * a later flush sends nothing for them. If the transaction that removed them rolls back, the ones
 * that were managed go back into the identity map (references to them that flush would have
 * cleared in other managed entities stay cleared).
 */
export class MikroOrmRemovals {
  private readonly managed: object[] = [];

  constructor(private readonly em: EntityManager) {}

  /** As flush after its DELETE of the entity's row. */
  removed(entity: object): void {
    const uow = this.em.getUnitOfWork();
    if (identityMapEntry(this.em, entity) === entity) this.managed.push(entity);
    uow.unsetIdentity(entity);
  }

  /** Puts the managed entities removed so far back into the identity map. */
  restore(): void {
    const map = this.em.getUnitOfWork().getIdentityMap();
    for (let entity = this.managed.pop(); entity; entity = this.managed.pop()) {
      if (entityInternals(entity).hasPrimaryKey()) map.store(entity);
    }
  }
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
