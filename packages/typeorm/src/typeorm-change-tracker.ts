import type {
  ChangedRelations,
  ChangeTracker,
  InputBatch,
  InsertedEntities,
  RelationWrite,
  RowChange,
} from '@cohort/core/adapter';
import { DateUtils, type EntityMetadata, type ObjectLiteral, type QueryRunner, type RelationMetadata } from 'typeorm';
import { snapshotAsLoaded, snapshotOf, snapshotsStandIn, takeSnapshot } from './entity-snapshots.js';
import { noteDetachedRelations, setJoinColumnProperties } from './relation-id-columns.js';
import type { CallRows } from './typeorm-call-rows.js';
import { findChangedRelation, type RelatedGroupOf } from './typeorm-cascade-changes.js';
import { SCALAR_TYPE_NAMES } from './typeorm-column-types.js';
import { stateBeforeHooks } from './typeorm-hook-state.js';
import { type ColumnMetadata, dataSourceOf, type SaveDiff, saveDiffOf } from './typeorm-internals.js';
import { setUnsetNullablesToNull } from './typeorm-model-reader.js';

/** What TypeORM's UpdateEvent carries for one row. */
export interface TypeormChange {
  databaseEntity: ObjectLiteral;
  updatedColumns: ColumnMetadata[];
  updatedRelations: RelationMetadata[];
}

/**
 * TypeORM's own change detection, batched: the database entities are loaded like save() loads them
 * (relation ids included, afterLoad fired) but with one query per batch, and each row is diffed with
 * TypeORM's own SubjectChangedColumnsComputer, so "changed" means exactly what it means to save().
 */
export class TypeormChangeTracker<E extends ObjectLiteral> implements ChangeTracker<E> {
  // save() diffs a subject, runs the before-hooks, then recomputes the same subject; so do we.
  private readonly subjects = new WeakMap<object, SaveDiff>();
  queries = 0;
  /** Set for a call's transaction: leaves a removed entity as remove() leaves it (see RemovedKeys). */
  removed?: (entity: E) => void;
  /** The text of an entity's primary key; undefined when it has none (a key column is undefined). */
  readonly keyOf: (entity: ObjectLiteral) => string | undefined;
  /**
   * Set for the rows' tracker of a call that updates changed related entities with its rows (the
   * transaction runner's): makes a related class's update group. Unset for a related class's own
   * tracker: the rows' look reaches every depth, so a related class's rows look no further.
   */
  relatedGroup?: RelatedGroupOf;
  /** The call's graph (typeorm-cascades.ts): the related entities it updates join it (see findChangedRelation). */
  graph?: InsertedEntities;
  /** The rows of the whole call, for the rows' tracker (see findChangedRelation). */
  callRows?: CallRows;
  /**
   * The rows' tracker's look-up (see `ChangeTracker.changedRelations`). Absent from a related class's
   * tracker (`related`, see `relatedGroup`): it looks no further, and the engine, seeing no look-up to
   * come, refuses what only that look-up could take before its first statement (stored-cascades.ts).
   */
  readonly changedRelations?: (entities: readonly E[], write: RelationWrite) => Promise<ChangedRelations | undefined>;
  /**
   * For a related class's tracker: its entities that save() does not update (reached through
   * relations that cascade inserts only), found unchanged whatever they hold.
   */
  notUpdated?: WeakSet<object>;
  /** The rows' tracker, for a related class's: its look-ups count as theirs (the call's `statements`). */
  countsInto?: { queries: number };
  /**
   * The stored related entities the rows reach, as they were before the batch's hooks (see
   * `beforeHooks`): the rows' tracker's, handed to each related class's tracker of the batch.
   */
  initial?: WeakMap<object, ObjectLiteral>;
  // A related class's tracker: per entity with a state before the hooks, its before-update event as
  // save() broadcasts it (the diff before the hooks), or null when save() broadcasts none.
  private readonly beforeEvents = new WeakMap<object, TypeormChange | null>();

  constructor(
    private readonly queryRunner: QueryRunner,
    private readonly metadata: EntityMetadata,
    related = false,
  ) {
    this.keyOf = keyReader(metadata);
    if (!related) this.changedRelations = (entities, write) => this.findChanged(entities, write);
  }

