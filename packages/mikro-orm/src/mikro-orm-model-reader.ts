import {
  type ColumnKind,
  type ColumnModel,
  type ColumnRole,
  type EntityModel,
  type GenerationStrategy,
  inIsoYears,
  utcIsoText,
} from '@cohort/core/adapter';
import {
  ArrayType,
  type DatabaseDriver,
  type EntityData,
  EntityIdentifier,
  type EntityMetadata,
  type EntityProperty,
  type Platform,
  ReferenceKind,
} from '@mikro-orm/core';
import { embeddedValue } from './mikro-orm-relation-finder.js';

/** PostgreSQL type names (as MikroORM spells column types) → the engine's value kinds. */
const KINDS: Record<string, ColumnKind> = {
  smallint: 'smallint',
  int2: 'smallint',
  int: 'integer',
  integer: 'integer',
  int4: 'integer',
  serial: 'integer',
  bigint: 'bigint',
  int8: 'bigint',
  bigserial: 'bigint',
  numeric: 'numeric',
  decimal: 'numeric',
  real: 'real',
  float4: 'real',
  float: 'double',
  float8: 'double',
  double: 'double',
  'double precision': 'double',
  boolean: 'boolean',
  bool: 'boolean',
  varchar: 'string',
  'character varying': 'string',
  char: 'string',
  character: 'string',
  bpchar: 'string',
  text: 'string',
  citext: 'string',
  uuid: 'uuid',
  date: 'date',
  time: 'time',
  timetz: 'time',
  'time without time zone': 'time',
  'time with time zone': 'time',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  json: 'json',
  jsonb: 'json',
  bytea: 'bytea',
};

// Metadata of an entity type the reader does not know.
type AnyEntity = any;
type Prepared = EntityData<AnyEntity> & Record<string, unknown>;

/** What the model needs from the EntityManager it was read for (all per ORM instance, not per call). */
export interface ModelEnvironment {
  readonly platform: Platform;
  /** The schema the table lives in (`meta.schema`, else the call's, else the config's). */
  readonly schema: string | undefined;
}

/** A column's reader: its value from the entity and its `prepareEntity` payload (see EntityAccess.reader). */
export type ColumnReader = (entity: AnyEntity, prepared?: unknown) => unknown;

/**
 * An entity as the engine sees it, worked out once per entity and schema: its table (pure data) and
 * each column's reader. Writing values back and the rest of a row's handling belong to the call
 * (MikroOrmWriteContext), which builds the call's access from this.
 */
export interface MikroOrmEntity {
  readonly model: EntityModel;
  readonly readers: ReadonlyMap<ColumnModel, ColumnReader>;
  /** Some property has an `onCreate`: an upsert asks which columns a row's values are for the insert only. */
  readonly hasOnCreate: boolean;
}

const cache = new WeakMap<EntityMetadata<AnyEntity>, Map<string, MikroOrmEntity>>();

/**
 * Reads (once per entity and schema) MikroORM's metadata of an entity into the engine's model. The
 * model reads every value from `comparator.prepareEntity(entity)` — the snapshot flush itself sends
 * as the INSERT payload — so custom types, embeddables, relations and the STI discriminator come out
 * exactly as flush would write them.
 */
export function readMikroOrmEntity(meta: EntityMetadata<AnyEntity>, env: ModelEnvironment): MikroOrmEntity {
  const key = env.schema ?? '';
  let bySchema = cache.get(meta);
  if (!bySchema) {
    bySchema = new Map();
    cache.set(meta, bySchema);
  }
  let entity = bySchema.get(key);
  if (!entity) {
    entity = buildEntity(meta, env);
    bySchema.set(key, entity);
  }
  return entity;
}

/** The engine's model of an entity (see {@link readMikroOrmEntity}). */
export function readMikroOrmModel(meta: EntityMetadata<AnyEntity>, env: ModelEnvironment): EntityModel {
  return readMikroOrmEntity(meta, env).model;
}

