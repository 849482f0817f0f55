import { EntitySlot } from '@cohort/core';
import type { DataSource, EntitySubscriberInterface, ObjectLiteral } from 'typeorm';
import type { EmbeddedMetadata } from 'typeorm/metadata/EmbeddedMetadata.js';

// What each tracked entity held when it was loaded or last written by cohort (a WeakMap of every
// loaded entity would cost each garbage collection more than the look-ups it serves).
const snapshots = new EntitySlot<ObjectLiteral>('cohort.snapshot');
// Tracked DataSources, with whether their snapshots stand in for the look-up (`reload: false`).
const tracked = new WeakMap<DataSource, { reload: boolean }>();

/** The entity's state when it was loaded (or last written by cohort), if tracking is on. */
export function snapshotOf(entity: object): ObjectLiteral | undefined {
  return snapshots.get(entity);
}

/**
 * Whether bulkUpdate and bulkSave take a tracked entity's snapshot as its stored row instead of
 * loading the row (`trackEntityChanges(dataSource, { reload: false })`).
 */
export function snapshotsStandIn(dataSource: DataSource): boolean {
  return tracked.get(dataSource)?.reload === false;
}

/** Records the entity's current state as its baseline, when its DataSource is tracked. */
export function takeSnapshot(dataSource: DataSource, entity: object): void {
  if (!tracked.has(dataSource) || !dataSource.hasMetadata(entity.constructor)) return;
  const metadata = dataSource.getMetadata(entity.constructor);
  const snapshot = copyShape(entity as ObjectLiteral, metadata.embeddeds);
  snapshots.set(entity, snapshot);
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

function copyValue(value: unknown): unknown {
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
  };
  dataSource.subscribers.push(subscriber);
}
