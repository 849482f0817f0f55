import { type EntityManager, type EntityMetadata, type EntityProperty, ReferenceKind, Utils } from '@mikro-orm/core';
import { hydrateReturned, mapResult } from './mikro-orm-internals.js';

type AnyEntity = object;

// Per metadata object: property name by column, for the properties whose returned value maps and
// hydrates as it is; null for a class whose rows MikroORM maps per subclass (polymorphs).
const plainColumns = new WeakMap<EntityMetadata<AnyEntity>, Map<string, string> | null>();

// What the compiled mapper and hydrator do was checked on MikroORM 7.2.1; on another major every
// returned row goes through them.
const MIRRORED_MAJOR = Utils.getORMVersion().split('.')[0] === '7';

/**
 * Maps returned values (by column) to properties and sets them on the entity, as flush does with
 * its RETURNING row (`comparator.mapResult`, then the hydrator); returns the mapped values.
 *
 * Where every returned column is of a property whose value MikroORM's compiled mapper and hydrator
 * pass through unchanged (a plain scalar: one column, no custom type, not a boolean, Date or
 * reference, not embedded), the values are set directly: `entity[name] = value`, a null as the
 * hydrator writes it (`undefined` with `forceUndefined`). That is what the two compiled functions
 * do for such a property, without building the mapper's and hydrator's bookkeeping per row.
 * Anything else goes through MikroORM's own functions.
 */
export function applyReturnedRow(
  em: EntityManager,
  meta: EntityMetadata<AnyEntity>,
  entity: AnyEntity,
  returned: Record<string, unknown>,
): Record<string, unknown> {
  const plain = plainColumnsOf(meta);
  if (plain) {
    const mapped: Record<string, unknown> = {};
    let direct = true;
    for (const field in returned) {
      const name = plain.get(field);
      const value = returned[field];
      if (name === undefined || value === undefined) {
        direct = false;
        break;
      }
      mapped[name] = value;
    }
    if (direct) {
      const target = entity as Record<string, unknown>;
      const nullValue = em.config.get('forceUndefined') ? undefined : null;
      for (const name in mapped) {
        const value = mapped[name];
        target[name] = value === null ? nullValue : value;
      }
      return mapped;
    }
  }
  const mapped = mapResult(em, meta, returned);
  hydrateReturned(em, entity, meta, mapped);
  return mapped;
}

function plainColumnsOf(meta: EntityMetadata<AnyEntity>): Map<string, string> | null {
  let columns = plainColumns.get(meta);
  if (columns === undefined) {
    columns = meta.polymorphs?.length || !MIRRORED_MAJOR ? null : new Map();
    // The mapper maps `meta.props`, the hydrator sets `meta.hydrateProps` (an STI root's leave out
    // its subclasses'): a column of a property not in both goes through MikroORM's functions.
    const hydrated = new Set(meta.hydrateProps);
    const seen = new Set<string>();
    const shared = new Set<string>();
    for (const prop of meta.props) {
      for (const field of prop.fieldNames ?? []) (seen.has(field) ? shared : seen).add(field);
      if (columns && hydrated.has(prop) && isPlain(prop)) columns.set(prop.fieldNames[0] as string, prop.name);
    }
    // A column several properties map (STI subclasses, GH5813) is MikroORM's to resolve.
    for (const field of shared) columns?.delete(field);
    plainColumns.set(meta, columns);
  }
  return columns;
}

/** A property whose returned value MikroORM's mapper and hydrator copy as it is. */
function isPlain(prop: EntityProperty<AnyEntity>): boolean {
  return (
    prop.kind === ReferenceKind.SCALAR &&
    prop.fieldNames?.length === 1 &&
    !prop.customType &&
    !prop.ref &&
    !prop.embedded &&
    !prop.polymorphic &&
    !(prop.getter && !prop.setter) &&
    prop.runtimeType !== 'boolean' &&
    prop.runtimeType !== 'Date'
  );
}
