import type { CascadeGroup, CascadeWrite, EntityAccess, InputBatch, LifecycleHooks } from '@cohort/core/adapter';
import { InsertedEntities, NO_HOOKS } from '@cohort/core/adapter';
import {
  CommitOrderCalculator,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  type MetadataStorage,
  Reference,
  ReferenceKind,
  Utils,
} from '@mikro-orm/core';
import { cascadedCollection, toOneValues, walkedToOne } from './mikro-orm-cascade-steps.js';
import { type CascadeWalk, walkCascades } from './mikro-orm-cascade-walk.js';
import {
  collectionState,
  entityInternals,
  identityMapStore,
  mikroOrmMajor,
  originalEntityData,
  prototypeMeta,
} from './mikro-orm-internals.js';
import { MikroOrmLifecycle } from './mikro-orm-lifecycle.js';
import { cascadedLinksOrInverse } from './mikro-orm-linked-cascades.js';
import { takeSnapshot } from './mikro-orm-links.js';
import type { MikroOrmEntity } from './mikro-orm-model-reader.js';
import { type ReplacedWriter, replacedTargets, undoReplaced } from './mikro-orm-replaced-targets.js';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';
import { perClass } from './per-class.js';
import { wasWritten } from './written-entities.js';

type AnyEntity = object;

const KEYED_BY_ID = Number(Utils.getORMVersion().split('.')[0]) >= 7;

/** How the call writes entities of another class: its model, access and write context, made once per class. */
export interface RelatedWriter {
  readonly entity: MikroOrmEntity;
  readonly access: EntityAccess<AnyEntity>;
  readonly context: MikroOrmWriteContext;
}

/**
 * The new related entities a flush of a batch's rows would insert with them (EntityAccess.cascades),
 * found as flush finds them: `em.persist()` cascades through every relation with `Cascade.PERSIST`
 * (MikroORM's default) — a many-to-one or owning one-to-one to an entity without a key, a one-to-many
 * collection's new items, a many-to-many collection's new items (whose classes go in before the rows,
 * so that the links written after the rows' statement read their keys), the new target of an inverse
 * one-to-one — and the change-set computation follows every to-one to a new entity,
 * whatever its cascade. The classes are ordered with flush's own CommitOrderCalculator (from the
 * order flush computes their change sets in), and split around the rows' class: the groups before
 * it are inserted before the batch's statement, the ones after it after. What this does not write
 * is left to the relation finder, which refuses it: an array given for a collection, a one-to-many
 * item or inverse one-to-one target that does not refer to its holder, new
 * entities of the rows' own class (a tree in the batch), and graphs whose classes the commit order
 * cannot put in dependency order.
 */
export class MikroOrmCascades {
  /** The entities the call inserts: its rows and the related entities found with them. */
  readonly graph: InsertedEntities;

  constructor(
    private readonly metadata: MetadataStorage,
    private readonly meta: EntityMetadata<AnyEntity>,
    private readonly hooks: boolean,
    private readonly writerOf: (meta: EntityMetadata<AnyEntity>) => RelatedWriter,
    input?: unknown,
    /** Writes the stored targets a stored row's new inverse one-to-one targets replace (flush's early step). */
    private readonly replacedWriter?: ReplacedWriter,
    /** The call registers what it writes in the identity map, which holds it anyway: a plain set. */
    managed = false,
  ) {
    this.graph = new InsertedEntities(input, managed);
  }

  /**
   * Whether the entity is a stored row of the call (bulkSave): loaded, of the rows' class. Its links
   * are written with the rows' after their related entities go in (mikro-orm-links.ts).
   */
  readonly storedRow = (entity: AnyEntity): boolean =>
    this.graph.has(entity) && originalEntityData(entity) !== undefined && this.metaOf(entity).root === this.meta.root;

  /**
   * Whether the entity is one the call is to insert and has not yet: new as flush decides (no
   * snapshot, whatever its key: set by hand, or kept from a failed call), its row not written by an
   * earlier batch or class of the call. A link to it is left to its own write (mikro-orm-links.ts).
   */
  readonly unwritten = (entity: AnyEntity): boolean =>
    this.graph.has(entity) && originalEntityData(entity) === undefined && !wasWritten(entity);

  /** Whether the class has a relation through which flush could insert a new entity. */
  static needed(meta: EntityMetadata<AnyEntity>): boolean {
    return meta.root.props.some((prop) => walkedToOne(prop) || cascadedCollection(prop) || cascadedLinksOrInverse(prop));
  }

  private readonly metaOf = (entity: AnyEntity) => metaIn(this.metadata, entity);

