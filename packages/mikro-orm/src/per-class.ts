import type { EntityMetadata, EntityProperty } from '@mikro-orm/core';

type AnyEntity = object;

/** A list of a class's properties, worked out once per class (metadata object). */
export function perClass(
  filter: (meta: EntityMetadata<AnyEntity>) => EntityProperty<AnyEntity>[],
): (meta: EntityMetadata<AnyEntity>) => EntityProperty<AnyEntity>[] {
  const lists = new WeakMap<EntityMetadata<AnyEntity>, EntityProperty<AnyEntity>[]>();
  return (meta) => {
    let props = lists.get(meta);
    if (!props) {
      props = filter(meta);
      lists.set(meta, props);
    }
    return props;
  };
}
