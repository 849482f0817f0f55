import { type ColumnModel, inIsoYears, utcIsoText } from '@cohort/core/adapter';
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

// Metadata of an entity type the reader does not know.
type AnyEntity = any;
type Prepared = EntityData<AnyEntity> & Record<string, unknown>;

/** A column's reader: its value from the entity and its `prepareEntity` payload (see EntityAccess.reader). */
export type ColumnReader = (entity: AnyEntity, prepared?: unknown) => unknown;

/**
 * The reader of one column of a property (`column`, the property's `position`-th): the value flush
 * would write for it, taken from the entity's `prepareEntity` payload.
 */
export function columnReader(
  meta: EntityMetadata<AnyEntity>,
  prop: EntityProperty<AnyEntity>,
  column: ColumnModel,
  position: number,
  platform: Platform,
): ColumnReader {
  const field = column.name;
  const utc = platform.getTimezone() === 'Z';
  const zoned = column.kind === 'timestamptz' && !column.isArray;
  const composite = prop.fieldNames.length > 1;
  // STI subclasses that map a property of one name to different columns (GH5813): the root keeps
  // one property per column, all named alike, and each row writes only its own class's column.
  const stiFields = meta.properties[prop.name]?.stiFieldNameMap;
  const stiColumn = stiFields && meta.discriminatorColumn && Object.values(stiFields).includes(field);
  // ArrayType keeps its element mapper private; it is what flush applies before marshalling.
  const arrayType =
    prop.customType instanceof ArrayType ? (prop.customType as unknown as { toDbValue(item: unknown): unknown }) : undefined;
  const textArray = column.isArray && column.kind === 'string';
  const objectEmbeddable = prop.kind === ReferenceKind.EMBEDDED && Boolean(prop.object) && prop.embeddedProps !== undefined;
  return (entity, prepared) => {
    const data = prepared as Prepared | undefined;
    // As flush: the version starts from the column default and is never sent on insert (flush's
    // payload has none); for an update the payload carries the version the entity was read with.
    if (prop.version) return data?.[prop.name];
    if (arrayType) {
      // ArrayType serializes to a literal that cannot represent NULL elements; the engine sends a
      // real array (same text for everything else) so element values can be validated too.
      const value = embeddedValue(entity, prop, meta);
      return Array.isArray(value) ? value.map((item) => arrayElement(arrayType.toDbValue(item), textArray)) : value;
    }
    // Without a payload (flush's conversion threw on this row) the raw value is read, so that
    // validation can name the property that is wrong.
    if (stiColumn && stiFields[discriminatorOf(meta, entity, data)] !== field) return null;
    let value = data ? data[prop.name] : embeddedValue(entity, prop, meta);
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