  find(batch: InputBatch<AnyEntity>): CascadeWrite | undefined {
    const metaOf = this.metaOf;
    const rootMeta = this.meta.root;
    // Flush inserts what it reaches without a snapshot (ChangeSetComputer: no `__originalEntityData`
    // is a CREATE), a key set when it was made (`id = randomUUID()`) or by hand included; what a
    // cohort call wrote (unmanaged with `managed: false`: no snapshot) has its row and is linked, where
    // flush would insert it again. Keyed entities of the rows' own class are left as before (a tree
    // is the relation finder's).
    const graph = this.graph;
    const isNew = (entity: AnyEntity) =>
      !entityInternals(entity).hasPrimaryKey() ||
      (originalEntityData(entity) === undefined && !graph.has(entity) && !wasWritten(entity) && metaOf(entity).root !== rootMeta);
    // Flush computes change sets in its persist stack's order, where what was persisted before the
    // call comes first (a new item added to a managed entity's collection is persisted then).
    const em = this.writerOf(this.meta).context.em;
    const stack = em.getUnitOfWork().getPersistStack();
    // MikroORM 7's flush cascades from the identity map's entities before its persist stack.
    const identityOrder = mikroOrmMajor >= 7 ? (stored: readonly AnyEntity[]) => inIdentityMap(em, stored, metaOf) : undefined;
    const walk = walkCascades(batch.entities, batch.indices, rootMeta, metaOf, isNew, stack, identityOrder);
    const { reached, byClass } = walk;
    if (reached.size === 0) return undefined;
    const commit = commitOrder(rootMeta, walk, walk.earlier, metaOf, isNew);
    if (!commit) return undefined;
    // Flush inserts many-to-many items in commit order (after the rows, when they do not depend on
    // each other) and the pivot rows last; cohort writes the rows' links right after their statement,
    // so their items' classes move before the rows (refused below if that breaks a dependency).
    const rootAt = commit.indexOf(rootMeta);
    const early = (meta: EntityMetadata<AnyEntity>, at: number) => at < rootAt || walk.linkedClasses.has(meta);
    const order = [
      ...commit.filter((meta, at) => meta !== rootMeta && early(meta, at)),
      rootMeta,
      ...commit.filter((meta, at) => meta !== rootMeta && !early(meta, at)),
    ];
    if (!dependenciesHold(order, walk.dependencies)) return undefined;
    const rows = new Set(batch.entities);
    for (const entity of rows) this.graph.add(entity);
    for (const entity of reached.keys()) this.graph.add(entity);
    const groups: CascadeGroup[] = [];
    const rowsAt = order.indexOf(rootMeta);
    for (const [position, meta] of order.entries()) {
      if (meta === rootMeta) continue;
      const found = byClass.get(meta);
      if (!found) continue;
      const writer = this.writerOf(meta);
      const hooks: LifecycleHooks<AnyEntity> = this.hooks ? new MikroOrmLifecycle(writer.context, meta) : NO_HOOKS;
      const replaced = this.replacedWriter && replacedTargets(writer.context.em, metaOf, batch, meta, found.entities);
      const writeReplaced = this.replacedWriter;
      groups.push({
        side: position < rowsAt ? 'before' : 'after',
        entityName: found.entityName,
        property: found.property,
        model: writer.entity.model,
        access: writer.access as EntityAccess<unknown>,
        hooks: hooks as LifecycleHooks<unknown>,
        entities: found.entities,
        indices: found.indices,
        batchStarted: (group) => writer.context.adopt(group as InputBatch<AnyEntity>),
        batchDone: (group) => writer.context.release(group.entities as AnyEntity[]),
        // Flush's early step: the replaced targets cleared (or deleted) before the new ones go in.
        writeReplaced:
          replaced && writeReplaced
            ? async (group) => {
                undoReplaced(writer.context, replaced);
                return writeReplaced(meta, replaced, group.number);
              }
            : undefined,
      });
    }
    const context = this.writerOf(this.meta).context;
    return {
      groups,
      // Flush snapshots the collections of every entity it wrote: a next flush finds them clean.
      written: () => {
        if (!context.managed) return;
        const snapshot = (entity: AnyEntity) => {
          for (const prop of oneToManyOf(metaOf(entity))) {
            const value = (entity as Record<string, unknown>)[prop.name];
            if (Utils.isCollection(value) && collectionState(value).isInitialized()) {
              context.undoOnRollBack(takeSnapshot(collectionState(value)));
            }
          }
        };
        for (const entity of rows) snapshot(entity);
        for (const entity of reached.keys()) snapshot(entity);
      },
    };
  }
}

/**
 * An entity's metadata in the call's EntityManager (the prototype's may be another MikroORM
 * instance's, when several map the same classes): found by the class name.
 */
export function metaIn(metadata: MetadataStorage, entity: AnyEntity): EntityMetadata<AnyEntity> {
  const found = metadata.find((entity as { constructor: new () => AnyEntity }).constructor);
  return found ?? prototypeMeta(entity) ?? entityInternals(entity).__meta;
}

/** A class's one-to-many collections (worked out once per class). */
const oneToManyOf = perClass((meta) => meta.relations.filter((prop) => prop.kind === ReferenceKind.ONE_TO_MANY));