function buildEntity(meta: EntityMetadata<AnyEntity>, env: ModelEnvironment): MikroOrmEntity {
  // Single-table inheritance: the root's table and the union of every class's columns, so a batch
  // may mix subclasses (a row leaves the columns of other subclasses to NULL, as flush does).
  const root = meta.root;
  const columns: ColumnModel[] = [];
  const readers = new Map<ColumnModel, ColumnReader>();
  const byProperty = new Map<string, ColumnModel[]>();
  const seen = new Set<string>();
  for (const prop of root.props) {
    if (!isWritten(prop)) continue;
    const own = prop.fieldNames.map((field, i) => {
      const { column, read } = columnModel(root, prop, field, i, env.platform);
      readers.set(column, read);
      return column;
    });
    for (const column of own) {
      // STI subclasses may map one column from several properties; the first wins, as in the DDL.
      if (seen.has(column.name)) continue;
      seen.add(column.name);
      columns.push(column);
    }
    byProperty.set(prop.name, own);
  }
  // Stored generated columns: never written, read back after an insert and an update, as flush does.
  const computed: ColumnModel[] = [];
  for (const prop of root.props) {
    if (!isReadBackComputed(prop)) continue;
    for (const [i, field] of prop.fieldNames.entries()) {
      if (seen.has(field)) continue;
      seen.add(field);
      const { column: own, read } = columnModel(root, prop, field, i, env.platform);
      const column = {
        ...own,
        insertable: false,
        updatable: false,
        upsertable: false,
        hasDefault: true,
      };
      readers.set(column, read);
      columns.push(column);
      computed.push(column);
    }
  }
  const returningProps = root.props.filter(
    (p) =>
      isWritten(p) && (p.primary || p.version || p.autoincrement || p.defaultRaw !== undefined || p.returning || isIdentity(p)),
  );
  const returningOnInsert = [
    ...returningProps.flatMap((p) => byProperty.get(p.name) ?? []).filter((c) => seen.has(c.name)),
    ...computed,
  ];
  // Without generated columns the engine's default (the version) is what an UPDATE returns.
  const returningOnUpdate = computed.length > 0 ? [...columns.filter((c) => c.role === 'version'), ...computed] : undefined;
  const uniques = [
    ...root.uniques.map((u) => ({
      name: typeof u.name === 'string' ? u.name : undefined,
      columns: propertyNames(u.properties).flatMap((name) => byProperty.get(name)?.map((c) => c.name) ?? []),
    })),
    ...root.props
      .filter((p) => p.unique && isWritten(p))
      .map((p) => ({ name: typeof p.unique === 'string' ? p.unique : undefined, columns: p.fieldNames })),
  ].filter((u) => u.columns.length > 0);

  const model: EntityModel = {
    name: meta.className,
    schema: env.schema,
    table: root.tableName,
    columns,
    returningOnInsert,
    returningOnUpdate,
    uniques,
    // An owning to-one to the entity's own table (a tree's parent): see EntityModel.refersToItself.
    refersToItself: root.props.some(
      (p) =>
        (p.kind === ReferenceKind.MANY_TO_ONE || (p.kind === ReferenceKind.ONE_TO_ONE && p.owner)) &&
        p.targetMeta?.root.tableName === root.tableName,
    ),
    upsertReadsBack: true,
  };
  return { model, readers, hasOnCreate: root.props.some((p) => p.onCreate) };
}

/** Properties flush writes on insert: scalars, inline-embedded scalars, object embeddables, owning to-one FKs. */
function isWritten(prop: EntityProperty<AnyEntity>): boolean {
  if (prop.persist === false || prop.formula || prop.fieldNames === undefined || prop.fieldNames.length === 0) return false;
  if (isComputed(prop)) return false;
  switch (prop.kind) {
    case ReferenceKind.SCALAR:
      return true;
    case ReferenceKind.EMBEDDED:
      // An inline embeddable is written through its flattened scalar properties instead.
      return Boolean(prop.object);
    case ReferenceKind.MANY_TO_ONE:
      return true;
    case ReferenceKind.ONE_TO_ONE:
      return Boolean(prop.owner);
    default:
      return false;
  }
}

function isIdentity(prop: EntityProperty<AnyEntity>): boolean {
  return typeof prop.generated === 'string' && /identity/i.test(prop.generated);
}

