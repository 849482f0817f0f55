import { UnsupportedFeatureError } from '@cohort/core';
import type { ColumnKind, ColumnModel, EntityAccess, EntityModel } from '@cohort/core/adapter';
import type { DataSource, EntityMetadata, ObjectLiteral } from 'typeorm';
import { noteSent, takeSnapshot } from './entity-snapshots.js';
import { isDetached, relationsWithPropertyJoinColumns, setJoinColumnProperties } from './relation-id-columns.js';
import { TransformedValues } from './transformed-values.js';
import { SCALAR_TYPE_NAMES } from './typeorm-column-types.js';
import { heldBy } from './typeorm-held-items.js';
import type { ColumnMetadata } from './typeorm-internals.js';
import { typeormLinkFinder } from './typeorm-links.js';
import { typeormRelationFinder } from './typeorm-relation-finder.js';
import { refersToOwnTable, typeormSelfReferences, typeormTreeUpdate } from './typeorm-self-references.js';

/** TypeORM's normalized PostgreSQL type names → the engine's value kinds. */
const KINDS: Record<string, ColumnKind> = {
  smallint: 'smallint',
  integer: 'integer',
  int4: 'integer',
  bigint: 'bigint',
  numeric: 'numeric',
  decimal: 'numeric',
  real: 'real',
  'double precision': 'double',
  boolean: 'boolean',
  'character varying': 'string',
  character: 'string',
  varchar: 'string',
  char: 'string',
  text: 'string',
  citext: 'string',
  uuid: 'uuid',
  date: 'date',
  'time without time zone': 'time',
  'time with time zone': 'time',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  json: 'json',
  jsonb: 'json',
  bytea: 'bytea',
  enum: 'other',
};

/**
 * Column types for which PostgresDriver.preparePersistentValue returns every value unchanged (no
 * branch of it matches them; the `Boolean` constructor does, the string 'boolean' does not).
 */
const UNCHANGED_TYPES = new Set<unknown>([Number, String, 'bytea', ...SCALAR_TYPE_NAMES]);

/** Types preparePersistentValue turns into a Date only when given a string (mixedDateToDate). */
const DATE_TYPES = new Set<unknown>([
  Date,
  'datetime',
  'timestamp',
  'timestamptz',
  'timestamp with time zone',
  'timestamp without time zone',
]);

/**
 * How to read a column's value as save() hands it to the driver: through preparePersistentValue,
 * or, where that call returns its input unchanged (PostgreSQL's own driver, no transformer, a type
 * above), without it — it runs once per row and column.
 */
function persistentValueOf(dataSource: DataSource, column: ColumnMetadata): (value: unknown) => unknown {
  const driver = dataSource.driver;
  const prepare = (value: unknown) => driver.preparePersistentValue(value, column);
  if (dataSource.options.type !== 'postgres' || column.transformer) return prepare;
  if (UNCHANGED_TYPES.has(column.type)) return (value) => value;
  if (DATE_TYPES.has(column.type)) return (value) => (typeof value === 'string' ? prepare(value) : value);
  return prepare;
}

/**
 * save() takes a function as a column's value (`() => 'now()'`, also one a transformer's `to()`
 * returns) for SQL to splice into that row's statement. cohort sends values as parameters, one
 * statement per batch, so such a value is refused, not sent (the driver would make it NULL).
 */
function refusingSql(
  metadata: EntityMetadata,
  column: ColumnMetadata,
  persistent: (value: unknown) => unknown,
): (value: unknown) => unknown {
  const refuse = (): never => {
    throw new UnsupportedFeatureError(
      'raw SQL value',
      `${metadata.name}.${column.propertyPath} holds a function, which save() takes for raw SQL; cohort sends values as parameters, ` +
        'one statement per batch, and does not evaluate SQL per row: set the value itself, or (bulkUpdate, bulkSave) ' +
        'give the column an `expressions` entry',
      { entityName: metadata.name, property: column.propertyPath },
    );
  };
  return (value) => {
    if (typeof value === 'function') refuse();
    const sent = persistent(value);
    if (typeof sent === 'function') refuse();
    return sent;
  };
}

/**
 * An entity as the engine sees it: its table (pure data) and how to read and write its objects,
 * both worked out once per entity metadata (TypeORM needs nothing per call). `upsertAccess` reads
 * transformed columns as TypeORM's upsert() does (a transformer's to() gets the entity's own value;
 * save() a copy: see TransformedValues).
 */
export interface TypeormEntity<E> {
  readonly model: EntityModel;
  readonly access: EntityAccess<E>;
  readonly upsertAccess: EntityAccess<E>;
}

/** A column's reader and writer, by column. */
type Accessors = Map<
  ColumnModel,
  { read: (entity: ObjectLiteral, prepared?: unknown) => unknown; write: (entity: ObjectLiteral, value: unknown) => void }
>;

const cache = new WeakMap<EntityMetadata, TypeormEntity<ObjectLiteral>>();