/**
 * The classes in flush's commit order: the nodes in the order flush computes change sets (its persist
 * stack, each entity after the new entities its to-one references reach), sorted by MikroORM's
 * CommitOrderCalculator (the metadata's to-one owners).
 */
function commitOrder(
  rootMeta: EntityMetadata<AnyEntity>,
  walk: CascadeWalk,
  earlier: readonly AnyEntity[],
  metaOf: (entity: AnyEntity) => EntityMetadata<AnyEntity>,
  isNew: (entity: AnyEntity) => boolean,
): EntityMetadata<AnyEntity>[] | undefined {
  const classes: EntityMetadata<AnyEntity>[] = [];
  const seen = new Set<AnyEntity>();
  // An entity's class and the new entities its to-ones refer to, in the order of its relations.
  const frameOf = (entity: AnyEntity) => {
    const meta = metaOf(entity);
    const targets: AnyEntity[] = [];
    for (const prop of meta.relations) {
      if (!walkedToOne(prop)) continue;
      for (const value of toOneValues(meta, entity, prop)) {
        if (value == null || typeof value !== 'object') continue;
        const target = Reference.unwrapReference(value as object);
        if (Utils.isEntity(target) && isNew(target)) targets.push(target);
      }
    }
    return { meta, targets, at: 0 };
  };
  // Each class after those of the new entities its entity's to-ones reach, depth first, with an
  // explicit stack: a chain of thousands of new entities would overflow the call stack.
  const computed = (entity: AnyEntity) => {
    if (seen.has(entity)) return;
    seen.add(entity);
    const frames = [frameOf(entity)];
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as ReturnType<typeof frameOf>;
      const target = frame.targets[frame.at++];
      if (target !== undefined) {
        if (seen.has(target)) continue;
        seen.add(target);
        frames.push(frameOf(target));
        continue;
      }
      frames.pop();
      if (!classes.includes(frame.meta.root)) classes.push(frame.meta.root);
    }
  };
  // When every new entity a to-one refers to was walked, each class this can find is a walked
  // entity's: once all of those are in, the rest of the stack adds nothing.
  const all = walk.unvisitedTargets ? Number.POSITIVE_INFINITY : walk.classes.size;
  for (const entities of [earlier, walk.persisted]) {
    for (const entity of entities) {
      computed(entity);
      if (classes.length >= all) break;
    }
    if (classes.length >= all) break;
  }
  if (!classes.includes(rootMeta)) return undefined;
  // MikroORM 7 keys nodes by the metadata's `_id`, 6 by the class name.
  const idOf = (meta: EntityMetadata<AnyEntity>): string | number =>
    KEYED_BY_ID ? (meta as unknown as { _id: number })._id : meta.className;
  const byId = new Map(classes.map((meta) => [idOf(meta), meta]));
  const calc = new CommitOrderCalculator() as unknown as {
    addNode(id: string | number): void;
    discoverProperty(prop: EntityProperty<AnyEntity>, id: string | number): void;
    sort(): (string | number)[];
  };
  for (const meta of classes) calc.addNode(idOf(meta));
  for (const meta of classes) for (const prop of meta.props) calc.discoverProperty(prop, idOf(meta));
  return calc.sort().map((id) => byId.get(id) as EntityMetadata<AnyEntity>);
}

/**
 * Those of the stored entities the identity map holds, in its order (class by class, each class's
 * entities in the order they entered it): read through the one class's store when they share one,
 * else through the map until each is found.
 */
function inIdentityMap(
  em: EntityManager,
  stored: readonly AnyEntity[],
  metaOf: (entity: AnyEntity) => EntityMetadata<AnyEntity>,
): AnyEntity[] {
  const wanted = new Set(stored);
  const roots = new Set(stored.map((entity) => metaOf(entity).root));
  const source: Iterable<AnyEntity> =
    roots.size === 1
      ? identityMapStore(em, [...roots][0] as EntityMetadata<AnyEntity>).values()
      : em.getUnitOfWork().getIdentityMap();
  const found: AnyEntity[] = [];
  for (const entity of source) {
    // An entity held under an alternate key too comes again: its first place counts.
    if (!wanted.delete(entity)) continue;
    found.push(entity);
    if (wanted.size === 0) break;
  }
  return found;
}

/**
 * Every new entity a written entity refers to comes earlier in `order` (`dependencies`: per class,
 * the classes of the new entities its entities refer to; a new parent of the own table is linked by
 * the engine's follow-up UPDATE, a tree).
 */
function dependenciesHold(
  order: readonly EntityMetadata<AnyEntity>[],
  dependencies: ReadonlyMap<EntityMetadata<AnyEntity>, ReadonlySet<EntityMetadata<AnyEntity>>>,
): boolean {
  const at = new Map(order.map((meta, position) => [meta, position]));
  for (const [meta, targets] of dependencies) {
    for (const target of targets) if ((at.get(target) ?? -1) >= (at.get(meta) ?? -1)) return false;
  }
  return true;
}
