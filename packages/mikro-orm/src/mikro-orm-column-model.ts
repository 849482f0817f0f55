import type { ColumnKind, ColumnModel, ColumnRole, GenerationStrategy } from '@cohort/core/adapter';
import { ArrayType, type EntityMetadata, type EntityProperty, ReferenceKind } from '@mikro-orm/core';

// Metadata of an entity type the reader does not know.
type AnyEntity = any;

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

/**
 * The property names from the entity down to an embedded property, as a user writes them
 * (`outer.inner.label`): MikroORM names a property of an embeddable nested in another after the
 * flattened holder (`prop.embedded` is `['outer_inner', 'label']`).
 */
export function propertyPath(meta: EntityMetadata<AnyEntity>, prop: EntityProperty<AnyEntity>): string[] {
  if (!prop.embedded) return [prop.name];
  const [parent, child] = prop.embedded;
  const holder = meta.properties[parent];
  return holder ? [...propertyPath(meta, holder), child] : [parent, child];
}

/**
 * The engine's model of one column of a property (`field`, the property's `position`-th), as pure
 * data: its kind, nullability, length, role, generation and whether it is written.
 */
export function columnModel(
  meta: EntityMetadata<AnyEntity>,
  prop: EntityProperty<AnyEntity>,
  field: string,
  position: number,
): ColumnModel {
  const columnType = (prop.columnTypes?.[position] ?? prop.type ?? '').toString().toLowerCase();
  const isArray = columnType.endsWith('[]') || prop.customType instanceof ArrayType;
  const base = columnType
    .replace(/\[\]$/, '')
    .replace(/\(.*\)/, '')
    .trim();
  const kind: ColumnKind = prop.object ? 'json' : (KINDS[base] ?? 'other');
  const declaredLength = /\((\d+)\)/.exec(columnType)?.[1];
  const length = kind === 'string' ? (prop.length ?? (declaredLength ? Number(declaredLength) : undefined)) : undefined;
  const generated = generationOf(prop, kind);
  const hasDefault = prop.default != null || prop.defaultRaw != null || generated !== undefined || prop.version === true;
  const enumValues =
    prop.enum && Array.isArray(prop.items) && prop.items.length > 0 ? (prop.items as (string | number)[]) : undefined;
  const composite = prop.fieldNames.length > 1;
  return {
    name: field,
    property: prop.embedded ? propertyPath(meta, prop).join('.') : composite ? `${prop.name}.${position}` : prop.name,
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
    role: roleOf(meta, prop),
    insertable: true,
    updatable: !prop.primary,
    // `em.upsert()` merges every value a row gives but the conflict target's, a primary key too.
    upsertable: true,
    isoYearsOnly: kind === 'date' || kind === 'timestamp' || kind === 'timestamptz' || kind === 'time',
  };
}

/** How the database generates the column's value, if it does. */
function generationOf(prop: EntityProperty<AnyEntity>, kind: ColumnKind): GenerationStrategy | undefined {
  if (isIdentity(prop)) return 'identity';
  if (prop.autoincrement) return 'increment';
  if (prop.primary && prop.defaultRaw !== undefined) return kind === 'uuid' ? 'uuid' : 'default';
  return undefined;
}

/**
 * The column's role for the engine. `onUpdate` values are set on the entity and written like any
 * change, as flush does, so no column gets the engine's `updateDate` role. What `onCreate` makes is
 * for the insert only (an upsert that finds the row keeps the stored value): per row, see
 * EntityAccess.insertOnly.
 */
function roleOf(meta: EntityMetadata<AnyEntity>, prop: EntityProperty<AnyEntity>): ColumnRole | undefined {
  if (prop.version) return 'version';
  if (meta.discriminatorColumn === prop.name) return 'discriminator';
  return undefined;
}

/** Properties flush writes on insert: scalars, inline-embedded scalars, object embeddables, owning to-one FKs. */
export function isWritten(prop: EntityProperty<AnyEntity>): boolean {
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

/** An identity column (`GENERATED … AS IDENTITY`). */
export function isIdentity(prop: EntityProperty<AnyEntity>): boolean {
  return typeof prop.generated === 'string' && /identity/i.test(prop.generated);
}

/** A stored generated scalar column of the table: read back, never written. */
export function isReadBackComputed(prop: EntityProperty<AnyEntity>): boolean {
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
