import {
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  type Platform,
  RawQueryFragment,
  ReferenceKind,
  Utils,
} from '@mikro-orm/core';

type AnyEntity = object;

/** A class's snapshot function: `prepareEntity(entity)`'s result, built without MikroORM's generic `clone`. */
export type SnapshotCodec = (entity: AnyEntity) => Record<string, unknown>;

// Per metadata object (one per class and ORM instance): the codec, or null where there is none.
const codecs = new WeakMap<EntityMetadata<AnyEntity>, SnapshotCodec | null>();

/**
 * The codec mirrors MikroORM 7's snapshot generator (checked on 7.2.1, with the codec test); on
 * another major every class keeps MikroORM's own function.
 */
const MIRRORED_MAJOR = Utils.getORMVersion().split('.')[0] === '7';

/**
 * The snapshot codec of the entity's class: a function giving exactly what MikroORM's
 * `comparator.prepareEntity(entity)` gives (the same keys in the same order, equal values), or
 * undefined for a class it does not cover (nested, object or array embeddables, polymorphic or
 * `targetKey` relations):
 * those keep MikroORM's own function.
 *
 * MikroORM compiles its snapshot function per class too, but passes most values through its
 * generic deep `clone`, which allocates two arrays and a closure per call even for a number. The
 * codec is generated the same way (`new Function`, one line per property with the property name
 * in the code, so V8 keeps each read monomorphic; closures over a property list would read
 * `entity[name]` through one megamorphic site), walks the same properties in the same order with
 * the same conditions, and calls the same conversions (custom types, `processDateProperty`,
 * `Utils.copy` — MikroORM's `clone` — for every object it does not know to be a plain Date).
 * What it saves is only the work that cannot change a value: cloning a primitive.
 * test/src/mikro-orm/snapshot-codec.test.ts compares it with `prepareEntity` for every fixture
 * class and for generated entities.
 */
export function snapshotCodec(em: EntityManager, entity: AnyEntity): SnapshotCodec | undefined {
  // The class MikroORM's comparator looks up: the entity's constructor's, in this ORM's metadata.
  const meta = em.getMetadata().find((entity as { constructor: new () => AnyEntity }).constructor) as
    | EntityMetadata<AnyEntity>
    | undefined;
  if (!meta || !MIRRORED_MAJOR) return undefined;
  let codec = codecs.get(meta);
  if (codec === undefined) {
    codec = compileSnapshot(meta, em.getPlatform()) ?? null;
    codecs.set(meta, codec);
  }
  return codec ?? undefined;
}

const PRIMITIVE_TYPES = ['number', 'string', 'boolean'];
const PRIMITIVE_COMPARE_TYPES = ['number', 'string', 'boolean', 'bigint'];

/** Generates the class's snapshot function; undefined when a property is of a kind it does not cover. */
function compileSnapshot(meta: EntityMetadata<AnyEntity>, platform: Platform): SnapshotCodec | undefined {
  const context: Record<string, unknown> = {
    copy: Utils.copy,
    copyDate,
    toArray,
    processDate: (value: unknown) => platform.processDateProperty(value),
  };
  const lines: string[] = ['const ret = {};', 'let v, t;'];
  if (meta.root.inheritanceType === 'sti' && meta.discriminatorValue) {
    lines.push(`ret${access(meta.root.discriminatorColumn as string)} = ${JSON.stringify(String(meta.discriminatorValue))};`);
  }
  const rootOf = (prop: EntityProperty<AnyEntity>): EntityProperty<AnyEntity> =>
    prop.embedded ? rootOf(meta.properties[prop.embedded[0]] as EntityProperty<AnyEntity>) : prop;
  const props = meta.comparableProps.filter((prop) => {
    const root = rootOf(prop);
    return prop === root || root.kind !== ReferenceKind.EMBEDDED;
  });
  for (const [index, prop] of props.entries()) {
    const line =
      prop.kind === ReferenceKind.EMBEDDED
        ? inlineEmbeddedLine(meta, prop, index, context, platform)
        : propertyLine(prop, index, context, platform);
    if (line === undefined) return undefined;
    lines.push(line);
  }
  lines.push('return ret;');
  const names = Object.keys(context);
  const factory = new Function(...names, `return function snapshot(entity) {\n${lines.join('\n')}\n};`);
  return factory(...names.map((name) => context[name])) as SnapshotCodec;
}

/** One property's part of the snapshot, as MikroORM's `getPropertySnapshot` writes it for a top-level property. */
function propertyLine(
  prop: EntityProperty<AnyEntity>,
  index: number,
  context: Record<string, unknown>,
  platform: Platform,
): string | undefined {
  if (prop.embedded) return undefined;
  const key = access(prop.name);
  const unwrap = prop.ref ? '?.unwrap()' : '';
  // A getter without setter may need a hydrated entity: it is read only once the entity is initialized.
  const guard = prop.getter && !prop.setter ? 'entity.__helper.__initialized' : 'true';
  let condition = `typeof v !== 'undefined'`;
  if (prop.lazy && prop.ref) condition += ' && v?.isInitialized()';
  const body = propertyBody(prop, index, key, unwrap, context, platform);
  if (body === undefined) return undefined;
  return `if (${guard}) { v = entity${key}; if (${condition}) {\n${body}\n} }`;
}

