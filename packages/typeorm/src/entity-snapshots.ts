import { EntitySlot } from '@cohort/core/adapter';
import type { DataSource, EntityMetadata, EntitySubscriberInterface, ObjectLiteral, QueryRunner } from 'typeorm';
import type { TransformedValues } from './transformed-values.js';
import { type EmbeddedMetadata, transactionDepthOf } from './typeorm-internals.js';

// What each tracked entity held when it was loaded or last written by cohort (a WeakMap of every
// loaded entity would cost each garbage collection more than the look-ups it serves).
const snapshots = new EntitySlot<ObjectLiteral>('cohort.snapshot');
// Tracked DataSources, with whether their snapshots stand in for the look-up (`reload: false`).
const tracked = new WeakMap<DataSource, { reload: boolean }>();

/**
 * The snapshots one cohort transaction wrote: they stand only if it commits. `depth` is the query
 * runner's transaction depth the writes belong to, for a call inside the caller's transaction.
 */
export interface SnapshotWrites {
  state: 'open' | 'committed' | 'rolledBack';
  depth: number;
}
// The transaction writing an entity right now (set while its batch is in a call).
const writer = new EntitySlot<SnapshotWrites>('cohort.snapshot.writer');
// What a snapshot replaced, until the transaction that replaced it ends.
const replaced = new EntitySlot<{ writes: SnapshotWrites; previous: ObjectLiteral | undefined }>('cohort.snapshot.replaced');
// Writes of calls that succeeded inside a caller's transaction, settled when that transaction ends.
const pendingOn = new WeakMap<QueryRunner, SnapshotWrites[]>();

/** The entity's state when it was loaded (or last written by cohort), if tracking is on. */
export function snapshotOf(entity: object): ObjectLiteral | undefined {
  settle(entity);
  return snapshots.get(entity);
}

// A snapshot written by a transaction that rolled back gives way to the one it replaced.
function settle(entity: object): void {
  const pending = replaced.get(entity);
  if (!pending || pending.writes.state === 'open') return;
  if (pending.writes.state === 'rolledBack') snapshots.set(entity, pending.previous);
  replaced.set(entity, undefined);
}

/** Snapshot bookkeeping for one cohort transaction on `queryRunner`; undefined when the DataSource is not tracked. */
export function snapshotWritesFor(queryRunner: QueryRunner): SnapshotWrites | undefined {
  if (!tracked.has(queryRunner.connection)) return undefined;
  return { state: 'open', depth: transactionDepthOf(queryRunner) };
}

/** Marks the entities as written by `writes` (or, with undefined, by no transaction any more). */
export function markWriter(entities: readonly object[], writes: SnapshotWrites | undefined): void {
  for (const entity of entities) writer.set(entity, writes);
}

/**
 * A call inside the caller's transaction succeeded: its snapshots stand once that transaction
 * commits, and give way if it (or a savepoint around the call) rolls back.
 */
export function keepUntilTransactionEnds(queryRunner: QueryRunner, writes: SnapshotWrites): void {
  const list = pendingOn.get(queryRunner);
  if (list) list.push(writes);
  else pendingOn.set(queryRunner, [writes]);
}

function transactionEnded(queryRunner: QueryRunner, committed: boolean): void {
  const list = pendingOn.get(queryRunner);
  if (!list) return;
  const depth = transactionDepthOf(queryRunner);
  for (const writes of list) {
    if (!committed && writes.depth > depth) writes.state = 'rolledBack';
    else if (committed && !queryRunner.isTransactionActive) writes.state = 'committed';
    // A savepoint released: the writes now belong to the transaction around it.
    else writes.depth = Math.min(writes.depth, depth);
  }
  const open = list.filter((writes) => writes.state === 'open');
  if (open.length > 0) pendingOn.set(queryRunner, open);
  else pendingOn.delete(queryRunner);
}

/**
 * Whether bulkUpdate and bulkSave take a tracked entity's snapshot as its stored row instead of
 * loading the row (`trackEntityChanges(dataSource, { reload: false })`).
 */
export function snapshotsStandIn(dataSource: DataSource): boolean {
  return tracked.get(dataSource)?.reload === false;
}

// The values of transformer columns being written, per entity of a tracked DataSource, from the
// model's prepare until the snapshot taken after the write.
const sent = new WeakMap<object, TransformedValues>();

/** Keeps what a write sends for the entity's transformer columns, for its next snapshot (tracked DataSources only). */
export function noteSent(dataSource: DataSource, entity: object, values: TransformedValues): void {
  if (tracked.has(dataSource)) sent.set(entity, values);
}

/**
 * Records the entity's current state as its baseline, when its DataSource is tracked. A transformer
 * column holds what was written (the copy `to()` was given, as it left it) or, when it was not
 * written, what the last snapshot held: the row as stored, where a `to()` that changes its argument
 * leaves the entity's own value different.
 */
