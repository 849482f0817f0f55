import type { EntityMetadata, ObjectLiteral, RelationMetadata } from 'typeorm';

const NONE: ReadonlySet<string> = new Set();

/** The keys of the related rows stored for the row (loaded with its relation ids, as save() loads them). */
export function storedKeys(
  relation: RelationMetadata,
  keyOf: (item: unknown) => string | undefined,
  stored: ObjectLiteral | undefined,
): ReadonlySet<string> {
  const value = stored ? relation.getEntityValue(stored) : undefined;
  if (!Array.isArray(value) || value.length === 0) return NONE;
  const keys = new Set<string>();
  for (const item of value) {
    const key = keyOf(item);
    if (key !== undefined) keys.add(key);
  }
  return keys;
}

/** A related entity's key as text (undefined while it has none), as getEntityIdMap finds it. */
export function relatedKey(target: EntityMetadata): (item: unknown) => string | undefined {
  const columns = target.primaryColumns;
  const [only] = columns;
  if (columns.length === 1 && only && !only.embeddedMetadata && !only.relationMetadata && !only.referencedColumn) {
    const property = only.propertyName;
    return (item) => {
      if (item === null || typeof item !== 'object') return undefined;
      const value = (item as ObjectLiteral)[property];
      return value == null ? undefined : String(value);
    };
  }
  return (item) => {
    if (item === null || typeof item !== 'object') return undefined;
    if (!target.getEntityIdMap(item as ObjectLiteral)) return undefined;
    return JSON.stringify(columns.map((c) => String(c.getEntityValue(item as ObjectLiteral))));
  };
}
