import type { UndoLog } from './undo-log.js';

// Entities whose rows a cohort call wrote (and whose transaction was not rolled back), managed or
// not: with `managed: false` they have no snapshot, yet their rows exist.
const written = new WeakSet<object>();

/**
 * Notes that a call wrote the entity's row; forgotten if the call's transaction rolls back. A later
 * call that reaches the entity as a related one links it rather than inserting it again (flush would
 * insert an entity without a snapshot, and fail on its key).
 */
export function noteWritten(entity: object, undo: UndoLog): void {
  if (written.has(entity)) return;
  written.add(entity);
  undo.push(forget, entity);
}

function forget(entity: object): void {
  written.delete(entity);
}

/** Whether a cohort call wrote the entity's row (see {@link noteWritten}). */
export function wasWritten(entity: object): boolean {
  return written.has(entity);
}
