import type { CascadeGroup, CascadeWrite, EntityAccess, EntityGraph, InputBatch, LifecycleHooks } from '@cohort/core/adapter';
import { InsertedEntities, NO_HOOKS } from '@cohort/core/adapter';
import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner, RelationMetadata } from 'typeorm';
import { assertEntityRows } from './assert-entity-row.js';
import { markWriter, type SnapshotWrites } from './entity-snapshots.js';
import { relatedKey } from './related-keys.js';
import { noteInsertedRelated } from './typeorm-cascade-changes.js';
import { holdItem, releaseItem } from './typeorm-held-items.js';
import { TypeormLifecycle } from './typeorm-lifecycle.js';
import { typeormLinks } from './typeorm-links.js';
import { readTypeormEntity } from './typeorm-model-reader.js';
import type { RelationFinder } from './typeorm-relation-finder.js';
import type { RemovedKeys } from './typeorm-removed-keys.js';
import { refuseTreeTable } from './typeorm-tree-guard.js';

/** Where a new related entity was first reached: the input row, the relation. */
interface Reached {
  readonly index: number;
  readonly entityName: string;
  readonly property: string;
}

/** A new entity for the walk to enter: the entity, its class, the input row it was reached from. */
type Visit = [entity: ObjectLiteral, meta: EntityMetadata, index: number];

/**
 * The new related entities save() would insert with a batch's rows (EntityAccess.cascades), through
 * relations that cascade inserts (CascadesSubjectBuilder follows `cascade: true` / `['insert']`): the
 * target of a many-to-one or owning one-to-one without a key, the new items of a many-to-many
 * (before the row: its links read their keys), the new items of a one-to-many and the new target of
 * an inverse one-to-one whose own reference is the row (after it) — recursively. Grouped by class, each object once, classes in
 * dependency order (parents first); the classes before the rows' class are inserted before the
 * batch's statement, the others after it. save() itself inserts in SubjectTopologicalSorter's order,
 * the tables with non-nullable references first, and sets a nullable foreign key to an entity
 * inserted later with one UPDATE per row (with its update events); cohort inserts the parents first
 * and sends no UPDATE (docs/differences.md). What this does not write is left to the relation
 * finder, which refuses it: relations without cascade, one-to-many items and inverse one-to-one
 * targets that do not refer to the row (save() writes their foreign key without setting their
 * reference), many-to-many relations whose links cohort does not write, new entities of the rows'
 * own class, cycles.
 */
