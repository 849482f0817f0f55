import type { BulkResult, InsertOptions, RemoveOptions, SaveOptions, UpdateOptions, UpsertOptions } from '@cohort/core';
import {
  bulkInsert as mikroOrmBulkInsert,
  bulkRemove as mikroOrmBulkRemove,
  bulkSave as mikroOrmBulkSave,
  bulkUpdate as mikroOrmBulkUpdate,
  bulkUpsert as mikroOrmBulkUpsert,
} from '@cohort/mikro-orm';
import {
  bulkInsert as typeormBulkInsert,
  bulkRemove as typeormBulkRemove,
  bulkSave as typeormBulkSave,
  bulkUpdate as typeormBulkUpdate,
  bulkUpsert as typeormBulkUpsert,
} from '@cohort/typeorm';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { DataSource } from 'typeorm';
import type { FixtureName } from '../fixtures/fixture-names.js';
import { mikroOrmEmbeddables, mikroOrmFixtures } from '../fixtures/mikro-orm/index.js';
import { typeormEmbeddables, typeormFixtures } from '../fixtures/typeorm/index.js';
import { forcedStrategy } from './forced-strategy.js';
import { bindToHookLog, HookLog, type HookLogEntry, type OrmName } from './hook-log.js';
import { normalizeRecord } from './normalize.js';
import { createMikroOrm, createTypeormDataSource } from './orm-setup.js';
import { SchemaSession } from './schema-session.js';
import type { SqlLogEntry } from './sql-log.js';

/** `COHORT_STRATEGY=copy|unnest` runs every cohort call of the suite with that strategy forced. */
const forced = forcedStrategy;
function withStrategy<O extends object>(options: O | undefined): O {
  return (forced ? { strategy: forced, ...options } : { ...options }) as O;
}

type FixtureClasses = Readonly<Record<FixtureName, new () => object>>;
type Embeddables = Readonly<Partial<Record<FixtureName, Record<string, new () => object>>>>;

/**
 * One ORM bound to one fresh schema, as a scenario sees it. A scenario written against this
 * interface runs unchanged for TypeORM and MikroORM.
 *
 * @example
 * const article = subject().create('Article', { title: 'Hello World' });
 * await subject().ormSave([article]);
 * expect(await subject().rows('article')).toMatchObject([{ slug: 'hello-world' }]);
 */
export interface OrmUnderTest {
  readonly orm: OrmName;
  /** The schema this instance maps to. */
  readonly schema: string;
  /**
   * A new, unsaved entity of `fixture` with `data` assigned (`new Class()` + assign, in both ORMs).
   * Relations take entity instances; an embedded property may be given as a plain object.
   */
  create(fixture: FixtureName, data: Record<string, unknown>): any;
  /** The ORM's own save: `manager.save(entities)` / `em.persist(entities)` + `em.flush()`. */
  ormSave(entities: object[]): Promise<void>;
  /** The ORM's own remove: `manager.remove(entities)` / `em.remove(entities)` + `em.flush()`. */
  ormRemove(entities: object[]): Promise<void>;
  /** Raw SQL on the harness's own connection, search_path set to `schema`; not in `sql`. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Every row of `table` (default order: first column), Dates → ISO, Buffers → `\x` hex, int8 → string. */
  rows(table: string, orderBy?: string): Promise<Record<string, unknown>[]>;
  /** The entity's own enumerable data normalized as in `rows()`, relations reduced to their id. */
  objectState(entity: object): Record<string, unknown>;
  /** Listener and subscriber calls since the last reset. */
  readonly hooks: HookLogEntry[];
  /** Statements the ORM sent since the last reset. */
  readonly sql: SqlLogEntry[];
  /** Empties `hooks` and `sql`. */
  resetLogs(): void;
  /** Escape hatch for adapter-specific code. For MikroORM, `em` is a fresh fork per test. */
  readonly native: { dataSource?: DataSource; orm?: MikroORM; em?: EntityManager };

