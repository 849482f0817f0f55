import type { ReplacedWrite } from '@cohort/core/adapter';
import { type EntityManager, type EntityMetadata, type EntityProperty, Reference, ReferenceKind, Utils } from '@mikro-orm/core';
import {
  entityInternals,
  identityMapEntry,
  identityMapStore,
  originalEntityData,
  setOriginalEntityData,
} from './mikro-orm-internals.js';
import { refuseReplacedRemoval } from './mikro-orm-removals.js';
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
  /** Each one's holder: the input row that replaced it and through which relation (where its failure is told). */
  readonly holders: ReadonlyMap<AnyEntity, { readonly index: number; readonly entityName: string; readonly property: string }>;
}

/**
 * Writes replaced targets of one class on the call's transaction (bulk-insert.ts: a call of its own);
 * `batch`: the number of the call's batch whose rows replaced them.
 */
export type ReplacedWriter = (
  meta: EntityMetadata<AnyEntity>,
  replaced: ReplacedTargets,
  batch: number,
) => Promise<ReplacedWrite>;

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
  const candidates = holdersIndex(identityMapStore(em, targetMeta.root), owning).get(keyHash(key)) ?? [];
  // The index narrows; each candidate's snapshot is read again (it may have changed since).
  return candidates.filter((other) => {
    if (other === target) return false;
    const stored = originalEntityData(other)?.[owning];
    return stored != null && Utils.equals(stored, key);
  });
}

/**
 * The managed entities of a class by the key their snapshot holds in `owning`, so that a batch of
 * stored rows with new targets reads the identity map once, not once per row. An index lives for the
 * synchronous run that built it (the finder's and the cascade's loops over a batch) and is dropped at
 * the next microtask: snapshots and the identity map change only across awaits, so it is never stale.
 */
const indexes = new WeakMap<ReadonlyMap<string, object>, Map<string, { size: number; byKey: Map<string, AnyEntity[]> }>>();

function holdersIndex(store: ReadonlyMap<string, object>, owning: string): Map<string, AnyEntity[]> {
  let byOwning = indexes.get(store);
  if (!byOwning) {
    byOwning = new Map();
    indexes.set(store, byOwning);
  }
  const kept = byOwning.get(owning);
  if (kept && kept.size === store.size) return kept.byKey;
  const byKey = new Map<string, AnyEntity[]>();
  for (const other of store.values()) {
    const stored = originalEntityData(other)?.[owning];
    if (stored == null) continue;
    const hash = keyHash(stored);
    const list = byKey.get(hash);
    if (list) list.push(other);
    else byKey.set(hash, [other]);
  }
  const built = { size: store.size, byKey };
  byOwning.set(owning, built);
  const index = byOwning;
  queueMicrotask(() => {
    if (index.get(owning) === built) index.delete(owning);
  });
  return byKey;
}

/** A key's text for the index (a composite key's parts, bigints as text); equal keys hash alike. */
function keyHash(key: unknown): string {
  if (key === null || typeof key !== 'object') return String(key);
  return JSON.stringify(key, (_name, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
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
  rows: { readonly entities: readonly AnyEntity[]; readonly indices: readonly number[] },
  meta: EntityMetadata<AnyEntity>,
  entities: readonly AnyEntity[],
): ReplacedTargets | undefined {
  const inGroup = new Set(entities);
  const update: AnyEntity[] = [];
  const remove: AnyEntity[] = [];
  const holders = new Map<AnyEntity, { index: number; entityName: string; property: string }>();
  for (const [at, row] of rows.entities.entries()) {
    if (originalEntityData(row) === undefined) continue;
    const rowMeta = metaOf(row);
    for (const prop of inverseOnesOf(rowMeta)) {
      if (prop.targetMeta?.root !== meta.root) continue;
      const target = Reference.unwrapReference((row as Record<string, unknown>)[prop.name] as AnyEntity);
      if (target == null || !inGroup.has(target)) continue;
      const olds = previousTargets(em, prop, row, target);
      if (olds.length === 0 || !writesReplaced(prop, olds)) continue;
      for (const old of olds) {
        // Once each, though two rows' snapshots name it (the first row is where it is told).
        if (holders.has(old)) continue;
        const holder = { index: rows.indices[at] ?? at, entityName: rowMeta.className, property: prop.name };
        // A stream's row (an array's was checked before the call: mikro-orm-replaced-removals.ts).
        if (prop.orphanRemoval) refuseReplacedRemoval(holder, [metaOf(target), metaOf(old)]);
        holders.set(old, holder);
        (prop.orphanRemoval ? remove : update).push(old);
      }
    }
  }
  return update.length + remove.length > 0 ? { update, remove, holders } : undefined;
}

/**
 * Puts the replaced targets back as they were if the call's transaction rolls back after they were
 * written: their snapshots, `onUpdate` values and version, and the removed ones into the identity map, scheduled for orphan removal
 * again (as assigning the new target left them).
 */
export function undoReplaced(context: MikroOrmWriteContext, replaced: ReplacedTargets): void {
  const em = context.em;
  for (const old of [...replaced.update, ...replaced.remove]) {
    const data = originalEntityData(old);
    // What the early write's UPDATE sets on the object besides its returned values (which its call
    // puts back itself, in this call's undo log): `onUpdate` values, the version.
    const values = entityInternals<AnyEntity>(old)
      .__meta.hydrateProps.filter((prop) => prop.onUpdate || prop.version)
      .map((prop) => [prop.name, (old as Record<string, unknown>)[prop.name]] as const);
    context.undoOnRollBack(() => {
      setOriginalEntityData(old, data);
      for (const [name, value] of values) (old as Record<string, unknown>)[name] = value;
    });
  }
  for (const old of replaced.remove) {
    const wrapped = entityInternals<AnyEntity>(old);
    const managedBefore = wrapped.__managed;
    context.undoOnRollBack(() => {
      const uow = em.getUnitOfWork();
      if (identityMapEntry(em, old) === undefined) uow.getIdentityMap().store(old);
      // The removal left it unmanaged: managed again, as assigning the new target left it.
      wrapped.__managed = managedBefore;
      uow.scheduleOrphanRemoval(old);
    });
  }
}