/** Reads (once per metadata) TypeORM's metadata of an entity into the engine's model and access. */
export function readTypeormEntity<E extends ObjectLiteral>(dataSource: DataSource, metadata: EntityMetadata): TypeormEntity<E> {
  let entity = cache.get(metadata);
  if (!entity) {
    entity = buildEntity(dataSource, metadata);
    cache.set(metadata, entity);
  }
  return entity as unknown as TypeormEntity<E>;
}

/** The engine's model of an entity (see {@link readTypeormEntity}). */
export function readTypeormModel(dataSource: DataSource, metadata: EntityMetadata): EntityModel {
  return readTypeormEntity(dataSource, metadata).model;
}

function buildEntity(dataSource: DataSource, metadata: EntityMetadata): TypeormEntity<ObjectLiteral> {
  // TypeORM inserts every column marked isInsert, including the virtual join columns of relations;
  // an `insert: false` column is still updated (`update` left true), and read back after an insert
  // when it has a default, as save() does (its `insertable` is false).
  const readBack = new Set(metadata.getInsertionReturningColumns());
  const accessors: Accessors = new Map();
  const columns = metadata.columns
    .filter((c) => c.isInsert || c.isUpdate || readBack.has(c))
    .map((c) => {
      const { column, read, write } = columnModel(dataSource, metadata, c);
      accessors.set(column, { read, write });
      return column;
    });
  const byName = new Map(columns.map((c) => [c.name, c]));
  // What save() reads back after an UPDATE: update-date and version columns.
  const returningOnUpdate = metadata.columns
    .filter((c) => c.isUpdateDate || c.isVersion)
    .map((c) => byName.get(c.databaseName))
    .filter((c): c is ColumnModel => c !== undefined);
  const returningOnInsert = metadata
    .getInsertionReturningColumns()
    .map((c) => byName.get(c.databaseName))
    .filter((c): c is ColumnModel => c !== undefined);
  const uniques = [
    ...metadata.uniques.map((u) => ({ name: u.name, columns: u.columns.map((c) => c.databaseName) })),
    ...metadata.indices.filter((i) => i.isUnique).map((i) => ({ name: i.name, columns: i.columns.map((c) => c.databaseName) })),
  ];
  const model: EntityModel = {
    name: metadata.name,
    schema: metadata.schema,
    table: metadata.tableName,
    columns,
    returningOnInsert,
    returningOnUpdate,
    uniques,
    // A join column to the entity's own table (a tree's parent): see EntityModel.refersToItself.
    refersToItself: metadata.relations.some((r) => refersToOwnTable(metadata, r)),
  };
  const upsertAccess = entityAccess(dataSource, metadata, accessors);
  // Transformer columns are read through a per-row TransformedValues (see there).
  const prepare = metadata.columns.some((c) => c.transformer)
    ? (entity: ObjectLiteral) => {
        const values = new TransformedValues();
        noteSent(dataSource, entity, values);
        return values;
      }
    : undefined;
  return { model, access: { ...upsertAccess, prepare }, upsertAccess };
}

/** How the engine reads and writes an entity's objects, as save() does. */
function entityAccess(dataSource: DataSource, metadata: EntityMetadata, accessors: Accessors): EntityAccess<ObjectLiteral> {
  const accessor = (column: ColumnModel) => {
    const found = accessors.get(column);
    if (!found) throw new Error(`cohort internal error: no accessor for column ${column.name} of ${metadata.name}`);
    return found;
  };
  return {
    reader: (column) => accessor(column).read,
    writer: (column) => accessor(column).write,
    unwrittenRelation: typeormRelationFinder(metadata),
    selfReferences: typeormSelfReferences(metadata),
    treeUpdate: typeormTreeUpdate(dataSource, metadata, (entity, name, value) => {
      const column = [...accessors.keys()].find((c) => c.name === name);
      if (column) accessor(column).write(entity, value);
    }),
    // After its links are written, a row's snapshot holds them (its next diff starts from there).
    links: typeormLinkFinder(metadata, (entity) => takeSnapshot(dataSource, entity)),
    // save() builds its junction subjects before its before-hooks: a link a hook adds is not written.
    linksBeforeHooks: true,
    // save() builds no subjects for a one-to-many left undefined: it reads none of its stored items.
    holdsRelation: (entity, property) =>
      metadata.findInheritanceMetadata(entity).findRelationWithPropertyPath(property)?.getEntityValue(entity) !== undefined,
    finishInsert: (entity, upserted) => {
      // TypeORM's upsert() puts only the returned values on its objects; save() also nulls the rest.
      if (!upserted) {
        setUnsetNullablesToNull(dataSource, metadata, entity);
        // Then, as save(), a join column declared as a property takes the key of the relation written.
        const relations = relationsWithPropertyJoinColumns(metadata.findInheritanceMetadata(entity));
        if (relations.length > 0) setJoinColumnProperties(entity, relations);
      }
      takeSnapshot(dataSource, entity);
    },
  };
}