  async load(batch: InputBatch<E>): Promise<(unknown | undefined)[]> {
    const md = this.metadata;
    // With `reload: false`, an entity's snapshot stands in for its row (see trackEntityChanges).
    const standIn = snapshotsStandIn(this.queryRunner.connection);
    const states: (unknown | undefined)[] = standIn ? batch.entities.map((e) => snapshotOf(e)) : [];
    const keys = batch.entities.map((e, i) => (states[i] === undefined ? this.keyOf(e) : undefined));
    const wanted = batch.entities.filter((_, i) => keys[i] !== undefined);
    if (wanted.length === 0) return batch.entities.map((_, i) => states[i]);
    const relations = new Set<string>();
    for (const entity of wanted) {
      for (const relation of md.relations)
        if (relation.getEntityValue(entity) !== undefined) relations.add(relation.propertyPath);
    }
    const qb = this.queryRunner.manager
      .getRepository<E>(md.target)
      .createQueryBuilder('e')
      .setFindOptions({
        loadEagerRelations: false,
        loadRelationIds: { relations: [...relations], disableMixedMap: true },
        withDeleted: true,
      });
    const [only] = md.primaryColumns;
    // One look-up per batch whatever its size: `= ANY($1)` has one parameter, `IN (…)` one per row.
    if (md.primaryColumns.length === 1 && only) {
      // A raw parameter skips the key's transformer, which find() would apply: apply it here.
      const driver = this.queryRunner.connection.driver;
      const idOf = only.transformer
        ? (e: E) => driver.preparePersistentValue(only.getEntityValue(e), only)
        : (e: E) => only.getEntityValue(e);
      qb.where(`e.${only.propertyPath} = ANY(:ids)`, { ids: wanted.map(idOf) });
    } else {
      qb.whereInIds(wanted.map((e) => md.getEntityIdMap(e)));
    }
    this.queries++;
    if (this.countsInto) this.countsInto.queries++;
    const found = new Map((await qb.getMany()).map((row) => [this.keyOf(row), row]));
    return batch.entities.map((_, i) => {
      const key = keys[i];
      return states[i] ?? (key === undefined ? undefined : found.get(key));
    });
  }

  /**
   * The rows' tracker, before the batch's hooks: copies of the stored related entities they reach,
   * as save() diffs them before its hooks (see stateBeforeHooks).
   */
  beforeHooks(entities: readonly E[]): void {
    if (this.changedRelations) this.initial = stateBeforeHooks(dataSourceOf(this.queryRunner), this.metadata, entities);
  }

  /**
   * For a related class's entity: its before-update event as save() broadcasts it, from the state
   * before the rows' hooks — null when save() broadcasts none (only the rows' hooks changed it; it
   * is updated and gets its after-update event); undefined when its state then is not known.
   */
  beforeEventOf(entity: object): TypeormChange | null | undefined {
    return this.beforeEvents.get(entity);
  }

  diff(entity: E, loaded: unknown, previous?: RowChange): RowChange {
    if (this.notUpdated?.has(entity)) return rowChange(loaded as ObjectLiteral, [], [], []);
    const metadata = this.metadata.findInheritanceMetadata(entity);
    // A related class's tracker only: the rows' own are diffed before their hooks anyway.
    const initial = previous || this.changedRelations ? undefined : this.initial?.get(entity);
    if (plainColumnsOnly(metadata)) {
      const stored = snapshotOf(entity) ?? (loaded as ObjectLiteral);
      if (initial) {
        // save()'s diff before the hooks, then its recompute: the listed columns only grow.
        const first = plainDiff(metadata, initial, stored);
        const before = first.some((c) => c.isUpdate) ? first : undefined;
        this.beforeEvents.set(
          entity,
          before ? { databaseEntity: loaded as ObjectLiteral, updatedColumns: first, updatedRelations: [] } : null,
        );
        const changed = plainDiff(metadata, entity, stored);
        const written = changed.some((c) => c.isUpdate) ? changed : (before ?? []);
        const listed = [...first, ...changed.filter((c) => !first.includes(c))];
        return rowChange(
          loaded as ObjectLiteral,
          listed,
          [],
          written.map((c) => c.databaseName),
        );
      }
      const changed = plainDiff(metadata, entity, stored);
      const written = changed.some((c) => c.isUpdate) ? changed : [];
      // As the Subject save() recomputes after the hooks: the event keeps listing a column a hook
      // changed back (its diffColumns only grow), while the UPDATE writes what still differs.
      const before = (previous?.native as TypeormChange | undefined)?.updatedColumns;
      const listed = before ? [...before, ...changed.filter((c) => !before.includes(c))] : changed;
      return rowChange(
        loaded as ObjectLiteral,
        listed,
        [],
        written.map((c) => c.databaseName),
      );
    }
    let subject = this.subjects.get(entity);
    if (subject) {
      subject.recompute();
    } else {
      // to() of a transformer may change its argument: as save() diffs a freshly loaded row, the
      // diff gets its own copy of the snapshot (kept for the diff after the hooks, as save() keeps it).
      // A related object the snapshot holds is compared by its keys, as save()'s loaded relation ids.
      const snapshot = snapshotOf(entity);
      const stored = snapshot ? snapshotAsLoaded(snapshot, metadata, hasTransformers(metadata)) : (loaded as ObjectLiteral);
      subject = saveDiffOf(metadata, initial ?? entity, stored);
      this.subjects.set(entity, subject);
      if (initial) return this.afterRowHooks(entity, loaded as ObjectLiteral, subject);
    }
    const written = subject.mustBeUpdated ? subject.changeMaps : [];
    noteDetachedRelations(
      entity,
      written.flatMap((c) => (c.relation ? [c.relation] : [])),
    );
    return rowChange(loaded as ObjectLiteral, subject.diffColumns, subject.diffRelations, writtenColumns(written));
  }