export class TypeormCascades {
  readonly graph: InsertedEntities;
  /** The query runner of the call's transaction (set by the transaction runner). */
  queryRunner: QueryRunner | undefined;
  /** The transaction's snapshot bookkeeping (trackEntityChanges), as for the rows. */
  writes: SnapshotWrites | undefined;
  /** What the transaction's rollback undoes (set by the transaction runner). */
  rollBack: RemovedKeys | undefined;
  // Per related entity of a batch in flight: the rollback that puts back what cohort puts on it.
  private readonly rollBackOf = new WeakMap<object, RemovedKeys>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly metadata: EntityMetadata,
    private readonly hooks: boolean,
    input?: unknown,
  ) {
    this.graph = new InsertedEntities(input);
  }

  /** Whether the class has a relation through which save() could insert a new entity. */
  static needed(metadata: EntityMetadata): boolean {
    return [metadata, ...metadata.childEntityMetadatas].some((m) => m.relations.some((r) => cascaded(r) !== undefined));
  }

  find(batch: InputBatch<ObjectLiteral>): CascadeWrite | undefined {
    const rootMeta = this.metadata;
    const rows = new Set<object>(batch.entities);
    const reached = new Map<object, Reached & { meta: EntityMetadata }>();
    // Class-level dependencies found on the instances: parent class → dependent class.
    const edges: [EntityMetadata, EntityMetadata][] = [];
    const seen: EntityMetadata[] = [rootMeta];
    // Yields each new entity to walk next, depth first: the driver below enters it before this one goes on.
    const visit = function* (entity: ObjectLiteral, meta: EntityMetadata, index: number): Generator<Visit, void, void> {
      const own = meta.findInheritanceMetadata(entity);
      for (const relation of own.relations) {
        const side = cascaded(relation);
        if (!side) continue;
        const target = relation.inverseEntityMetadata;
        const keyOf = relatedKey(target);
        const value = relation.getEntityValue(entity);
        const items: unknown[] = relation.isOneToMany || relation.isManyToMany ? (Array.isArray(value) ? value : []) : [value];
        for (const item of items) {
          if (item === null || typeof item !== 'object' || keyOf(item) !== undefined) continue;
          // Items that refer to the holder (one-to-many, inverse one-to-one): those whose own reference
          // is it, and, as save(), those whose own reference is unset: they take the holder's key.
          if (side === 'after') {
            const inverse = relation.inverseRelation as RelationMetadata;
            const own = inverse.getEntityValue(item as ObjectLiteral);
            if (own === undefined && !rows.has(item) && !reached.has(item)) holdItem(item as ObjectLiteral, inverse, entity);
            else if (own !== entity) continue;
          }
          // A new entity of the rows' own table (a tree) is left to the engine (a parent among the
          // rows, typeorm-self-references.ts) or to the finder, which refuses it.
          if (target.tablePath === rootMeta.tablePath) continue;
          edges.push(side === 'before' ? [target, meta] : [meta, target]);
          if (rows.has(item) || reached.has(item)) continue;
          reached.set(item, { index, entityName: own.name, property: relation.propertyPath, meta: target });
          if (!seen.includes(target)) seen.push(target);
          yield [item as ObjectLiteral, target, index];
        }
      }
    };
    batch.entities.forEach((entity, position) => {
      // An explicit stack, not recursion: a chain of thousands of new entities would overflow the call stack.
      const walking = [visit(entity, rootMeta, batch.indices[position] as number)];
      while (walking.length > 0) {
        const next = (walking[walking.length - 1] as Generator<Visit, void, void>).next();
        if (next.done) walking.pop();
        else walking.push(visit(...next.value));
      }
    });
    if (reached.size === 0) return undefined;
    const order = dependencyOrder(seen, edges);
    if (!order) return undefined;
    for (const entity of rows) this.graph.add(entity);
    for (const entity of reached.keys()) this.graph.add(entity);
    const rootAt = order.indexOf(rootMeta);
    const groups: CascadeGroup[] = [];
    for (const [position, meta] of order.entries()) {
      if (meta === rootMeta) continue;
      const entities = [...reached].filter(([, at]) => at.meta === meta).map(([entity]) => entity);
      const first = entities[0] && reached.get(entities[0]);
      if (!first) continue;
      const queryRunner = this.queryRunner;
      const writes = this.writes;
      const rollBack = this.rollBack;
      const hooks: LifecycleHooks<ObjectLiteral> =
        this.hooks && queryRunner ? new TypeormLifecycle<ObjectLiteral>(queryRunner, meta) : NO_HOOKS;
      refuseTreeTable(meta, `inserting by cascade (${first.entityName}.${first.property})`);
      groups.push({
        side: position < rootAt ? 'before' : 'after',
        entityName: first.entityName,
        property: first.property,
        model: readTypeormEntity(this.dataSource, meta).model,
        access: this.accessOf(meta) as EntityAccess<unknown>,
        hooks: hooks as LifecycleHooks<unknown>,
        entities,
        indices: entities.map((entity) => (reached.get(entity) as Reached).index),
        batchStarted: (group) => {
          assertEntityRows(meta, group as InputBatch<ObjectLiteral>);
          if (writes) markWriter(group.entities as object[], writes);
          if (rollBack) for (const entity of group.entities as object[]) this.rollBackOf.set(entity, rollBack);
        },
        batchDone: (group) => {
          if (writes) markWriter(group.entities as object[], undefined);
          for (const entity of group.entities as object[]) releaseItem(entity);
        },
      });
    }
    // save() fires every beforeInsert of the graph before its first INSERT, every afterInsert after its last.
    return { groups, hookOrder: 'graph' };
  }

  private readonly accesses = new Map<EntityMetadata, EntityAccess<ObjectLiteral>>();

  /**
   * A related class's access: its own, with the relation finder aware of the call's graph, and the
   * values it puts on an entity after its statement (keys, defaults, nulls) undone if the call's
   * transaction rolls back: save() puts them on its objects after its last statement only, so a
   * failed save() leaves them as they were and the same objects can be saved again.
   */
  private accessOf(meta: EntityMetadata): EntityAccess<ObjectLiteral> {
    let access = this.accesses.get(meta);
    if (!access) {
      const own = this.withGraph(readTypeormEntity<ObjectLiteral>(this.dataSource, meta).access);
      const keep = (entity: ObjectLiteral) => {
        const rollBack = this.rollBackOf.get(entity);
        if (!rollBack) return;
        this.rollBackOf.delete(entity);
        const putBack = valuesOf(meta.findInheritanceMetadata(entity), entity);
        rollBack.undoOnRollBack(() => {
          putBack();
          noteInsertedRelated(entity, false);
        });
      };
      access = {
        ...own,
        writer: (column) => {
          const write = own.writer(column);
          return (entity, value) => {
            keep(entity);
            write(entity, value);
          };
        },
        finishInsert: (entity, upserted) => {
          keep(entity);
          own.finishInsert?.(entity, upserted);
          noteInsertedRelated(entity, true);
        },
      };
      this.accesses.set(meta, access);
    }
    return access;
  }

  /** An access whose relation finder lets through the one-to-many items the call inserts. */
  withGraph(access: EntityAccess<ObjectLiteral>, also?: EntityGraph): EntityAccess<ObjectLiteral> {
    return withGraph(access, also ? unionOf(this.graph, also) : this.graph);
  }
}

