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
  readonly #reached = new Map<string, ObjectLiteral>();

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

  /** Another object with the entity's key that an earlier batch of the call reached, if any. */
  reachedCopy(md: EntityMetadata, entity: ObjectLiteral): ObjectLiteral | undefined {
    const earlier = this.#reached.get(tableKey(md, entity));
    return earlier !== undefined && earlier !== entity ? earlier : undefined;
  }

  /** Notes a stored related entity a batch reached (the first object per key stays). */
  noteReached(md: EntityMetadata, entity: ObjectLiteral): void {
    const key = tableKey(md, entity);
    if (!this.#reached.has(key)) this.#reached.set(key, entity);
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
