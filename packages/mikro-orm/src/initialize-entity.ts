import { type EntityManager, type EntityMetadata, type EntityProperty, ReferenceKind, Utils } from '@mikro-orm/core';
import { isRawFragment, mikroOrmMajor } from './mikro-orm-internals.js';
import { perClass } from './per-class.js';

type AnyEntity = object;

// MikroORM 7's ChangeSetComputer puts a property's JS `default` on a new entity before its hooks
// run; 6 does not (the column's default fills it in, and RETURNING puts it back on the object).
const ASSIGNS_DEFAULTS = mikroOrmMajor >= 7;

/**
 * The properties `initialize` can change (an `onCreate`, a JS default that is not raw SQL nor a
 * to-one) or must look into (embeddables): the rest it would only read.
 */
const initializedProps = perClass((meta) =>
  meta.hydrateProps.filter(
    (prop) =>
      prop.onCreate !== undefined ||
      (ASSIGNS_DEFAULTS &&
        prop.default != null &&
        !isRawFragment(prop.default) &&
        prop.kind !== ReferenceKind.MANY_TO_ONE &&
        prop.kind !== ReferenceKind.ONE_TO_ONE) ||
      prop.kind === ReferenceKind.EMBEDDED,
  ),
);

function isToOne(prop: EntityProperty<AnyEntity>): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE || prop.kind === ReferenceKind.ONE_TO_ONE;
}

/**
 * `onCreate` for null/undefined values, else the JS `default` for undefined ones (MikroORM 7), recursing into
 * embeddables: what flush's ChangeSetComputer does for a new entity before any hook runs. Returns
 * the columns whose values `onCreate` made (undefined: none), for the insert only.
 */
export function initializeEntity(em: EntityManager, meta: EntityMetadata<AnyEntity>, entity: AnyEntity): string[] | undefined {
  let insertOnly: string[] | undefined;
  for (const prop of initializedProps(meta)) {
    // As `em.upsert()` (getOnCreateGeneratedFields): what onCreate made is not merged into a found row.
    if (initializeProperty(em, entity, prop) && !prop.embedded && !isToOne(prop)) {
      insertOnly ??= [];
      insertOnly.push(...prop.fieldNames);
    }
  }
  return insertOnly;
}

/** Applies `onCreate` or the JS default to one property; true when `onCreate` made its value. */
function initializeProperty(em: EntityManager, entity: AnyEntity, prop: EntityProperty<AnyEntity>): boolean {
  const target = entity as Record<string, unknown>;
  const value = target[prop.name];
  const empty = value == null || (Utils.isScalarReference(value) && (value as { unwrap(): unknown }).unwrap() == null);
  let created = false;
  if (prop.onCreate && empty) {
    target[prop.name] = prop.onCreate(entity, em);
    created = true;
  } else if (
    ASSIGNS_DEFAULTS &&
    prop.default != null &&
    !isRawFragment(prop.default) &&
    prop.kind !== ReferenceKind.MANY_TO_ONE &&
    prop.kind !== ReferenceKind.ONE_TO_ONE &&
    value === undefined
  ) {
    target[prop.name] = prop.default;
  }
  const embedded = target[prop.name];
  if (prop.kind === ReferenceKind.EMBEDDED && embedded && prop.targetMeta) {
    const items = (prop.array ? embedded : [embedded]) as AnyEntity[];
    const children = initializedProps(prop.targetMeta as EntityMetadata<AnyEntity>);
    for (const item of items) for (const child of children) initializeProperty(em, item, child);
  }
  return created;
}
