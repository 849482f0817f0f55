import type { DataSource, EntitySubscriberInterface, ObjectLiteral } from 'typeorm';

// What each tracked entity held when it was loaded or last written by cohort.
const snapshots = new WeakMap<object, ObjectLiteral>();
const tracked = new WeakSet<DataSource>();

/** The entity's state when it was loaded (or last written by cohort), if tracking is on. */
export function snapshotOf(entity: object): ObjectLiteral | undefined {
  return snapshots.get(entity);
}

/** Records the entity's current state as its baseline, when its DataSource is tracked. */
export function takeSnapshot(dataSource: DataSource, entity: object): void {
  if (!tracked.has(dataSource)) return;
  try {
    snapshots.set(entity, structuredClone({ ...entity }));
  } catch {
    // Entities holding values that cannot be cloned (functions, sockets…) fall back to the database diff.
    snapshots.delete(entity);
  }
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
