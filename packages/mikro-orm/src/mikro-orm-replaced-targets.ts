import type { ReplacedWrite } from '@cohort/core/adapter';
import { type EntityManager, type EntityMetadata, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import {
  entityInternals,
  identityMapEntry,
  identityMapStore,
  originalEntityData,
  setOriginalEntityData,
} from './mikro-orm-internals.js';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';
import { perClass } from './per-class.js';

type AnyEntity = object;

/**
 * The stored entities a batch's new inverse one-to-one targets replace, and how flush writes them
 * before inserting the new ones (measured: test/src/mikro-orm/replaced-inverse-one-to-one.test.ts):
 * with orphanRemoval it deletes them (`remove`), else it clears their reference (`update`: their
 * foreign key set to NULL, with their update events).
 */
export interface ReplacedTargets {
  readonly update: readonly AnyEntity[];
  readonly remove: readonly AnyEntity[];
}

/** Writes replaced targets of one class on the call's transaction (bulk-insert.ts: a call of its own). */
export type ReplacedWriter = (meta: EntityMetadata<AnyEntity>, replaced: ReplacedTargets) => Promise<ReplacedWrite>;

const inverseOnesOf = perClass((meta) =>
  meta.relations.filter((prop) => prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner && prop.mappedBy),
);

/**
 * The managed entities other than `target` whose snapshot holds `entity` in the owning side of
 * `prop` (loaded or last flushed so): the row's previous targets, whose reference assigning
 * `target` cleared on the object (MikroORM's propagation).
 */
export function previousTargets(
  em: EntityManager,
  prop: EntityProperty<AnyEntity>,
  entity: AnyEntity,
  target: AnyEntity,
): AnyEntity[] {
  const owning = prop.mappedBy;
  const targetMeta = prop.targetMeta;
  if (!owning || !targetMeta) return [];
  const key = entityInternals(entity).getPrimaryKey();
  const found: AnyEntity[] = [];
  for (const other of identityMapStore(em, targetMeta.root).values()) {
    if (other === target) continue;
    const stored = originalEntityData(other)?.[owning];
    if (stored != null && Utils.equals(stored, key)) found.push(other);
  }
  return found;
}

/**
 * Whether the call writes the previous targets as flush does: each one's reference is cleared on
 * the object (it no longer points at the row), and flush's early step succeeds — orphanRemoval
 * (a DELETE), or a nullable foreign key (flush's UPDATE fails on a NOT NULL one: refused).
 */
export function writesReplaced(prop: EntityProperty<AnyEntity>, olds: readonly AnyEntity[]): boolean {
  const owning = prop.mappedBy;
  const owner = owning ? prop.targetMeta?.properties[owning] : undefined;
  if (!owning || !owner || (!prop.orphanRemoval && owner.nullable !== true)) return false;
  return olds.every((old) => (old as Record<string, unknown>)[owning] == null);
}

/** The previous targets of `entities` (a cascade group of `meta`'s class) that the batch's stored rows replace. */
export function replacedTargets(
  em: EntityManager,
  metaOf: (entity: AnyEntity) => EntityMetadata<AnyEntity>,
  rows: readonly AnyEntity[],
  meta: EntityMetadata<AnyEntity>,
  entities: readonly AnyEntity[],
): ReplacedTargets | undefined {
  const inGroup = new Set(entities);
  const update: AnyEntity[] = [];
  const remove: AnyEntity[] = [];
  for (const row of rows) {
    if (originalEntityData(row) === undefined) continue;
    for (const prop of inverseOnesOf(metaOf(row))) {
      if (prop.targetMeta?.root !== meta.root) continue;
      const target = Reference.unwrapReference((row as Record<string, unknown>)[prop.name] as AnyEntity);
      if (target == null || !inGroup.has(target)) continue;
      const olds = previousTargets(em, prop, row, target);
      if (olds.length === 0 || !writesReplaced(prop, olds)) continue;
      (prop.orphanRemoval ? remove : update).push(...olds);
    }
  }
  return update.length + remove.length > 0 ? { update, remove } : undefined;
}

/**
 * Puts the replaced targets back as they were if the call's transaction rolls back after they were
 * written: their snapshots, and the removed ones into the identity map, scheduled for orphan removal
 * again (as assigning the new target left them).
 */
export function undoReplaced(context: MikroOrmWriteContext, replaced: ReplacedTargets): void {
  const em = context.em;
  for (const old of [...replaced.update, ...replaced.remove]) {
    const data = originalEntityData(old);
    context.undoOnRollBack(() => setOriginalEntityData(old, data));
  }
  for (const old of replaced.remove) {
    context.undoOnRollBack(() => {
      const uow = em.getUnitOfWork();
      if (identityMapEntry(em, old) === undefined) uow.getIdentityMap().store(old);
      uow.scheduleOrphanRemoval(old);
    });
  }
}
