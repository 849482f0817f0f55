import { trackEntityChanges } from '@cohort/typeorm';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { MikroORM } from '@mikro-orm/postgresql';
import { DataSource } from 'typeorm';
import { mikroOrmEntities } from '../fixtures/mikro-orm/index.js';
import { typeormEntities } from '../fixtures/typeorm/index.js';
import type { HookLog } from './hook-log.js';
import { createMikroOrmTables } from './mikro-orm-major.js';
import { ArticleMikroOrmSubscriber, RecordingMikroOrmLogger, RecordingMikroOrmSubscriber } from './mikro-orm-recorders.js';
import type { SqlLogEntry } from './sql-log.js';
import { articleSubscriber, RecordingTypeormLogger, recordingSubscriber } from './typeorm-recorders.js';

/** Where an ORM instance writes what it does. */
export interface Recorders {
  hooks: HookLog;
  sql: SqlLogEntry[];
}

/**
 * An initialized TypeORM DataSource whose tables (`synchronize`) live in `schema`, with the
 * recording subscribers and logger attached. The connections' search_path is left alone, so SQL
 * that forgets to qualify the schema fails instead of silently hitting `public`.
 */
export async function createTypeormDataSource(url: string, schema: string, recorders: Recorders): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    schema,
    synchronize: true,
    entities: typeormEntities,
    subscribers: [recordingSubscriber(recorders.hooks), articleSubscriber(recorders.hooks)],
    logger: new RecordingTypeormLogger(recorders.sql),
    // gen_random_uuid() is built in since PostgreSQL 13; uuid-ossp is not always installed.
    uuidExtension: 'pgcrypto',
    poolSize: 10,
  });
  await dataSource.initialize();
  // Diff bulk updates against what was loaded, so concurrent writers of other columns are kept.
  trackEntityChanges(dataSource);
  return dataSource;
}

/**
 * A MikroORM instance mapped to `schema`, its tables created there by the schema generator, with
 * the recording subscribers and logger attached.
 */
export async function createMikroOrm(url: string, schema: string, recorders: Recorders): Promise<MikroORM> {
  const orm = await MikroORM.init({
    clientUrl: url,
    schema,
    // Node 20 cannot glob-discover with MikroORM 7: entities are listed explicitly.
    entities: mikroOrmEntities,
    metadataProvider: ReflectMetadataProvider,
    subscribers: [new RecordingMikroOrmSubscriber(recorders.hooks), new ArticleMikroOrmSubscriber(recorders.hooks)],
    debug: ['query'],
    loggerFactory: (options) => new RecordingMikroOrmLogger(options, recorders.sql),
    allowGlobalContext: false,
    pool: { min: 0, max: 4 },
  });
  await createMikroOrmTables(orm, schema);
  return orm;
}
