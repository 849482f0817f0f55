import { type EntityManager, type EntityMetadata, helper } from '@mikro-orm/core';
import { identityMapStore } from './mikro-orm-internals.js';

/** An identity map entry of an entity under one of its non-key properties (MikroORM 7's alternate keys). */
export interface AlternateKey {
  readonly key: string;
  readonly value: string;
  readonly schema: string | undefined;
}

// The @internal IdentityMap of MikroORM 7 (7.2.1): `storeByKey` files an entity under `[key]value`
// (schema-prefixed) and records the hash in a private list that `delete` empties with the key's own
// entry. MikroORM 6 (6.6.16) has neither: it files entities by primary key only.
interface KeyedIdentityMap {
  storeByKey?(item: object, key: string, value: string, schema?: string): void;
  getKeyHash?(key: string, value: string, schema?: string): string;
}

// Per class: the properties an alternate key can be filed under (scalar, not the primary key).
const keyProps = new WeakMap<EntityMetadata<object>, readonly string[]>();

function keyPropsOf(meta: EntityMetadata<object>): readonly string[] {
  let names = keyProps.get(meta);
  if (!names) {
    names = meta.props.filter((prop) => !prop.primary && prop.kind === 'scalar').map((prop) => prop.name);
    keyProps.set(meta, names);
  }
  return names;
}

// Per call (its undo log) and root class: whether the class's identity map store held any entry
// under an alternate key when the call first looked (almost never: only references made by key).
const heldByCall = new WeakMap<object, Map<EntityMetadata<object>, boolean>>();

function storeHoldsAlternateKeys(store: ReadonlyMap<string, object>, root: EntityMetadata<object>, call: object): boolean {
  let byRoot = heldByCall.get(call);
  if (!byRoot) {
    byRoot = new Map();
    heldByCall.set(call, byRoot);
  }
  let held = byRoot.get(root);
  if (held === undefined) {
    held = false;
    // An alternate key's hash is `[property]value`, after `schema:` where there is one.
    for (const hash of store.keys()) {
      if (hash.startsWith('[') || hash.includes(':[')) {
        held = true;
        break;
      }
    }
    byRoot.set(root, held);
  }
  return held;
}

/**
 * The entries under which the identity map holds `entity` besides its primary key: what
 * `createReference` with a `key` files (`em.getReference(…, { key })`, a `targetKey` relation's
 * reference), which `unsetIdentity` takes out with the entity. The private list of them is out of
 * reach, so each scalar property's current value is tried: found while the property keeps the
 * value it was filed under. None on MikroORM 6. Only where the class's store held any such entry
 * when the call (`call`: its undo log) first looked, so that a remove of many entities pays one
 * pass over the store, not a look-up per property and entity.
 */
export function alternateKeys(em: EntityManager, entity: object, call: object): AlternateKey[] {
  const map = em.getUnitOfWork().getIdentityMap() as unknown as KeyedIdentityMap;
  if (!map.getKeyHash || !map.storeByKey) return [];
  const wrapped = helper(entity);
  const meta = wrapped.__meta as EntityMetadata<object>;
  const store = identityMapStore(em, meta.root);
  if (!storeHoldsAlternateKeys(store, meta.root, call)) return [];
  const schema = wrapped.__schema ?? meta.root.schema ?? em.config.get('schema');
  const found: AlternateKey[] = [];
  for (const name of keyPropsOf(meta)) {
    const value = (entity as Record<string, unknown>)[name];
    if (value == null || typeof value === 'object') continue;
    const text = `${value}`;
    if (store.get(map.getKeyHash(name, text, schema)) === entity) found.push({ key: name, value: text, schema });
  }
  return found;
}

/** Files the entity under the alternate keys {@link alternateKeys} found, where nothing else took their place. */
export function restoreAlternateKeys(em: EntityManager, entity: object, keys: readonly AlternateKey[]): void {
  if (keys.length === 0) return;
  const map = em.getUnitOfWork().getIdentityMap() as unknown as Required<KeyedIdentityMap>;
  const store = identityMapStore(em, helper(entity).__meta.root as EntityMetadata<object>);
  for (const { key, value, schema } of keys) {
    if (store.get(map.getKeyHash(key, value, schema)) === undefined) map.storeByKey(entity, key, value, schema);
  }
}