/** An access whose relation finder is told what the call writes (`graph`): those entities are not refused. */
export function withGraph(access: EntityAccess<ObjectLiteral>, graph: EntityGraph): EntityAccess<ObjectLiteral> {
  const finder = access.unwrittenRelation as RelationFinder | undefined;
  if (!finder) return access;
  return { ...access, unwrittenRelation: (entity, write, stored) => finder(entity, write, stored, graph) };
}

/** The entities of either graph. */
export function unionOf(a: EntityGraph, b: EntityGraph): EntityGraph {
  return { has: (entity) => a.has(entity) || b.has(entity) };
}

/** Which side of the holder's statement save() inserts a new entity reached through the relation on. */
function cascaded(relation: RelationMetadata): 'before' | 'after' | undefined {
  if (!relation.isCascadeInsert || relation.persistenceEnabled === false) return undefined;
  if (relation.isManyToOne || relation.isOneToOneOwner) return 'before';
  // Many-to-many items go in before the holder's statement: the links, written after it, read their keys.
  if (relation.isManyToMany) return typeormLinks(relation) ? 'before' : undefined;
  if ((relation.isOneToMany || relation.isOneToOneNotOwner) && relation.inverseRelation) return 'after';
  return undefined;
}

/** The classes with every parent before its dependents (first seen first among free ones), or undefined for a cycle between classes. */
function dependencyOrder(
  classes: readonly EntityMetadata[],
  edges: readonly [EntityMetadata, EntityMetadata][],
): EntityMetadata[] | undefined {
  const parents = new Map(classes.map((meta) => [meta, new Set<EntityMetadata>()]));
  // A class referring to itself (a related tree: `author.mentor`) is one group, whose insert links
  // a parent among its entities with the follow-up UPDATE of a tree (insert-self-references.ts).
  for (const [parent, child] of edges) if (parent !== child) parents.get(child)?.add(parent);
  const order: EntityMetadata[] = [];
  const left = [...classes];
  while (left.length > 0) {
    const free = left.findIndex((meta) => [...(parents.get(meta) ?? [])].every((p) => order.includes(p) || !left.includes(p)));
    if (free < 0) return undefined;
    order.push(left.splice(free, 1)[0] as EntityMetadata);
  }
  return order;
}

/** Puts back the values the entity's own columns hold now (not its relations, which cohort does not change). */
export function valuesOf(meta: EntityMetadata, entity: ObjectLiteral): () => void {
  const columns = meta.columns.filter((column) => !column.relationMetadata && !column.isVirtual);
  const values = columns.map((column) => column.getEntityValue(entity));
  return () => {
    columns.forEach((column, i) => {
      if (column.getEntityValue(entity) !== values[i]) column.setEntityValue(entity, values[i]);
    });
  };
}
