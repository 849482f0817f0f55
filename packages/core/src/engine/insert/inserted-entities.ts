/** What a relation finder asks of the entities one call inserts. */
export interface EntityGraph {
  has(entity: object): boolean;
}

/**
 * The entities one call inserts: its rows and the new related entities it inserts with them
 * (cascade). Every row of an array input is written by the call, in its batch: a one-to-many item
 * that is a row of a later batch (a new shop's orders) is written there, once the holder has its key.
 * A stream's later rows are unknown until their batch.
 */
export class InsertedEntities implements EntityGraph {
  readonly #entities = new WeakSet<object>();

  constructor(input?: unknown) {
    if (Array.isArray(input)) for (const row of input) if (typeof row === 'object' && row !== null) this.#entities.add(row);
  }

  has(entity: object): boolean {
    return this.#entities.has(entity);
  }

  add(entity: object): void {
    this.#entities.add(entity);
  }
}
