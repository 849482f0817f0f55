import type { EntityData, EntityManager, UnitOfWork } from '@mikro-orm/core';
import {
  type EntityInternals,
  entityInternals,
  identityMapEntry,
  originalEntityData,
  registerManaged,
  setOriginalEntityData,
} from './mikro-orm-internals.js';
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

  /**
   * Registers the entity in the unit of work with flush's snapshot of it (`data`, or taken now). An
   * entity managed already (a loaded one an upsert found) gets its snapshot back on rollback and
   * stays managed, as before the call: taken out of the unit of work, a flush would insert it again,
   * and its pending changes would be lost.
   */
  register(entity: AnyEntity, data?: EntityData<AnyEntity>): void {
    const uow = this.em.getUnitOfWork();
    const managedBefore = entityInternals(entity).__managed === true && identityMapEntry(this.em, entity) === entity;
    const snapshot = managedBefore ? originalEntityData(entity) : undefined;
    registerManaged(this.em, entity, data ?? prepareEntity(this.em, entity), { refresh: true });
    if (managedBefore) this.undo.push(() => setOriginalEntityData(entity, snapshot));
    else this.undo.push(this.unregisterFrom(uow), entity);
  }

  // The undo step of a registration, one per unit of work (not a closure per entity).
  private unregister?: { readonly uow: UnitOfWork; readonly step: (entity: AnyEntity) => void };

  private unregisterFrom(uow: UnitOfWork): (entity: AnyEntity) => void {
    if (this.unregister?.uow !== uow) {
      // Not `uow.unsetIdentity()`: that also deletes the entity from every managed entity that refers
      // to it (`holder.card`, `book.author` deleted, the item removed from `author.books`) and, on 7,
      // takes it off the persist stack — what flush needs after a DELETE, where the entity is gone.
      // Here its row is gone but the entity and the references to it are as before the call, so
      // that the call retried, or a flush, writes it again.
      const step = (entity: AnyEntity) => {
        uow.getIdentityMap().delete(entity);
        const wrapped = entityInternals(entity) as EntityInternals<AnyEntity> & { __identifier?: unknown; __touched?: boolean };
        delete wrapped.__identifier;
        if (wrapped.__touched !== undefined) wrapped.__touched = false;
        wrapped.__managed = false;
        setOriginalEntityData(entity, undefined);
        wrapped.__em = undefined;
      };
      this.unregister = { uow, step };
    }
    return this.unregister.step;
  }
}
