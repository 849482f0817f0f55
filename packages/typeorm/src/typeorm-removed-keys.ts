import type { EntityMetadata, ObjectLiteral } from 'typeorm';

/**
 * Leaves removed entities as TypeORM's remove() leaves them — every primary-key property set to
 * undefined — and puts the keys back if the transaction that removed them rolls back (remove()
 * unsets them only once its statements ran; a failed bulk call removed nothing). Other changes to
 * objects that a rollback undoes are recorded here too (the values put on cascaded entities).
 */
export class RemovedKeys {
  private readonly undo: (() => void)[] = [];

  constructor(private readonly metadata: EntityMetadata) {}

  /** Unsets the entity's key, as remove() does after its DELETE. */
  unset(entity: ObjectLiteral): void {
    const columns = this.metadata.findInheritanceMetadata(entity).primaryColumns;
    const values = columns.map((column) => column.getEntityValue(entity));
    for (const column of columns) column.setEntityValue(entity, undefined);
    this.undo.push(() => {
      columns.forEach((column, i) => {
        column.setEntityValue(entity, values[i]);
      });
    });
  }

  /** Records how to undo another change to an object, should the transaction roll back. */
  undoOnRollBack(step: () => void): void {
    this.undo.push(step);
  }

  /** Puts back every key unset so far, newest first. */
  restore(): void {
    for (let undo = this.undo.pop(); undo; undo = this.undo.pop()) undo();
  }
}
