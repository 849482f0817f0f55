import { createSchema } from '@cohort/pg-harness';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { inject } from 'vitest';
import { createMikroOrmTables } from './mikro-orm-major.js';

/** A MikroORM instance on a test file's own entities, in a fresh schema with their tables created. */
export interface OwnMikroOrm {
  readonly orm: MikroORM;
  readonly schema: string;
  /** Closes the ORM and drops the schema. */
  close(): Promise<void>;
}

/** For a `beforeAll`: `options` are MikroORM's (entities, subscribers, logging…). */
export async function ownMikroOrm(prefix: string, options: Partial<Options>): Promise<OwnMikroOrm> {
  const url = inject('databaseUrl');
  const created = await createSchema(url, prefix);
  const orm = await MikroORM.init({
    clientUrl: url,
    schema: created.name,
    metadataProvider: ReflectMetadataProvider,
    allowGlobalContext: false,
    ...options,
  });
  await createMikroOrmTables(orm, created.name);
  return {
    orm,
    schema: created.name,
    async close() {
      await orm.close(true);
      await created.drop();
    },
  };
}
