/**
 * The ORM-neutral description of an entity's table that adapters build from their ORM's metadata:
 * pure data, built once per entity class. How values are read from and written to entities comes
 * with each call ({@link EntityAccess}, in adapter/contract.ts).
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
export interface ColumnModel {
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
}

/** How a row is written, as far as its relations matter (an upsert writes only the row's own columns). */
export type RelationWrite = 'insert' | 'update' | 'upsert';

/**
 * What the ORM's own save would write through a relation of a row that cohort does not write (yet):
 * `unsaved reference` — a to-one pointing at an entity without a key (cohort would write NULL);
 * `cascade insert` — new related entities the save would insert; `inverse side` — related rows whose
 * foreign key the save would set or clear; `many-to-many link` — junction rows; `cascade update` — a
 * related entity that is stored already and was changed, which the save would update (TypeORM: through
 * a relation that cascades updates — reported only where the call cannot update it: an entity of the
 * rows' own table (see `ChangeTracker.changedRelations`); not reported for MikroORM, whose next flush
 * writes it).
 */
export interface UnwrittenRelation {
  readonly kind:
    | 'unsaved reference'
    | 'cascade insert'
    | 'inverse side'
    | 'many-to-many link'
    | 'cascade update'
    | 'unmanaged in a collection';
  /** The relation's property on the row's entity (a path through related entities for `cascade update`). */
  readonly property: string;
  /** The related entity class. */
  readonly target: string;
  /** The row's own class, when it is not the model's (single-table inheritance). */
  readonly entityName?: string;
  /** What the caller can do instead, when the kind's usual advice does not fit the case. */
  readonly advice?: string;
  /**
   * Held by a stored related entity the row reaches (`cascade insert`): the change tracker's
   * `changedRelations` may take that entity into the call's writes (its update inserts what it
   * holds), so a check made before that look-up leaves it for the check made after it.
   */
  readonly heldByStored?: boolean;
}

/**
 * The junction table of a many-to-many relation, where the links a write adds or removes go (see
 * `EntityAccess.links`). One object per relation side, kept by the adapter (its catalog is read once).
 */
export interface JunctionTable {
  readonly schema?: string;
  readonly table: string;
  /** Its columns, in the order of a link's values: the owning side's join columns, then the inverse side's. */
  readonly columns: readonly string[];
  /**
   * Set when the "links" are not junction rows but a one-to-many's child rows whose foreign key the
   * write sets (an item added) or clears (an item removed, written as NULL): `columns` are then the
   * child's primary key, then its foreign-key columns, and both kinds are sent as one UPDATE.
   */
  readonly foreignKey?: ForeignKeyUpdate;
}

/** How the ORM's save updates a one-to-many item's foreign key (the inverse side of the relation). */
export interface ForeignKeyUpdate {
  /** How many of the table's `columns`, first, are the child's primary key (the others are set). */
  readonly keyColumns: number;
  /**
   * The row's columns the items' foreign key references, in the order of its columns: how the engine
   * tells which row of the call held an item before another row took it (item-moves.ts). Without it,
   * every stored row of a later batch is taken for that holder.
   */
  readonly referenced?: readonly string[];
  /** Columns the ORM's UPDATE sets to the current time (update dates). */
  readonly now?: readonly string[];
  /** Columns the ORM's UPDATE increments (versions). */
  readonly increment?: readonly string[];
  /**
   * What becomes of an item removed from the collection when its foreign key is not cleared: its row
   * is deleted, or soft-deleted (TypeORM's `orphanedRowAction: 'delete'` / `'soft-delete'`). One
   * statement per batch and table, after the foreign-key updates; the removed items are then not in
   * the UPDATE.
   */
  readonly orphans?: OrphanRemoval;
}

/**
 * How the ORM's save removes a one-to-many's orphaned items: `delete` deletes their rows by primary
 * key (no version check); `soft-delete` sets `deleteDate` (and `updateDate`) to the current time and
 * increments `version`, on rows not soft-deleted yet.
 */
export type OrphanRemoval =
  | { readonly action: 'delete' }
  | { readonly action: 'soft-delete'; readonly deleteDate: string; readonly updateDate?: string; readonly version?: string };

/** One entity's table, as the engine sees it. */
export interface EntityModel {
  /** Entity name, for messages. */
  readonly name: string;
  readonly schema?: string;
  readonly table: string;
  /** Every column the ORM writes, including join columns and the discriminator. */
  readonly columns: readonly ColumnModel[];
  /** Columns read back after an insert (generated keys, defaults, dates, versions). */
  readonly returningOnInsert: readonly ColumnModel[];
  /** Columns read back after an update (default: update-date and version columns). */
  readonly returningOnUpdate?: readonly ColumnModel[];
  /** Unique column sets other than the primary key (for conflict targets), by constraint name. */
  readonly uniques: readonly { name?: string; columns: readonly string[] }[];
  /**
   * A relation of the entity points to its own kind (a tree, a parent row): a row may need the key
   * of a row in an earlier batch of the same call, so batches are never overlapped.
   */
  readonly refersToItself?: boolean;
  /**
   * After an upsert, the stored values of the columns a row did not write (it left them undefined,
   * its values were for the insert only, or the update does not write them) come back onto the
   * entity through `write`, as the ORM's upsert reads them back (MikroORM's `em.upsert()`).
   */
  readonly upsertReadsBack?: boolean;
}

/** The primary-key columns of a model. */
export function primaryColumns<C extends ColumnModel>(model: { readonly columns: readonly C[] }): C[] {
  return model.columns.filter((c) => c.primary);
}
