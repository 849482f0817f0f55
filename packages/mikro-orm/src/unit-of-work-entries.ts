import type { EntityData, EntityManager, UnitOfWork } from '@mikro-orm/core';
import { entityInternals, identityMapEntry, registerManaged, setOriginalEntityData } from './mikro-orm-internals.js';
import { prepareEntity } from './prepare-entity.js';
import type { UndoLog } from './undo-log.js';

type AnyEntity = object;

/**
 * A call's changes to the unit of work of its EntityManager, each recorded in the call's undo log
 * so that a rolled-back transaction leaves the unit of work as it found it.
 */
export class UnitOfWorkEntries {
  constructor(
    private readonly em: EntityManager,
    private readonly undo: UndoLog,
  ) {}

  /**
   * Takes the entities off the persist stack (`em.persist()`, `em.create()` put them there) and,
   * when one is not managed, out of the identity map where `persist` stored it by its key — what
   * `em.insertMany()` does to its input.
   */
  unschedule(entities: readonly AnyEntity[]): void {
    const uow = this.em.getUnitOfWork();
    const stack = uow.getPersistStack();
    const map = uow.getIdentityMap();
    for (const entity of entities) {
      if (!stack.delete(entity)) continue;
      // Only `persist` files an unmanaged entity in the identity map, and it schedules it too.
      const wrapped = entityInternals(entity);
      const mapped = !wrapped.__managed && wrapped.hasPrimaryKey() && identityMapEntry(this.em, entity) === entity;
      if (mapped) map.delete(entity);
      this.undo.push(() => {
        stack.add(entity);
        if (mapped) map.store(entity);
      });
    }
  }

  /** Registers the entity in the unit of work with flush's snapshot of it (`data`, or taken now). */
  register(entity: AnyEntity, data?: EntityData<AnyEntity>): void {
    const uow = this.em.getUnitOfWork();
    registerManaged(this.em, entity, data ?? prepareEntity(this.em, entity), { refresh: true });
    this.undo.push(this.unregisterFrom(uow), entity);
  }

  // The undo step of a registration, one per unit of work (not a closure per entity).
  private unregister?: { readonly uow: UnitOfWork; readonly step: (entity: AnyEntity) => void };

  private unregisterFrom(uow: UnitOfWork): (entity: AnyEntity) => void {
    if (this.unregister?.uow !== uow) {
      const step = (entity: AnyEntity) => {
        uow.unsetIdentity(entity);
        const wrapped = entityInternals(entity);
        wrapped.__managed = false;
        setOriginalEntityData(entity, undefined);
        wrapped.__em = undefined;
      };
      this.unregister = { uow, step };
    }
    return this.unregister.step;
  }
}