export function takeSnapshot(dataSource: DataSource, entity: object): void {
  if (!tracked.has(dataSource) || !dataSource.hasMetadata(entity.constructor)) return;
  const metadata = dataSource.getMetadata(entity.constructor);
  const snapshot = copyShape(entity as ObjectLiteral, metadata.embeddeds);
  settle(entity);
  const previous = snapshots.get(entity);
  const writes = writer.get(entity);
  // Written by a transaction: what it replaces comes back if that transaction rolls back (the first
  // write of the transaction keeps the state from before it). Loaded: the row is the truth.
  if (writes === undefined) replaced.set(entity, undefined);
  else if (replaced.get(entity) === undefined) replaced.set(entity, { writes, previous });
  const written = sent.get(entity);
  if (written) {
    sent.delete(entity);
    for (const column of metadata.columns) {
      if (!column.transformer) continue;
      const source = written.sentSource(column) ?? (previous ? { value: column.getEntityValue(previous) } : undefined);
      if (source) column.setEntityValue(snapshot, copyValue(source.value));
    }
  }
  snapshots.set(entity, snapshot);
}

/** A copy of a snapshot the diff may change (a transformer's `to()` may change its argument). */
export function snapshotCopy(snapshot: ObjectLiteral, metadata: EntityMetadata): ObjectLiteral {
  return copyShape(snapshot, metadata.embeddeds);
}

/**
 * A snapshot as save() loads a row, for a diff: a relation with join columns holds the related keys
 * (save() loads relation ids), where the snapshot keeps the related object it held when loaded —
 * compared as it is, TypeORM's change computer takes that relation for changed. A copy when a
 * relation needs it or `copy` is asked for (a transformer's `to()` may change its argument); else
 * the snapshot itself.
 */
export function snapshotAsLoaded(snapshot: ObjectLiteral, metadata: EntityMetadata, copy: boolean): ObjectLiteral {
  let result = copy ? snapshotCopy(snapshot, metadata) : snapshot;
  for (const relation of metadata.relationsWithJoinColumns) {
    // (setEntityValue would merge into the related object; a relation in an embedded is left as it is.)
    if (relation.embeddedMetadata || relation.isLazy) continue;
    const value = result[relation.propertyName];
    if (value === null || typeof value !== 'object') continue;
    if (result === snapshot) result = snapshotCopy(snapshot, metadata);
    result[relation.propertyName] = relation.getRelationIdMap(value);
  }
  return result;
}

/**
 * A copy of what the diff reads: own properties, with values that can change in place (Dates,
 * Buffers, JSON values, embedded objects) copied; related entities are kept by reference (only
 * their keys are compared). It has the entity's (or embedded object's) class, as a loaded row has:
 * with `reload: false` it is the `databaseEntity` subscribers receive.
 */
function copyShape(source: ObjectLiteral, embeddeds: readonly EmbeddedMetadata[]): ObjectLiteral {
  const copy: ObjectLiteral = Object.create(Object.getPrototypeOf(source));
  for (const key of Object.keys(source)) copy[key] = copyValue(source[key]);
  for (const embedded of embeddeds) {
    const value = source[embedded.propertyName];
    if (value && typeof value === 'object') copy[embedded.propertyName] = copyShape(value, embedded.embeddeds);
  }
  return copy;
}

/** A column value copied as a snapshot holds it (a Date, a Buffer, an array, a plain JSON object; others as they are). */
export function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) {
    try {
      return structuredClone(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** Options of {@link trackEntityChanges}. */
export interface TrackEntityChangesOptions {
  /**
   * `false`: bulkUpdate and bulkSave do not load the rows of entities that carry a snapshot; the
   * snapshot stands in for the row, as MikroORM's identity map does for flush (one query fewer per
   * batch). Then the event's `databaseEntity` is the snapshot, no `afterLoad` fires for reloaded
   * copies, and a row deleted since it was loaded is not skipped as missing: its UPDATE matches
   * nothing and the batch fails with an OptimisticLockError. Entities without a snapshot are
   * loaded as before. Default `true` (save()'s behaviour).
   */
  reload?: boolean;
}

/**
 * Remembers what every entity held when TypeORM loaded it, so that bulkUpdate and bulkSave write
 * only the columns the application changed since then. Without it (and in TypeORM's own save()),
 * a column is "changed" when it differs from the row as it is now — a stale copy then writes its old
 * values back over another caller's update. Call once per DataSource, after initialize() (a later
 * call only changes `reload`).
 *
 * @example
 * ```ts
 * await dataSource.initialize();
 * trackEntityChanges(dataSource);
 * ```
 */
export function trackEntityChanges(dataSource: DataSource, options: TrackEntityChangesOptions = {}): void {
  const reload = options.reload !== false;
  const state = tracked.get(dataSource);
  if (state) {
    state.reload = reload;
    return;
  }
  tracked.set(dataSource, { reload });
  const subscriber: EntitySubscriberInterface = {
    afterLoad(entity: ObjectLiteral) {
      takeSnapshot(dataSource, entity);
    },
    afterTransactionCommit(event) {
      transactionEnded(event.queryRunner, true);
    },
    afterTransactionRollback(event) {
      transactionEnded(event.queryRunner, false);
    },
  };
  dataSource.subscribers.push(subscriber);
}