/** A stored generated scalar column of the table: read back, never written. */
function isReadBackComputed(prop: EntityProperty<AnyEntity>): boolean {
  return (
    isComputed(prop) &&
    prop.kind === ReferenceKind.SCALAR &&
    prop.persist !== false &&
    !prop.formula &&
    (prop.fieldNames?.length ?? 0) > 0
  );
}

/** `GENERATED ALWAYS AS (…) STORED`: PostgreSQL refuses values for it. */
function isComputed(prop: EntityProperty<AnyEntity>): boolean {
  return prop.generated !== undefined && !isIdentity(prop);
}

function propertyNames(properties: unknown): string[] {
  const list = Array.isArray(properties) ? properties : properties === undefined ? [] : [properties];
  return list.filter((p): p is string => typeof p === 'string');
}

function columnModel(
  meta: EntityMetadata<AnyEntity>,
  prop: EntityProperty<AnyEntity>,
  field: string,
  position: number,
  platform: Platform,
): { column: ColumnModel; read: ColumnReader } {
  const columnType = (prop.columnTypes?.[position] ?? prop.type ?? '').toString().toLowerCase();
  const isArray = columnType.endsWith('[]') || prop.customType instanceof ArrayType;
  const base = columnType
    .replace(/\[\]$/, '')
    .replace(/\(.*\)/, '')
    .trim();
  const kind: ColumnKind = prop.object ? 'json' : (KINDS[base] ?? 'other');
  const declaredLength = /\((\d+)\)/.exec(columnType)?.[1];
  const length = kind === 'string' ? (prop.length ?? (declaredLength ? Number(declaredLength) : undefined)) : undefined;
  const generated: GenerationStrategy | undefined = isIdentity(prop)
    ? 'identity'
    : prop.autoincrement
      ? 'increment'
      : prop.primary && prop.defaultRaw !== undefined
        ? kind === 'uuid'
          ? 'uuid'
          : 'default'
        : undefined;
  // `onUpdate` values are set on the entity and written like any change, as flush does, so no
  // column gets the engine's `updateDate` role. What `onCreate` makes is for the insert only (an
  // upsert that finds the row keeps the stored value): per row, see EntityModel.insertOnly.
  const role: ColumnRole | undefined = prop.version
    ? 'version'
    : meta.discriminatorColumn === prop.name
      ? 'discriminator'
      : undefined;
  const hasDefault = prop.default != null || prop.defaultRaw != null || generated !== undefined || prop.version === true;
  const enumValues =
    prop.enum && Array.isArray(prop.items) && prop.items.length > 0 ? (prop.items as (string | number)[]) : undefined;
  const utc = platform.getTimezone() === 'Z';
  const zoned = kind === 'timestamptz' && !isArray;
  const composite = prop.fieldNames.length > 1;
  // STI subclasses that map a property of one name to different columns (GH5813): the root keeps
  // one property per column, all named alike, and each row writes only its own class's column.
  const stiFields = meta.properties[prop.name]?.stiFieldNameMap;
  const stiColumn = stiFields && meta.discriminatorColumn && Object.values(stiFields).includes(field);
  // ArrayType keeps its element mapper private; it is what flush applies before marshalling.
  const arrayType =
    prop.customType instanceof ArrayType ? (prop.customType as unknown as { toDbValue(item: unknown): unknown }) : undefined;
  const textArray = isArray && kind === 'string';
  const objectEmbeddable = prop.kind === ReferenceKind.EMBEDDED && Boolean(prop.object) && prop.embeddedProps !== undefined;

  const column: ColumnModel = {
    name: field,
    property: prop.embedded ? prop.embedded.join('.') : composite ? `${prop.name}.${position}` : prop.name,
    kind,
    isArray,
    nullable: Boolean(prop.nullable),
    primary: Boolean(prop.primary),
    length,
    // A datetime property's `length` is its fractional precision (a Date version's: 3 by default).
    precision: kind === 'numeric' ? prop.precision : kind === 'timestamp' || kind === 'timestamptz' ? prop.length : undefined,
    scale: kind === 'numeric' ? prop.scale : undefined,
    enumValues,
    hasDefault,
    generated,
    role,
    insertable: true,
    updatable: !prop.primary,
    // `em.upsert()` merges every value a row gives but the conflict target's, a primary key too.
    upsertable: true,
    isoYearsOnly: kind === 'date' || kind === 'timestamp' || kind === 'timestamptz' || kind === 'time',
  };
  const read: ColumnReader = (entity, prepared) => {
    const data = prepared as Prepared | undefined;
    // As flush: the version starts from the column default and is never sent on insert (flush's
    // payload has none); for an update the payload carries the version the entity was read with.
    if (prop.version) return data?.[prop.name];
    if (arrayType) {
      // ArrayType serializes to a literal that cannot represent NULL elements; the engine sends a
      // real array (same text for everything else) so element values can be validated too.
      const value = embeddedValue(entity, prop);
      return Array.isArray(value) ? value.map((item) => arrayElement(arrayType.toDbValue(item), textArray)) : value;
    }
    // Without a payload (flush's conversion threw on this row) the raw value is read, so that
    // validation can name the property that is wrong.
    if (stiColumn && stiFields[discriminatorOf(meta, entity, data)] !== field) return null;
    let value = data ? data[prop.name] : embeddedValue(entity, prop);
    if (objectEmbeddable) value = embeddableJson(platform, prop, value);
    if (composite) value = Array.isArray(value) ? value[position] : value;
    if (value instanceof EntityIdentifier) value = value.getValue();
    // MikroORM sends Dates in local time with offset, or as UTC ISO text with `forceUtcTimezone`.
    // (An invalid Date is passed through for validation to refuse.) For a timestamptz that text
    // and the Date are one instant, which the engine writes from the Date as it would from the
    // text, without formatting and parsing it again.
    if (value instanceof Date && utc) {
      // A Date outside years 1–9999 stays a Date too, for validation to refuse (isoYearsOnly):
      // flush's text for it fails at the database (22009).
      if (Number.isNaN(value.getTime()) || !inIsoYears(value) || zoned) return value;
      return utcIsoText(value);
    }
    return value;
  };
  return { column, read };
}

