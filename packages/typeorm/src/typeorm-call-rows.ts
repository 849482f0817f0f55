import type { EntityMetadata, ObjectLiteral } from 'typeorm';

/**
 * The rows of the whole call, for the stored entities of the rows' own table that a batch reaches
 * (see findChangedRelation): save() takes another object with a row's key for that row, whichever
 * batch cohort puts the row in. Known for an array or Set input; a stream's later rows are not.
 * Also the stored related entities earlier batches reached, by key: save() takes the first object
 * reached per key for every later one (CascadesSubjectBuilder.findByPersistEntityLike).
 */
export class CallRows {
  readonly #rows: readonly ObjectLiteral[] | undefined;
  #byKey?: Map<string, { row: ObjectLiteral; index: number }>;
  // By table and key, the first object reached, weakly: a stream's earlier rows and what they reach
  // are not kept alive by the call (an object collected is not the one asked about: a copy).
  readonly #reached = new Map<string, WeakRef<ObjectLiteral>>();

  constructor(input: unknown) {
    this.#rows = Array.isArray(input) ? input : input instanceof Set ? [...input] : undefined;
  }

  /** Whether the later rows are unknown (an async or other one-pass iterable). */
  get streamed(): boolean {
    return this.#rows === undefined;
  }

  /** The first row of the call with the entity's key, by the class of the rows' table; with its index. */
  withKey(
    metadata: EntityMetadata,
    md: EntityMetadata,
    entity: ObjectLiteral,
  ): { row: ObjectLiteral; index: number } | undefined {
    if (!this.#byKey) {
      // Keys as the rows hold them when first asked: the stored rows' keys do not change.
      this.#byKey = new Map();
      this.#rows?.forEach((row, index) => {
        if (row === null || typeof row !== 'object') return;
        const own = metadata.findInheritanceMetadata(row);
        const key = own.hasAllPrimaryKeys(row) ? keyText(own, row) : undefined;
        if (key !== undefined && !this.#byKey?.has(key)) this.#byKey?.set(key, { row, index });
      });
    }
    return this.#byKey.get(keyText(md, entity));
  }

  /** Whether an earlier batch of the call reached another object with the entity's key. */
  reachedCopy(md: EntityMetadata, entity: ObjectLiteral): boolean {
    const earlier = this.#reached.get(tableKey(md, entity));
    return earlier !== undefined && earlier.deref() !== entity;
  }

  /** Notes a stored related entity a batch reached (the first object per key stays). */
  noteReached(md: EntityMetadata, entity: ObjectLiteral): void {
    const key = tableKey(md, entity);
    if (!this.#reached.has(key)) this.#reached.set(key, new WeakRef(entity));
  }
}

/** An entity's key as text, to match loaded rows with the entities they were loaded for. */
export function keyText(md: EntityMetadata, entity: ObjectLiteral): string {
  return JSON.stringify(md.primaryColumns.map((c) => String(c.getEntityValue(entity))));
}

/** An entity's key with its table: one stored row. */
export function tableKey(md: EntityMetadata, entity: ObjectLiteral): string {
  return `${md.tablePath} ${keyText(md, entity)}`;
}
