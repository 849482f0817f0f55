import type { ChangeTracker, InputBatch, RowChange } from '@cohort/core/adapter';
import {
  ChangeSet,
  ChangeSetType,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  ReferenceKind,
  type Transaction,
  Utils,
} from '@mikro-orm/core';
import { propertyPath } from './mikro-orm-column-model.js';
import { createLoaded, diffSnapshots, entityInternals, findRows } from './mikro-orm-internals.js';
import type { MikroOrmWriteContext } from './mikro-orm-write-context.js';
import { prepareEntity } from './prepare-entity.js';

type AnyEntity = object;
type Data = Record<string, unknown>;

/**
 * MikroORM's own change detection, batched. A managed entity is diffed against its identity-map
 * snapshot (`__originalEntityData`) with no query, as flush does; entities the EntityManager does
 * not manage but that carry a primary key are looked up in one query per batch, and diffed against
 * what was found. The diff is flush's: `comparator.diffEntities(snapshot, prepareEntity(entity))`,
 * then `onUpdate` values when something changed, then what the before-update hooks changed.
 */
export class MikroOrmChangeTracker<E extends object> implements ChangeTracker<E> {
  // Entities diffed against a row found by the look-up: their undefined properties were never set.
  private readonly looked = new WeakSet<AnyEntity>();
  private readonly written = new Map<EntityMetadata<AnyEntity>, Map<string, WrittenProperty | null>>();
  private readonly shapes = new Map<EntityMetadata<AnyEntity>, Map<string, ChangeShape>>();
  /** Set for a call's transaction: leaves a removed entity as flush leaves it (see removeFromUnitOfWork). */
  removed?: (entity: E) => void;

  constructor(
    private readonly context: MikroOrmWriteContext,
    private readonly meta: EntityMetadata<E>,
    private readonly trx: Transaction,
    private readonly schema: string | undefined,
    /** Names of the model's columns: what a changed property may write. */
    private readonly columns: ReadonlySet<string>,
  ) {}

  async load(batch: InputBatch<E>): Promise<(unknown | undefined)[]> {
    const states: (unknown | undefined)[] = batch.entities.map(() => undefined);
    const wanted: number[] = [];
    batch.entities.forEach((entity, position) => {
      const wrapped = entityInternals(entity);
      if (wrapped.__managed && wrapped.__originalEntityData) {
        states[position] = wrapped.__originalEntityData;
        this.context.markExisting(entity);
      } else if (wrapped.hasPrimaryKey()) {
        wanted.push(position);
      }
    });
    if (wanted.length === 0) return states;
    const found = await this.lookUp(wanted.map((p) => batch.entities[p] as E));
    for (const position of wanted) {
      const entity = batch.entities[position] as E;
      const state = found.get(entityInternals(entity).getSerializedPrimaryKey());
      if (state === undefined) continue;
      states[position] = state;
      this.looked.add(entity);
      this.context.markExisting(entity);
    }
    return states;
  }

  /**
   * One query for the batch's unmanaged entities, on the call's transaction, hydrated in a scratch
   * EntityManager (as `em.find` would, but without `onLoad`, filters or touching the caller's
   * identity map): serialized primary key → the snapshot MikroORM takes of a loaded entity.
   */
  private async lookUp(entities: E[]): Promise<Map<string, Data>> {
    const em = this.context.em;
    const meta = this.meta;
    const platform = em.getPlatform();
    const pk = Utils.getPrimaryKeyHash(meta.primaryKeys);
    const keys = entities.map((e) => {
      const value = entityInternals(e).getPrimaryKey(true);
      return Utils.isPlainObject(value) ? Utils.getCompositeKeyValue(value, meta, false, platform) : value;
    });
    const scratch = em.fork({ clear: true, useContext: false });
    const where = { [pk]: { $in: keys } };
    const rows = await findRows(em, meta, where, { ctx: this.trx, schema: this.schema, em: scratch });
    const found = new Map<string, Data>();
    for (const row of rows) {
      const wrapped = entityInternals(createLoaded(scratch, meta, row, this.schema));
      if (wrapped.__originalEntityData) found.set(wrapped.getSerializedPrimaryKey(), wrapped.__originalEntityData);
    }
    return found;
  }

  diff(entity: E, loaded: unknown): RowChange {
    const snapshot = loaded as Data;
    const meta: EntityMetadata<AnyEntity> = entityInternals<AnyEntity>(entity).__meta;
    const copy = this.context.baselineOf(entity);
    let changeSet: ChangeSet<AnyEntity>;
    if (copy === undefined) {
      // First diff, before the hooks: as ChangeSetComputer for an entity with a snapshot.
      let prepared = prepareEntity(this.context.em, entity);
      const payload = this.payload(entity, snapshot, prepared);
      this.context.refuseKeyChange(entity, meta, payload, snapshot);
      changeSet = new ChangeSet(entity, ChangeSetType.UPDATE, payload, meta);
      changeSet.originalEntity = snapshot;
      // `onUpdate` runs only when something else changed, and its values join the payload.
      if (Object.keys(payload).length > 0 && applyOnUpdate(this.context.em, entity, meta)) {
        prepared = prepareEntity(this.context.em, entity);
        Object.assign(payload, withoutUndefined(this.payload(entity, snapshot, prepared)));
      }
      // What the hooks start from (the entity is unchanged since `prepared` was taken).
      this.context.setBaseline(entity, prepared, false);
      this.context.useChangeSet(entity, changeSet);
    } else {
      // After the before-update hooks: what they changed joins the payload, as in flush's runHooks.
      changeSet = this.context.changeSetOf(entity, ChangeSetType.UPDATE);
      const current = prepareEntity(this.context.em, entity);
      const hooked = diffSnapshots(this.context.em, meta, copy, current);
      this.context.refuseKeyChange(entity, meta, hooked, snapshot);
      Object.assign(changeSet.payload, hooked);
      this.context.setBaseline(entity, current, true);
    }
    return this.rowChange(changeSet, meta, snapshot);
  }

