/** What a relation finder asks of the entities one call inserts. */
export interface EntityGraph {
  has(entity: object): boolean;
}

/**
 * The entities one call inserts: its rows and the new related entities it inserts with them
 * (cascade). Every row of an array input is written by the call, in its batch: a one-to-many item
 * that is a row of a later batch (a new shop's orders) is written there, once the holder has its key.
 * A stream's later rows are unknown until their batch.
 *
 * Held weakly, so that a stream's written entities can be collected once the application lets go of
 * them; `strong` holds them in a plain set, cheaper to fill and free of the garbage collector's
 * per-entry ephemeron work, for a caller that keeps them alive anyway (an ORM session holding every
 * entity it wrote).
 */
export class InsertedEntities implements EntityGraph {
  readonly #entities: WeakSet<object> | Set<object>;

  constructor(input?: unknown, strong = false) {
    this.#entities = strong ? new Set() : new WeakSet();
    if (Array.isArray(input)) for (const row of input) if (typeof row === 'object' && row !== null) this.#entities.add(row);
  }

  has(entity: object): boolean {
    return this.#entities.has(entity);
  }

  add(entity: object): void {
    this.#entities.add(entity);
  }
}
