/**
 * The ORM-neutral description of an entity's table that adapters build from their ORM's metadata.
 * The engine reads and writes entity values only through these accessors.
 */

/** Value kinds the engine validates and serializes. `other` is passed through as text. */
export type ColumnKind =
  | 'smallint'
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'real'
  | 'double'
  | 'boolean'
  | 'string'
  | 'uuid'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'json'
  | 'bytea'
  | 'other';

/** A column's special role, as the ORM declares it. */
export type ColumnRole = 'createDate' | 'updateDate' | 'version' | 'discriminator';

/** How the database generates a column's value when none is sent. */
export type GenerationStrategy = 'increment' | 'identity' | 'uuid' | 'default';

/** One column of the entity's table. */
export interface ColumnModel<E = object> {
  /** Column name in the database. */
  readonly name: string;
  /** Property path on the entity, used in errors (`address.city`). */
  readonly property: string;
  readonly kind: ColumnKind;
  /** The column holds an array of `kind` values (`int4[]`). */
  readonly isArray: boolean;
  readonly nullable: boolean;
  readonly primary: boolean;
  /** Maximum length in characters for varchar/char columns. */
  readonly length?: number;
  /** Numeric columns: total digits. Timestamp columns: fractional digits of seconds (`timestamptz(3)`). */
  readonly precision?: number;
  readonly scale?: number;
  /** Allowed values for enum columns. */
  readonly enumValues?: readonly (string | number)[];
  /** The database fills the column when it is omitted (a DEFAULT, serial, identity). */
  readonly hasDefault: boolean;
  readonly generated?: GenerationStrategy;
  readonly role?: ColumnRole;
  /** Sent on insert when `read` gives `undefined` (e.g. a new version column starts at 1). */
  readonly insertDefault?: unknown;
  /** May be written on insert (false for e.g. `insert: false` columns). */
  readonly insertable: boolean;
  /** May be written on update. */
  readonly updatable: boolean;
  /**
   * An upsert's update writes it when a row gives it (default: {@link updatable}). MikroORM's
   * `em.upsert()` also writes a primary key a row gives, when the conflict target is another key.
   */
  readonly upsertable?: boolean;
  /**
   * Dates of this column must lie in years 1–9999: the ORM sends them as ISO text, which PostgreSQL
   * reads only for those years (MikroORM). Validation refuses others (`range`) before anything is sent.
   */
  readonly isoYearsOnly?: boolean;
  /**
   * The value to send, as the ORM would hand it to its driver (after transformers and the ORM's own
   * serialization). `undefined` means "not set": the database default applies. `prepared` is what
   * {@link EntityModel.prepare} returned for this entity, when the model has it.
   */
  read(entity: E, prepared?: unknown): unknown;
  /** Puts a value returned by the database (as parsed by the driver) back onto the entity. */
  write(entity: E, value: unknown): void;
}

/** How a row is written, as far as its relations matter (an upsert writes only the row's own columns). */
export type RelationWrite = 'insert' | 'update' | 'upsert';

/**
 * What the ORM's own save would write through a relation of a row that cohort does not write (yet):
 * `unsaved reference` — a to-one pointing at an entity without a key (cohort would write NULL);
 * `cascade insert` — new related entities the save would insert; `inverse side` — related rows whose
 * foreign key the save would set or clear; `many-to-many link` — junction rows; `cascade update` — a
 * related entity that is stored already and was changed, which the save would update (TypeORM: through
 * a relation that cascades updates; not reported for MikroORM, whose next flush writes it).
 */
export interface UnwrittenRelation {
  readonly kind: 'unsaved reference' | 'cascade insert' | 'inverse side' | 'many-to-many link' | 'cascade update';
  /** The relation's property on the row's entity (a path through related entities for `cascade update`). */
  readonly property: string;
  /** The related entity class. */
  readonly target: string;
  /** The row's own class, when it is not the model's (single-table inheritance). */
  readonly entityName?: string;
}

/** One entity's table, as the engine sees it. */
export interface EntityModel<E = object> {
  /** Entity name, for messages. */
  readonly name: string;
  readonly schema?: string;
  readonly table: string;
  /** Every column the ORM writes, including join columns and the discriminator. */
  readonly columns: readonly ColumnModel<E>[];
  /** Columns read back after an insert (generated keys, defaults, dates, versions). */
  readonly returningOnInsert: readonly ColumnModel<E>[];
  /** Columns read back after an update (default: update-date and version columns). */
  readonly returningOnUpdate?: readonly ColumnModel<E>[];
  /** Unique column sets other than the primary key (for conflict targets), by constraint name. */
  readonly uniques: readonly { name?: string; columns: readonly string[] }[];
  /**
   * Converts an entity once before its columns are read (called after the before-hooks); the result
   * is passed to every `read` of that row. For ORMs that serialize a whole entity at a time.
   */
  prepare?(entity: E): unknown;
  /**
   * A relation of the entity points to its own kind (a tree, a parent row): a row may need the key
   * of a row in an earlier batch of the same call, so batches are never overlapped.
   */
  readonly refersToItself?: boolean;
  /**
   * The first relation of a row that the ORM's own save would write and cohort does not, if any;
   * `stored` is what the change tracker loaded for a row being updated. Undefined when the entity has
   * no relation that needs a look (worked out once per entity class), so such rows cost nothing.
   */
  readonly unwrittenRelation?: (entity: E, write: RelationWrite, stored?: unknown) => UnwrittenRelation | undefined;
  /**
   * Called for each written entity after returned values are written (the ORM's own clean-up).
   * `upserted`: for an upsert (an insert with `onConflict` update), what happened to the row.
   */
  finishInsert?(entity: E, upserted?: 'inserted' | 'updated' | 'unchanged'): void;
  /**
   * The columns of the entity's row whose values the ORM made for an insert only (an `onCreate`
   * hook filled them): an upsert that finds the row keeps the stored values, as the ORM's upsert
   * does. Called per row of an upsert, after the before-hooks.
   */
  insertOnly?(entity: E): readonly string[] | undefined;
  /**
   * After an upsert, the stored values of the columns a row did not write (it left them undefined,
   * its values were for the insert only, or the update does not write them) come back onto the
   * entity through `write`, as the ORM's upsert reads them back (MikroORM's `em.upsert()`).
   */
  readonly upsertReadsBack?: boolean;
}

/** The primary-key columns of a model. */
export function primaryColumns<E>(model: EntityModel<E>): ColumnModel<E>[] {
  return model.columns.filter((c) => c.primary);
}