  // ─── cohort operations, through the ORM's adapter package ──────────────────────────────────
  /**
   * cohort's bulkInsert of `entities`, all of `target`'s class (default: the first entity's class;
   * give the root fixture for a mix of single-table-inheritance children).
   */
  bulkInsert(entities: object[], options?: InsertOptions, target?: FixtureName): Promise<BulkResult<object>>;
  /** cohort's bulkUpdate (same class rule as bulkInsert). */
  bulkUpdate(entities: object[], options?: UpdateOptions, target?: FixtureName): Promise<BulkResult<object>>;
  /** cohort's bulkSave (same class rule as bulkInsert). */
  bulkSave(entities: object[], options?: SaveOptions, target?: FixtureName): Promise<BulkResult<object>>;
  /** cohort's bulkUpsert (same class rule as bulkInsert). */
  bulkUpsert(entities: object[], options?: UpsertOptions, target?: FixtureName): Promise<BulkResult<object>>;
  /** cohort's bulkRemove (same class rule as bulkInsert). */
  bulkRemove(entities: object[], options?: RemoveOptions, target?: FixtureName): Promise<BulkResult<object>>;
  /**
   * Every entity of `fixture` loaded with the ORM's own find, ordered by id. Each call is a separate
   * caller: for MikroORM, a fresh fork manages what it returns.
   */
  find(fixture: FixtureName): Promise<any[]>;
}

/** What `describeConformance` needs beyond the scenario-facing interface. */
export interface ManagedOrmUnderTest extends OrmUnderTest {
  /** Before each test: empty the tables, the logs and (MikroORM) the identity map. */
  reset(): Promise<void>;
  /** After all tests: close connections and drop the schema. */
  close(): Promise<void>;
}

abstract class BaseOrmUnderTest {
  abstract readonly orm: OrmName;
  readonly hooks: HookLogEntry[];
  readonly sql: SqlLogEntry[] = [];
  protected readonly hookLog: HookLog;

  protected constructor(
    orm: OrmName,
    protected readonly session: SchemaSession,
    protected readonly classes: FixtureClasses,
    private readonly embeddables: Embeddables,
  ) {
    this.hookLog = new HookLog(orm);
    this.hooks = this.hookLog.entries;
  }

  get schema(): string {
    return this.session.name;
  }

  /** The class cohort should write: the given fixture's, else the first entity's. */
  protected targetClass(entities: object[], target?: FixtureName): new () => object {
    if (target) return this.classes[target];
    const first = entities[0];
    if (!first) throw new Error('bulk call without entities needs a target fixture');
    return first.constructor as new () => object;
  }

  create(fixture: FixtureName, data: Record<string, unknown>): any {
    const entity = new this.classes[fixture]() as Record<string, unknown>;
    const embedded = this.embeddables[fixture] ?? {};
    for (const [key, value] of Object.entries(data)) {
      const Embeddable = embedded[key];
      entity[key] = Embeddable && value && !(value instanceof Embeddable) ? Object.assign(new Embeddable(), value) : value;
    }
    bindToHookLog(entity, this.hookLog);
    return entity;
  }

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    return this.session.query<R>(sql, params);
  }

  rows(table: string, orderBy?: string): Promise<Record<string, unknown>[]> {
    return this.session.rows(table, orderBy);
  }

  objectState(entity: object): Record<string, unknown> {
    return normalizeRecord(entity);
  }

  resetLogs(): void {
    this.hookLog.clear();
    this.sql.length = 0;
  }
}

class TypeormUnderTest extends BaseOrmUnderTest implements ManagedOrmUnderTest {
  readonly orm = 'typeorm' as const;
  private dataSource!: DataSource;

  static async open(url: string, prefix: string): Promise<TypeormUnderTest> {
    const self = new TypeormUnderTest(await SchemaSession.open(url, prefix));
    self.dataSource = await createTypeormDataSource(url, self.schema, { hooks: self.hookLog, sql: self.sql });
    return self;
  }

  private constructor(session: SchemaSession) {
    super('typeorm', session, typeormFixtures, typeormEmbeddables);
  }

  get native() {
    return { dataSource: this.dataSource };
  }

  async ormSave(entities: object[]): Promise<void> {
    await this.dataSource.manager.save(entities);
  }

  async ormRemove(entities: object[]): Promise<void> {
    await this.dataSource.manager.remove(entities);
  }

  bulkInsert(entities: object[], options?: InsertOptions, target?: FixtureName) {
    return typeormBulkInsert(this.dataSource, this.targetClass(entities, target), entities, withStrategy(options));
  }

