import { type AnyEntity, type EntityManager, type EntityMetadata, type EntityProperty, JsonType } from '@mikro-orm/core';
import { comparatorSnapshot, entityInternals } from './mikro-orm-internals.js';
import { snapshotCodec } from './snapshot-codec.js';

const jsonProps = new WeakMap<EntityMetadata<AnyEntity>, EntityProperty<AnyEntity>[]>();

/**
 * `comparator.prepareEntity(entity)` — flush's snapshot of the entity — after checking that its
 * JSON properties serialize. A value that does not (a circular object, a BigInt inside) makes the
 * compiled snapshot function throw, and MikroORM then prints "JIT runtime error" and the generated
 * code to the console; here the serialization's own TypeError is thrown first, and cohort reports
 * the row and property as invalid (the engine reads the raw value for validation). Where the
 * class has a snapshot codec (snapshot-codec.ts), that gives the snapshot: the same values, with
 * less work per row.
 */
export function prepareEntity(em: EntityManager, entity: AnyEntity): Record<string, unknown> {
  const meta: EntityMetadata<AnyEntity> = entityInternals<AnyEntity>(entity).__meta;
  for (const prop of jsonPropsOf(meta)) {
    const value = (entity as Record<string, unknown>)[prop.name];
    if (value !== null && (typeof value === 'object' || typeof value === 'bigint')) JSON.stringify(value);
  }
  const codec = snapshotCodec(em, entity);
  return codec ? codec(entity) : comparatorSnapshot(em, entity);
}

function jsonPropsOf(meta: EntityMetadata<AnyEntity>): EntityProperty<AnyEntity>[] {
  let props = jsonProps.get(meta);
  if (!props) {
    props = meta.props.filter((p) => p.customType instanceof JsonType && !p.embedded);
    jsonProps.set(meta, props);
  }
  return props;
}
