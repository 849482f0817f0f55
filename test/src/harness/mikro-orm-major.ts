import { Utils } from '@mikro-orm/core';
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