  bulkUpdate(entities: object[], options?: UpdateOptions, target?: FixtureName) {
    return typeormBulkUpdate(this.dataSource, this.targetClass(entities, target), entities, withStrategy(options));
  }

  bulkSave(entities: object[], options?: SaveOptions, target?: FixtureName) {
    return typeormBulkSave(this.dataSource, this.targetClass(entities, target), entities, withStrategy(options));
  }

  bulkUpsert(entities: object[], options?: UpsertOptions, target?: FixtureName) {
    return typeormBulkUpsert(this.dataSource, this.targetClass(entities, target), entities, withStrategy(options));
  }

  bulkRemove(entities: object[], options?: RemoveOptions, target?: FixtureName) {
    return typeormBulkRemove(this.dataSource, this.targetClass(entities, target), entities, withStrategy(options));
  }

  async find(fixture: FixtureName): Promise<any[]> {
    const rows = await this.dataSource.getRepository(this.classes[fixture]).find({ order: { id: 'ASC' } as never });
    for (const row of rows) bindToHookLog(row as Record<string, unknown>, this.hookLog);
    return rows;
  }

  async reset(): Promise<void> {
    await this.session.truncateAll();
    this.resetLogs();
  }

  async close(): Promise<void> {
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    await this.session.close();
  }
}

class MikroOrmUnderTest extends BaseOrmUnderTest implements ManagedOrmUnderTest {
  readonly orm = 'mikro-orm' as const;
  private mikroOrm!: MikroORM;
  private em!: EntityManager;

  static async open(url: string, prefix: string): Promise<MikroOrmUnderTest> {
    const self = new MikroOrmUnderTest(await SchemaSession.open(url, prefix));
    self.mikroOrm = await createMikroOrm(url, self.schema, { hooks: self.hookLog, sql: self.sql });
    self.em = self.mikroOrm.em.fork();
    return self;
  }

  private constructor(session: SchemaSession) {
    super('mikro-orm', session, mikroOrmFixtures, mikroOrmEmbeddables);
  }

  get native() {
    return { orm: this.mikroOrm, em: this.em };
  }

  async ormSave(entities: object[]): Promise<void> {
    this.em.persist(entities);
    await this.em.flush();
  }

  async ormRemove(entities: object[]): Promise<void> {
    this.em.remove(entities);
    await this.em.flush();
  }

  bulkInsert(entities: object[], options?: InsertOptions, target?: FixtureName) {
    return mikroOrmBulkInsert(this.em, this.targetClass(entities, target), entities, withStrategy(options));
  }

  bulkUpdate(entities: object[], options?: UpdateOptions, target?: FixtureName) {
    return mikroOrmBulkUpdate(this.em, this.targetClass(entities, target), entities, withStrategy(options));
  }

  bulkSave(entities: object[], options?: SaveOptions, target?: FixtureName) {
    return mikroOrmBulkSave(this.em, this.targetClass(entities, target), entities, withStrategy(options));
  }

  bulkUpsert(entities: object[], options?: UpsertOptions, target?: FixtureName) {
    return mikroOrmBulkUpsert(this.em, this.targetClass(entities, target), entities, withStrategy(options));
  }

  bulkRemove(entities: object[], options?: RemoveOptions, target?: FixtureName) {
    return mikroOrmBulkRemove(this.em, this.targetClass(entities, target), entities, withStrategy(options));
  }

  /** Loads through a fresh fork each call: two calls give two callers' separate instances. */
  async find(fixture: FixtureName): Promise<any[]> {
    const rows = await this.mikroOrm.em.fork().find(this.classes[fixture], {}, { orderBy: { id: 'asc' } as never });
    for (const row of rows) bindToHookLog(row as Record<string, unknown>, this.hookLog);
    return rows;
  }

  async reset(): Promise<void> {
    await this.session.truncateAll();
    this.em = this.mikroOrm.em.fork();
    this.resetLogs();
  }

  async close(): Promise<void> {
    await this.mikroOrm?.close(true);
    await this.session.close();
  }
}

/** Opens `orm` on a fresh schema named after `prefix`. */
export function openOrmUnderTest(orm: OrmName, url: string, prefix: string): Promise<ManagedOrmUnderTest> {
  return orm === 'typeorm' ? TypeormUnderTest.open(url, prefix) : MikroOrmUnderTest.open(url, prefix);
}