  /**
   * A related entity diffed as it was before the rows' hooks (save()'s subject then): that diff is
   * its before-update event's, or it gets none; then recomputed on the entity as the hooks left it,
   * which the UPDATE writes — or, when the hooks changed it back, what changed before them, so that
   * its before-update hooks run (as save()'s) and the diff after them finds it unchanged.
   */
  private afterRowHooks(entity: E, loaded: ObjectLiteral, subject: SaveDiff): RowChange {
    const changedBefore = subject.mustBeUpdated;
    const before = changedBefore ? [...subject.changeMaps] : [];
    this.beforeEvents.set(
      entity,
      changedBefore
        ? { databaseEntity: loaded, updatedColumns: [...subject.diffColumns], updatedRelations: [...subject.diffRelations] }
        : null,
    );
    subject.rebase(entity);
    const written = subject.mustBeUpdated ? subject.changeMaps : before;
    noteDetachedRelations(
      entity,
      written.flatMap((c) => (c.relation ? [c.relation] : [])),
    );
    return rowChange(loaded, subject.diffColumns, subject.diffRelations, writtenColumns(written));
  }

  missingKey(entity: E): string | undefined {
    const metadata = this.metadata.findInheritanceMetadata(entity);
    return metadata.primaryColumns.find((c) => c.getEntityValue(entity) == null)?.propertyPath;
  }

  updated(entity: E): void {
    // As save() for the rows it updated: nullable columns left undefined read null, and a changed
    // relation also sets its join column's own property, if declared.
    setUnsetNullablesToNull(this.queryRunner.connection, this.metadata, entity);
    const relations = this.subjects.get(entity)?.changeMaps.flatMap((c) => (c.relation ? [c.relation] : []));
    if (relations && relations.length > 0) setJoinColumnProperties(entity, relations);
    noteDetachedRelations(entity, []);
    takeSnapshot(this.queryRunner.connection, entity);
  }

  private findChanged(entities: readonly E[], write: RelationWrite): Promise<ChangedRelations | undefined> {
    if (write === 'upsert') return Promise.resolve(undefined);
    return findChangedRelation(
      this.queryRunner,
      this.metadata,
      entities,
      () => {
        this.queries++;
      },
      this.relatedGroup,
      this.graph,
      this.callRows,
      this.initial,
    );
  }
}

// Column types SubjectChangedColumnsComputer compares with `===` (no normalisation) and the ones it
// compares as UTC timestamp text.
const STRICT_TYPES = new Set<unknown>([Number, String, Boolean, ...SCALAR_TYPE_NAMES]);
const TIMESTAMP_TYPES = new Set<unknown>([
  Date,
  'datetime',
  'datetime2',
  'timestamp',
  'timestamp without time zone',
  'timestamp with time zone',
  'timestamp with local time zone',
  'timestamptz',
]);
const plainMetadata = new WeakMap<EntityMetadata, boolean>();

/**
 * Whether every column of the entity is one SubjectChangedColumnsComputer compares by plain value:
 * scalar types above, no transformer, no array, no relation. Those entities are diffed directly
 * (the same verdicts, without a Subject per row); any other goes through TypeORM's computer.
 */
