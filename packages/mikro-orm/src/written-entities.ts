import type { UndoLog } from './undo-log.js';

// Entities whose rows a cohort call wrote (and whose transaction was not rolled back) and that have
// no snapshot to say so: those of a call with `managed: false`. A managed call registers what it
// writes with flush's snapshot, which is what tells a later call (or flush) that the row exists —
// and is gone again when a flush deletes the row (`unsetIdentity`), where a mark here would stay.
const written = new WeakSet<object>();

/**
 * Notes that a call wrote the entity's row and left it without a snapshot (`managed: false`);
 * forgotten if the call's transaction rolls back. A later call that reaches the entity as a related
 * one links it rather than inserting it again (flush would insert an entity without a snapshot, and
 * fail on its key).
 */
export function noteWritten(entity: object, undo: UndoLog): void {
  if (written.has(entity)) return;
  written.add(entity);
  undo.push(forget, entity);
}

function forget(entity: object): void {
  written.delete(entity);
}

/**
 * Forgets that a call wrote the entity's row once a call deleted it (bulkRemove): a later call then
 * inserts it again, as flush does; noted again if the deleting call's transaction rolls back.
 */
export function forgetWritten(entity: object, undo: UndoLog): void {
  if (!written.delete(entity)) return;
  undo.push(remember, entity);
}

function remember(entity: object): void {
  written.add(entity);
}

/** Whether a cohort call wrote the entity's row (see {@link noteWritten}). */
export function wasWritten(entity: object): boolean {
  return written.has(entity);
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
