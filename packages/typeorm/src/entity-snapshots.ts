import type { DataSource, EntitySubscriberInterface, ObjectLiteral } from 'typeorm';
import type { EmbeddedMetadata } from 'typeorm/metadata/EmbeddedMetadata.js';

// What each tracked entity held when it was loaded or last written by cohort.
const snapshots = new WeakMap<object, ObjectLiteral>();
const tracked = new WeakSet<DataSource>();

/** The entity's state when it was loaded (or last written by cohort), if tracking is on. */
export function snapshotOf(entity: object): ObjectLiteral | undefined {
  return snapshots.get(entity);
}

/** Records the entity's current state as its baseline, when its DataSource is tracked. */
export function takeSnapshot(dataSource: DataSource, entity: object): void {
  if (!tracked.has(dataSource) || !dataSource.hasMetadata(entity.constructor)) return;
  const metadata = dataSource.getMetadata(entity.constructor);
  snapshots.set(entity, copyShape(entity as ObjectLiteral, metadata.embeddeds));
}

/**
 * A copy of what the diff reads: own properties, with values that can change in place (Dates,
 * Buffers, JSON values, embedded objects) copied; related entities are kept by reference (only
 * their keys are compared).
 */
function copyShape(source: ObjectLiteral, embeddeds: readonly EmbeddedMetadata[]): ObjectLiteral {
  const copy: ObjectLiteral = {};
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

/**
 * Remembers what every entity held when TypeORM loaded it, so that bulkUpdate and bulkSave write
 * only the columns the application changed since then. Without it (and in TypeORM's own save()),
 * a column is "changed" when it differs from the row as it is now — a stale copy then writes its old
 * values back over another caller's update. Call once per DataSource, after initialize().
 *
 * @example
 * ```ts
 * await dataSource.initialize();
 * trackEntityChanges(dataSource);
 * ```
 */
export function trackEntityChanges(dataSource: DataSource): void {
  if (tracked.has(dataSource)) return;
  tracked.add(dataSource);
  const subscriber: EntitySubscriberInterface = {
    afterLoad(entity: ObjectLiteral) {
      takeSnapshot(dataSource, entity);
    },
  };
  dataSource.subscribers.push(subscriber);
}