function plainColumnsOnly(metadata: EntityMetadata): boolean {
  let plain = plainMetadata.get(metadata);
  if (plain === undefined) {
    plain =
      metadata.relationsWithJoinColumns.length === 0 &&
      metadata.columns.every(
        (c) =>
          c.isVirtual ||
          c.isDiscriminator ||
          (!c.transformer && !c.isArray && !c.relationMetadata && (STRICT_TYPES.has(c.type) || TIMESTAMP_TYPES.has(c.type))),
      );
    plainMetadata.set(metadata, plain);
  }
  return plain;
}

const transformed = new WeakMap<EntityMetadata, boolean>();

/** Whether a column of the entity has a ValueTransformer. */
function hasTransformers(metadata: EntityMetadata): boolean {
  let has = transformed.get(metadata);
  if (has === undefined) {
    has = metadata.columns.some((c) => c.transformer);
    transformed.set(metadata, has);
  }
  return has;
}

/**
 * What changed on one row: TypeORM's changed columns and relations (what its events list), and the
 * columns the UPDATE writes (`written`: none when save() would not update the row). `loaded` is the
 * row as stored, which the event carries (as save() gives it) even when the diff used a snapshot.
 */
export function rowChange(
  loaded: ObjectLiteral,
  columns: ColumnMetadata[],
  relations: RelationMetadata[],
  written: string[],
): RowChange {
  const native: TypeormChange = { databaseEntity: loaded, updatedColumns: columns, updatedRelations: relations };
  // Plain loops: this runs twice per row of an update (before and after the hooks).
  const properties: string[] = [];
  const before: Record<string, unknown> = {};
  for (const column of columns) {
    properties.push(column.propertyPath);
    before[column.propertyPath] = column.getEntityValue(loaded);
  }
  for (const relation of relations) properties.push(relation.propertyPath);
  return { properties, before, columns: written, native };
}

/** The columns a subject's change maps write: its changed columns and the join columns of its changed relations. */
function writtenColumns(changeMaps: SaveDiff['changeMaps']): string[] {
  const names: string[] = [];
  for (const change of changeMaps) {
    if (change.column) names.push(change.column.databaseName);
    else if (change.relation) for (const column of change.relation.joinColumns) names.push(column.databaseName);
  }
  return names;
}

/** SubjectChangedColumnsComputer.computeDiffColumns for plain columns (see plainColumnsOnly). */
function plainDiff(metadata: EntityMetadata, entity: ObjectLiteral, stored: ObjectLiteral): ColumnMetadata[] {
  const changed: ColumnMetadata[] = [];
  for (const column of metadata.columns) {
    if (column.isVirtual || column.isDiscriminator) continue;
    const value = column.getEntityValue(entity);
    if (value === undefined) continue;
    const before = column.getEntityValue(stored, true);
    if (value === before) continue;
    if (value !== null && before !== null && TIMESTAMP_TYPES.has(column.type) && sameTimestamp(value, before)) continue;
    changed.push(column);
  }
  return changed;
}

/** TypeORM's comparison of timestamps: equal as UTC text with milliseconds. */
function sameTimestamp(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date && !Number.isNaN(a.getTime()) && !Number.isNaN(b.getTime())) {
    return a.getTime() === b.getTime();
  }
  return DateUtils.mixedDateToUtcDatetimeString(a) === DateUtils.mixedDateToUtcDatetimeString(b);
}

/**
 * Reads an entity's primary key as text (several key columns joined as JSON); undefined when
 * `getEntityIdMap` finds none. A single key column that is a plain property is read directly:
 * `getEntityIdMap` builds and merges a map per call, which the look-up and the overlap check pay per row.
 */
function keyReader(metadata: EntityMetadata): (entity: ObjectLiteral) => string | undefined {
  const columns = metadata.primaryColumns;
  const [only] = columns;
  if (columns.length === 1 && only && !only.embeddedMetadata && !only.relationMetadata && !only.referencedColumn) {
    const property = only.propertyName;
    return (entity) => {
      const value = entity[property];
      return value === undefined ? undefined : String(value);
    };
  }
  return (entity) => {
    if (!metadata.getEntityIdMap(entity)) return undefined;
    if (columns.length === 1) return String(columns[0]?.getEntityValue(entity));
    return JSON.stringify(columns.map((c) => String(c.getEntityValue(entity))));
  };
}
