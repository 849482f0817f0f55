import type { UndoLog, WriteEpoch } from './undo-log.js';

// Entities whose rows a cohort call wrote (and whose transaction was not rolled back) and that have
// no snapshot to say so: those of a call with `managed: false`. A managed call registers what it
// writes with flush's snapshot, which is what tells a later call (or flush) that the row exists —
// and is gone again when a flush deletes the row (`unsetIdentity`), where a mark here would stay.
// Each with the write epoch of the transaction that wrote it: not written once that rolled back.
const written = new WeakMap<object, WriteEpoch>();

/**
 * Notes that a call wrote the entity's row and left it without a snapshot (`managed: false`);
 * forgotten if the call's transaction rolls back (its epoch says so: no undo step per entity, which
 * would keep a stream's written entities alive until the call ends). A later call that reaches the
 * entity as a related one links it rather than inserting it again (flush would insert an entity
 * without a snapshot, and fail on its key).
 */
export function noteWritten(entity: object, undo: UndoLog): void {
  if (wasWritten(entity)) return;
  written.set(entity, undo.epoch());
}

/**
 * Forgets that a call wrote the entity's row once a call deleted it (bulkRemove): a later call then
 * inserts it again, as flush does; noted again if the deleting call's transaction rolls back.
 */
export function forgetWritten(entity: object, undo: UndoLog): void {
  const epoch = written.get(entity);
  if (!epoch || epoch.rolledBack) return;
  written.delete(entity);
  undo.push(remember, { entity, epoch });
}

function remember({ entity, epoch }: { entity: object; epoch: WriteEpoch }): void {
  written.set(entity, epoch);
}

/** Whether a cohort call wrote the entity's row (see {@link noteWritten}). */
export function wasWritten(entity: object): boolean {
  const epoch = written.get(entity);
  return epoch !== undefined && !epoch.rolledBack;
}

// Per call (its undo log, shared by the write contexts of every class the call writes): the entities
// it inserted of classes that refer to their own table (what mikroOrmSelfReferences asks about).
const insertedByCall = new WeakMap<UndoLog, WeakSet<object>>();

/** Notes that the call whose undo log this is inserted the entity's row. */
export function noteInserted(entity: object, undo: UndoLog): void {
  let inserted = insertedByCall.get(undo);
  if (!inserted) {
    inserted = new WeakSet();
    insertedByCall.set(undo, inserted);
  }
  inserted.add(entity);
}

/** Whether the call whose undo log this is inserted the entity's row (in an earlier batch). */
export function wasInsertedBy(undo: UndoLog, entity: object): boolean {
  return insertedByCall.get(undo)?.has(entity) === true;
}