function propertyBody(
  prop: EntityProperty<AnyEntity>,
  index: number,
  key: string,
  unwrap: string,
  context: Record<string, unknown>,
  platform: Platform,
): string | undefined {
  if (!prop.array && PRIMITIVE_TYPES.includes(String(prop.type).toLowerCase())) return `ret${key} = v${unwrap};`;
  if (prop.kind === ReferenceKind.ONE_TO_ONE || prop.kind === ReferenceKind.MANY_TO_ONE) {
    if (prop.mapToPk) {
      if (!prop.customType) return `ret${key} = v;`;
      context[`convert${index}`] = converter(prop, platform);
      return `ret${key} = convert${index}(v);`;
    }
    if (prop.polymorphic || prop.targetKey) return undefined;
    return [
      `if (v === null) ret${key} = null;`,
      `else if (v?.__helper.__identifier && !v.__helper.hasPrimaryKey()) ret${key} = v?.__helper.__identifier;`,
      `else ret${key} = toArray(v.__helper.getPrimaryKey(true));`,
    ].join('\n');
  }
  if (prop.customType) {
    context[`convert${index}`] = converter(prop, platform);
    const plain = PRIMITIVE_COMPARE_TYPES.includes(prop.customType.compareAsType().toLowerCase());
    return plain ? `ret${key} = convert${index}(v${unwrap});` : `t = convert${index}(v${unwrap}); ${copied(key)}`;
  }
  if (prop.runtimeType === 'Date') return `t = processDate(v${unwrap}); ${copied(key)}`;
  return `t = v${unwrap}; ${copied(key)}`;
}

/**
 * An inline embeddable (its properties in the owner's columns, `address_street`…), as MikroORM's
 * `getEmbeddedPropertySnapshot` writes it: every column null when the embeddable is null, else
 * each of its properties (cloned or converted, never passed as is) under the owner's property
 * name. Nested, object (JSON) and array embeddables and relations inside one are not covered.
 */
function inlineEmbeddedLine(
  meta: EntityMetadata<AnyEntity>,
  prop: EntityProperty<AnyEntity>,
  index: number,
  context: Record<string, unknown>,
  platform: Platform,
): string | undefined {
  if (prop.object || prop.array || prop.embedded || meta.embeddable || prop.ref || prop.lazy) return undefined;
  if (prop.getter && !prop.setter) return undefined;
  const children = meta.props.filter((p) => p.embedded?.[0] === prop.name && (p.object || p.persist !== false));
  const nulls: string[] = [];
  const values: string[] = [];
  for (const [position, child] of children.entries()) {
    if (child.kind !== ReferenceKind.SCALAR || child.object) return undefined;
    const key = access(child.name);
    const source = `e${access((child.embedded as [string, string])[1])}`;
    nulls.push(`ret${key} = null;`);
    let body: string;
    if (child.customType) {
      const name = `convert${index}_${position}`;
      context[name] = converter(child, platform);
      const plain = PRIMITIVE_COMPARE_TYPES.includes(child.customType.compareAsType().toLowerCase());
      body = plain ? `ret${key} = ${name}(t);` : `t = ${name}(t); ${copied(key)}`;
    } else {
      body = copied(key);
    }
    values.push(`t = ${source}; if (typeof t !== 'undefined') { ${body} }`);
  }
  const key = access(prop.name);
  return [
    `v = entity${key}; if (typeof v !== 'undefined') {`,
    `if (v === null) { ${nulls.join(' ')} }`,
    `if (v != null) { const e = v; ${values.join('\n')} }`,
    '}',
  ].join('\n');
}

/** `ret.key = clone(t)`: primitives and null are what `clone` returns them as; objects go through it. */
function copied(key: string): string {
  return `ret${key} = typeof t !== 'object' || t === null ? t : t instanceof Date ? copyDate(t) : copy(t);`;
}

/** MikroORM's conversion of a custom type's value for a snapshot (raw SQL fragments kept as they are). */
function converter(prop: EntityProperty<AnyEntity>, platform: Platform): (value: unknown) => unknown {
  const type = prop.customType as NonNullable<EntityProperty<AnyEntity>['customType']>;
  return (value) =>
    RawQueryFragment.isKnownFragment(value) ? value : type.convertToDatabaseValue(value, platform, { mode: 'serialization' });
}

/**
 * `clone(date)` for a plain Date: a new Date of the same time. Anything `clone` would treat
 * otherwise (a subclass, a `clone` method, own or inherited enumerable properties, own symbols)
 * goes through it.
 */
function copyDate(date: Date): unknown {
  if (Object.getPrototypeOf(date) !== Date.prototype || 'clone' in date) return Utils.copy(date);
  for (const _ in date) return Utils.copy(date);
  if (Object.getOwnPropertySymbols(date).length > 0) return Utils.copy(date);
  return new Date(date.getTime());
}

/** MikroORM's `toArray` of a composite key: plain objects become arrays of their values, recursively. */
function toArray(value: unknown): unknown {
  return Utils.isPlainObject(value) ? Object.values(value as Record<string, unknown>).map(toArray) : value;
}

/** `.name` or `['name']`, as MikroORM's generated code reads a property. */
function access(name: string): string {
  return /^\w+$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
