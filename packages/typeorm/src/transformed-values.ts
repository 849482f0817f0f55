import type { ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from './typeorm-internals.js';

/**
 * One row's values of its transformer columns, as save() hands them to the driver: the entity's
 * value copied as save() copies it (see {@link copyAsSave}), then converted (`to()`, then the
 * driver) once, however often the engine reads the column (validation, then the statement). A
 * `to()` that changes its argument changes the copy, never the entity's own value.
 */
export class TransformedValues {
  private readonly sources = new Map<ColumnMetadata, unknown>();
  private readonly values = new Map<ColumnMetadata, unknown>();

  /** The column's value to send, converted by `convert` on first read. */
  read(column: ColumnMetadata, entity: ObjectLiteral, convert: (value: unknown) => unknown): unknown {
    if (this.values.has(column)) return this.values.get(column);
    const source = copyAsSave(column.getEntityValue(entity));
    this.sources.set(column, source);
    const value = convert(source);
    this.values.set(column, value);
    return value;
  }

  /**
   * The copy `to()` was given, as it left it, when the column was read: what the row holds, in the
   * form a reload would give it back (a `to()` that changes its argument changed this, not the entity).
   */
  sentSource(column: ColumnMetadata): { value: unknown } | undefined {
    return this.sources.has(column) ? { value: this.sources.get(column) } : undefined;
  }
}

/**
 * A column value as save() passes it on: OrmUtils.mergeDeep of its value map copies plain objects
 * and arrays deeply (promises left out) and keeps every other value (a Date, a class instance).
 */
export function copyAsSave(value: unknown, path: Map<unknown, unknown> = new Map()): unknown {
  const array = Array.isArray(value);
  if (!array && !isPlainObject(value)) return value;
  // A value met again on its own path is the copy being made (a cycle), as mergeDeep's memo gives.
  if (path.has(value)) return path.get(value);
  const copy: Record<string | number, unknown> | unknown[] = array ? [] : {};
  path.set(value, copy);
  if (array) {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) {
      if (!(items[i] instanceof Promise)) (copy as unknown[])[i] = copyAsSave(items[i], path);
    }
  } else {
    for (const [key, item] of Object.entries(value as ObjectLiteral)) {
      if (key === '__proto__' || item instanceof Promise) continue;
      (copy as Record<string, unknown>)[key] = copyAsSave(item, path);
    }
  }
  path.delete(value);
  return copy;
}

/** OrmUtils.isPlainObject: no constructor, or Object's. */
function isPlainObject(value: unknown): value is ObjectLiteral {
  if (value === null || value === undefined || typeof value !== 'object') return false;
  const made = (value as { constructor?: unknown }).constructor;
  return !made || made === Object;
}
