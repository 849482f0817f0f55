import { type AnyEntity, type EntityMetadata, type EntityProperty, helper, JsonType } from '@mikro-orm/core';

/** The object with what comparator.prepareEntity needs (an EntityManager). */
interface HasComparator {
  getComparator(): { prepareEntity<T extends object>(entity: T): unknown };
}

const jsonProps = new WeakMap<EntityMetadata<AnyEntity>, EntityProperty<AnyEntity>[]>();

/**
 * `comparator.prepareEntity(entity)` — flush's snapshot of the entity — after checking that its
 * JSON properties serialize. A value that does not (a circular object, a BigInt inside) makes the
 * compiled snapshot function throw, and MikroORM then prints "JIT runtime error" and the generated
 * code to the console; here the serialization's own TypeError is thrown first, and cohort reports
 * the row and property as invalid (the engine reads the raw value for validation).
 */
export function prepareEntity(em: HasComparator, entity: AnyEntity): Record<string, unknown> {
  const meta = helper(entity).__meta as unknown as EntityMetadata<AnyEntity>;
  for (const prop of jsonPropsOf(meta)) {
    const value = (entity as Record<string, unknown>)[prop.name];
    if (value !== null && (typeof value === 'object' || typeof value === 'bigint')) JSON.stringify(value);
  }
  return em.getComparator().prepareEntity(entity) as Record<string, unknown>;
}

function jsonPropsOf(meta: EntityMetadata<AnyEntity>): EntityProperty<AnyEntity>[] {
  let props = jsonProps.get(meta);
  if (!props) {
    props = meta.props.filter((p) => p.customType instanceof JsonType && !p.embedded);
    jsonProps.set(meta, props);
  }
  return props;
}