/** A column of the model, with its reader and writer. */
interface ReadColumn {
  readonly column: ColumnModel;
  read(entity: ObjectLiteral, prepared?: unknown): unknown;
  write(entity: ObjectLiteral, value: unknown): void;
}

function columnModel(dataSource: DataSource, metadata: EntityMetadata, column: ColumnMetadata): ReadColumn {
  const driver = dataSource.driver;
  const normalized = driver.normalizeType(column);
  const kind = KINDS[normalized] ?? 'other';
  const length = column.length ? Number(column.length) : undefined;
  const increment = column.isGenerated && column.generationStrategy === 'increment';
  const generated = column.isGenerated
    ? (column.generationStrategy as string) === 'identity'
      ? 'identity'
      : column.generationStrategy === 'uuid'
        ? 'uuid'
        : 'increment'
    : undefined;
  const role = column.isCreateDate
    ? 'createDate'
    : column.isUpdateDate
      ? 'updateDate'
      : column.isVersion
        ? 'version'
        : column.isDiscriminator
          ? 'discriminator'
          : undefined;
  const hasDefault = column.default !== undefined || column.isGenerated || role !== undefined || Boolean(column.asExpression);
  const persistent = refusingSql(metadata, column, persistentValueOf(dataSource, column));
  const model: ColumnModel = {
    name: column.databaseName,
    property: column.propertyPath,
    kind,
    isArray: column.isArray,
    nullable: column.isNullable,
    primary: column.isPrimary,
    length: kind === 'string' && Number.isFinite(length) ? length : undefined,
    precision: column.precision ?? undefined,
    scale: column.scale ?? undefined,
    enumValues: column.enum?.length ? column.enum : undefined,
    hasDefault,
    generated,
    role,
    // As save(): serial keys are never inserted (an explicit id is dropped), a new version starts at 1.
    insertable: column.isInsert && !increment,
    updatable: column.isUpdate,
    insertDefault: column.isVersion ? 1 : undefined,
  };
  return {
    column: model,
    read(entity, prepared) {
      // The discriminator comes from the entity's own class; the driver prepares the rest.
      if (column.isDiscriminator) return metadata.findInheritanceMetadata(entity).discriminatorValue;
      // An update that detaches the relation writes NULL, though the join column's property holds the old key.
      if (column.relationMetadata && isDetached(entity, column)) return null;
      // A lazy relation never assigned is not loaded, as save() leaves it: its getter would load it.
      if (column.relationMetadata?.isLazy && !lazyHolds(entity, column)) return undefined;
      if (column.transformer && prepared instanceof TransformedValues) return prepared.read(column, entity, persistent);
      const value = column.getEntityValue(entity);
      // A new item inserted with its holder, its own reference unset: the holder's key, as save().
      const holder = value === undefined && column.relationMetadata ? heldBy(entity, column.relationMetadata) : undefined;
      if (holder && column.referencedColumn) return persistent(column.referencedColumn.getEntityValue(holder));
      return persistent(value);
    },
    write(entity, value) {
      column.setEntityValue(entity, driver.prepareHydratedValue(value, column));
    },
  };
}

/**
 * Whether the lazy relation of a join column holds a value the application assigned (TypeORM keeps
 * it in `__property__`; the property's getter would query the related row otherwise).
 */
function lazyHolds(entity: ObjectLiteral, column: ColumnMetadata): boolean {
  const relation = column.relationMetadata as NonNullable<ColumnMetadata['relationMetadata']>;
  const holder = relation.embeddedMetadata
    ? relation.embeddedMetadata.parentPropertyNames.reduce<ObjectLiteral | undefined>((o, name) => o?.[name], entity)
    : entity;
  return holder?.[`__${relation.propertyName}__`] !== undefined;
}

/**
 * As save() after inserting or updating a row: nullable columns left undefined read `null`
 * afterwards (not a child class's columns).
 */
export function setUnsetNullablesToNull(dataSource: DataSource, root: EntityMetadata, entity: ObjectLiteral): void {
  const metadata = dataSource.getMetadata(root.target).findInheritanceMetadata(entity);
  for (const column of nullableColumns(metadata)) {
    if (column.getEntityValue(entity) === undefined) column.setEntityValue(entity, null);
  }
}

const nullables = new WeakMap<EntityMetadata, ColumnMetadata[]>();

/** The columns setUnsetNullablesToNull fills, worked out once per entity metadata (it runs per row). */
function nullableColumns(metadata: EntityMetadata): ColumnMetadata[] {
  let columns = nullables.get(metadata);
  if (!columns) {
    const childTargets = metadata.childEntityMetadatas.map((m) => m.target);
    columns = metadata.columns.filter((c) => !childTargets.includes(c.target) && !c.isVirtual && !c.isDeleteDate && c.isNullable);
    nullables.set(metadata, columns);
  }
  return columns;
}
