import { type EntityMetadata, Utils } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';

/** The MikroORM major the run loaded: 6 with COHORT_MIKRO_ORM=6 (see vitest.config.ts), else 7. */
export const mikroOrmMajor = Number(Utils.getORMVersion().split('.')[0]);

/** Creates the entities' tables in `schema`: `orm.schema.create()` on MikroORM 7, `createSchema()` on 6. */
export async function createMikroOrmTables(orm: MikroORM, schema: string): Promise<void> {
  const generator = orm.schema as unknown as {
    create?(options: { schema: string }): Promise<void>;
    createSchema(options: { schema: string }): Promise<void>;
  };
  if (generator.create) await generator.create({ schema });
  else await generator.createSchema({ schema });
}

/**
 * The entity the identity map holds in `entity`'s slot, if any: `getByEntity()` on MikroORM 7; 6
 * lacks it, so `getByHash()` with the key hash `store()` uses.
 */
export function identityMapEntry(em: { getUnitOfWork(): unknown } | undefined, entity: object): object | undefined {
  if (!em) return undefined;
  const map = (em.getUnitOfWork() as { getIdentityMap(): unknown }).getIdentityMap() as {
    getByEntity?(entity: object): object | undefined;
    getByHash(meta: unknown, hash: string): object | undefined;
    getPkHash(entity: object): string;
  };
  if (map.getByEntity) return map.getByEntity(entity);
  return map.getByHash((entity as { __meta: { root: unknown } }).__meta.root, map.getPkHash(entity));
}

/** Every entity's metadata: `getAll()` is a Map on MikroORM 7, a dictionary by class name on 6. */
export function allMetadata(orm: { getMetadata(): { getAll(): unknown } }): EntityMetadata[] {
  const all = orm.getMetadata().getAll();
  return (all instanceof Map ? [...all.values()] : Object.values(all as Record<string, EntityMetadata>)) as EntityMetadata[];
}