  updated(entity: E): void {
    this.context.finishUpdate(entity);
  }

  missingKey(entity: E): string | undefined {
    const wrapped = entityInternals(entity);
    if (wrapped.hasPrimaryKey()) return undefined;
    const meta = wrapped.__meta;
    return meta.primaryKeys.find((key) => (entity as Data)[key as string] == null) ?? meta.primaryKeys[0];
  }

  /** The changes of `entity` (`prepared`: its `prepareEntity` now) against its snapshot. */
  private payload(entity: E, snapshot: Data, prepared: Data): Data {
    const meta = entityInternals<AnyEntity>(entity).__meta;
    const diff = diffSnapshots(this.context.em, meta, snapshot, prepared);
    // An entity that was not loaded may be partial: what it leaves undefined is not a change.
    return this.looked.has(entity) ? withoutUndefined(diff) : diff;
  }

  /** The engine's view of a change set: changed properties, their stored values, the columns to write. */
  private rowChange(changeSet: ChangeSet<AnyEntity>, meta: EntityMetadata<AnyEntity>, snapshot: Data): RowChange {
    const keys = Object.keys(changeSet.payload);
    const shape = this.shapeOf(meta, keys);
    const before: Data = {};
    for (let i = 0; i < shape.keys.length; i++) before[shape.properties[i] as string] = snapshot[shape.keys[i] as string];
    return { properties: shape.properties, before, columns: shape.columns, native: changeSet };
  }

  /**
   * What a payload with these keys writes: the keys that map to the model's columns, their property
   * paths and the columns, once per entity class and set of keys (the rows of a batch mostly share
   * one). The arrays are shared between rows, read-only.
   */
  private shapeOf(meta: EntityMetadata<AnyEntity>, keys: readonly string[]): ChangeShape {
    let byKeys = this.shapes.get(meta);
    if (!byKeys) {
      byKeys = new Map();
      this.shapes.set(meta, byKeys);
    }
    const signature = keys.join('\u0000');
    let shape = byKeys.get(signature);
    if (!shape) {
      const own: ChangeShape = { keys: [], properties: [], columns: [] };
      for (const key of keys) {
        const written = this.writtenAs(meta, key);
        if (written === null) continue;
        for (const name of written.columns) if (!own.columns.includes(name)) own.columns.push(name);
        own.keys.push(key);
        own.properties.push(written.path);
      }
      shape = own;
      // Bounded: entities changed in many different combinations are worked out row by row.
      if (byKeys.size < SHAPES_PER_CLASS) byKeys.set(signature, shape);
    }
    return shape;
  }

  /** The property path and the model's columns a payload key writes (null: none), per entity class. */
  private writtenAs(meta: EntityMetadata<AnyEntity>, key: string): WrittenProperty | null {
    let byKey = this.written.get(meta);
    if (!byKey) {
      byKey = new Map();
      this.written.set(meta, byKey);
    }
    let written = byKey.get(key);
    if (written === undefined) {
      const prop = (meta.properties as Partial<Record<string, EntityProperty<AnyEntity>>>)[key];
      const own = prop?.fieldNames?.filter((name) => this.columns.has(name)) ?? [];
      written = prop && own.length > 0 ? { path: propertyPath(meta, prop).join('.'), columns: own } : null;
      byKey.set(key, written);
    }
    return written;
  }
}

const SHAPES_PER_CLASS = 256;

/**
 * `prop.onUpdate(entity, em)` for every property that has one, embeddables included, the values
 * set once all are computed (as ChangeSetComputer does); whether there was any.
 */
export function applyOnUpdate(em: EntityManager, entity: object, meta: EntityMetadata<AnyEntity>): boolean {
  const pending: [Data, string, unknown][] = [];
  const visit = (target: Data, props: readonly EntityProperty<AnyEntity>[]) => {
    for (const prop of props) {
      if (prop.onUpdate) pending.push([target, prop.name, prop.onUpdate(target, em)]);
      const value = target[prop.name];
      if (prop.kind === ReferenceKind.EMBEDDED && value && prop.targetMeta) {
        for (const item of (prop.array ? value : [value]) as Data[]) visit(item, prop.targetMeta.hydrateProps);
      }
    }
  };
  visit(entity as Data, meta.hydrateProps);
  for (const [target, name, value] of pending) target[name] = value;
  return pending.length > 0;
}

interface ChangeShape {
  readonly keys: string[];
  readonly properties: string[];
  readonly columns: string[];
}

interface WrittenProperty {
  readonly path: string;
  readonly columns: readonly string[];
}

function withoutUndefined(data: Data): Data {
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined));
}