/**
 * An element of an ArrayType array as flush stores it. The platform's `marshallArray` writes every
 * element as its text (`'' + element`), so in a `text[]` column — what `type: 'number[]'` maps to —
 * a number is stored as the text MikroORM reads back with `+element`. Other values stay as they
 * are, for validation to check.
 */
function arrayElement(item: unknown, text: boolean): unknown {
  return text && (typeof item === 'number' || typeof item === 'bigint') ? String(item) : item;
}

/**
 * An object embeddable's value (one object, or an array of them) as flush stores it in its JSON
 * column: keyed by the embedded properties' column names (`postal_code`, not `postalCode`, nested
 * embeddables too), sent as JSON text (node-postgres would send an array as a PostgreSQL array
 * literal, which a json column refuses). A value JSON cannot hold is left to validation.
 */
function embeddableJson(platform: Platform, prop: EntityProperty<AnyEntity>, value: unknown): unknown {
  if (value === null || value === undefined || typeof value !== 'object') return value;
  // Every SQL driver is a DatabaseDriver; flush maps an object embeddable's value through this method.
  const driver = platform.getConfig().getDriver() as unknown as DatabaseDriver<never>;
  const map = (item: unknown) =>
    item !== null && typeof item === 'object'
      ? driver.mapDataToFieldNames(item as Prepared, false, prop.embeddedProps, false)
      : item;
  const mapped = prop.array && Array.isArray(value) ? value.map(map) : map(value);
  try {
    return JSON.stringify(mapped);
  } catch {
    return mapped;
  }
}

/** The discriminator value of an STI row: as flush sends it, else the entity's class's. */
function discriminatorOf(root: EntityMetadata<AnyEntity>, entity: AnyEntity, data: Prepared | undefined): string {
  const column = root.discriminatorColumn as string;
  const value = data?.[column] ?? (entity as Record<string, unknown>)[column];
  if (value !== undefined && value !== null) return String(value);
  const own = Object.entries(root.discriminatorMap ?? {}).find(([, cls]) => cls === entity.constructor);
  return own ? own[0] : '';
}
