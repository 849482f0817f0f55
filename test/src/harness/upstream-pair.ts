// Scenarios derived from the ORMs' own test suites, each on its own entities: the same scenario body
// runs once with the ORM's own write (the reference) and once with cohort's (the subject), each in a
// fresh schema, and the two runs must leave the same rows, the same objects and the same journal.
import { createSchema } from '@cohort/pg-harness';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { type EntityManager, MikroORM, type Options } from '@mikro-orm/postgresql';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, beforeAll, beforeEach, expect, inject } from 'vitest';
import { mask } from './differential.js';
import { createMikroOrmTables } from './mikro-orm-major.js';

/** Which write a scenario body is asked to do: the ORM's own, or cohort's. */
export type WriteMode = 'orm' | 'cohort';

/**
 * What listeners and subscribers of a scenario record, in order. Entity listeners get no context
 * in either ORM, so they write to this module-wide journal; the two sides of a scenario run one
 * after the other, and `compare` takes the journal of each.
 */
export const journal = {
  entries: [] as unknown[],
  /** Records one call: `journal.record('beforeInsert', { title: this.title })`. */
  record(event: string, detail?: unknown): void {
    this.entries.push(detail === undefined ? event : [event, normalizeState(detail)]);
  },
  take(): unknown[] {
    return this.entries.splice(0);
  },
};

/** What a side of a scenario gives `compare` to check, besides the tables. */
export interface SideOutcome {
  /** Objects whose state (own enumerable data, normalized) must match between the sides. */
  objects?: readonly object[];
  /** Any further value that must match (results, returned entities, flags). */
  value?: unknown;
}

export interface CompareOptions {
  /** Tables whose rows must be equal, with an optional ORDER BY (default: the first column). */
  tables: ReadonlyArray<string | { table: string; orderBy: string }>;
  /** Keys compared by shape only (generated uuids, timestamps). */
  mask?: readonly string[];
  /** Leave the journals out of the comparison (say why in the scenario). */
  ignoreJournal?: boolean;
}

interface Side {
  readonly mode: WriteMode;
  readonly schema: string;
  /** Raw SQL (`$1` parameters) on the harness's own connection, outside the ORM. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** A small pool of the harness's own, for raw SQL that is not the scenario's. */
function harnessPool(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    query: async <R>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as R[],
    end: () => pool.end(),
  };
}

/** Rows of `table` in the side's schema, normalized as object states are. */
export async function rowsOf(side: Side, table: string, orderBy = '1'): Promise<Record<string, unknown>[]> {
  const rows = await side.query(`SELECT * FROM "${side.schema}"."${table}" ORDER BY ${orderBy}`);
  return rows.map((row) => normalizeState(row) as Record<string, unknown>);
}

async function compareSides<S extends Side>(
  reference: S,
  subject: S,
  run: (side: S) => Promise<SideOutcome | undefined>,
  options: CompareOptions,
): Promise<void> {
  journal.take();
  const refOut = (await run(reference)) ?? {};
  const refJournal = journal.take();
  const subOut = (await run(subject)) ?? {};
  const subJournal = journal.take();
  const masked = new Set(options.mask ?? []);
  for (const spec of options.tables) {
    const { table, orderBy } = typeof spec === 'string' ? { table: spec, orderBy: undefined } : spec;
    const [refRows, subRows] = await Promise.all([rowsOf(reference, table, orderBy), rowsOf(subject, table, orderBy)]);
    expect(mask(subRows, masked), `rows of ${table}`).toEqual(mask(refRows, masked));
  }
  const states = (out: SideOutcome) => (out.objects ?? []).map((o) => mask(normalizeState(o), masked));
  expect(states(subOut), 'object state').toEqual(states(refOut));
  expect(mask(normalizeState(subOut.value), masked), 'value').toEqual(mask(normalizeState(refOut.value), masked));
  if (!options.ignoreJournal) expect(mask(subJournal, masked), 'journal').toEqual(mask(refJournal, masked));
}

// ─── TypeORM ──────────────────────────────────────────────────────────────────────────────────

export interface TypeormSide extends Side {
  readonly dataSource: DataSource;
}

export interface TypeormPair {
  /** Runs `run` on the reference (mode 'orm') and the subject (mode 'cohort') and compares them. */
  compare(run: (side: TypeormSide) => Promise<SideOutcome | undefined>, options: CompareOptions): Promise<void>;
  reference(): TypeormSide;
  subject(): TypeormSide;
}

/**
 * Two DataSources on `options.entities` (and subscribers), each in a fresh schema, opened before
 * the file's tests, emptied before each test, dropped after all.
 */
export function typeormPair(prefix: string, options: Partial<DataSourceOptions>): TypeormPair {
  const sides: TypeormSide[] = [];
  const drops: Array<() => Promise<void>> = [];
  let pool: ReturnType<typeof harnessPool> | undefined;
  beforeAll(async () => {
    const url = inject('databaseUrl');
    const raw = harnessPool(url);
    pool = raw;
    for (const mode of ['orm', 'cohort'] as const) {
      const created = await createSchema(url, `${prefix}_${mode}`);
      drops.push(created.drop);
      const dataSource = new DataSource({
        type: 'postgres',
        url,
        schema: created.name,
        synchronize: true,
        uuidExtension: 'pgcrypto',
        ...options,
      } as DataSourceOptions);
      await dataSource.initialize();
      sides.push({ mode, schema: created.name, dataSource, query: raw.query });
    }
  });
  beforeEach(async () => {
    for (const side of sides) await truncateSchema(side);
    journal.take();
  });
  afterAll(async () => {
    for (const side of sides) if (side.dataSource.isInitialized) await side.dataSource.destroy();
    await pool?.end();
    for (const drop of drops) await drop();
  });
  const ready = (i: number) => {
    const side = sides[i];
    if (!side) throw new Error('the pair is only open inside tests');
    return side;
  };
  return {
    compare: (run, compareOptions) => compareSides(ready(0), ready(1), run, compareOptions),
    reference: () => ready(0),
    subject: () => ready(1),
  };
}

// ─── MikroORM ─────────────────────────────────────────────────────────────────────────────────

export interface MikroOrmSide extends Side {
  readonly orm: MikroORM;
  /** A fresh fork for this side's run of the scenario (a new one per test). */
  readonly em: EntityManager;
}

export interface MikroOrmPair {
  compare(run: (side: MikroOrmSide) => Promise<SideOutcome | undefined>, options: CompareOptions): Promise<void>;
  reference(): MikroOrmSide;
  subject(): MikroOrmSide;
}

/** Two MikroORM instances on `options.entities` (and subscribers), each in a fresh schema. */
export function mikroOrmPair(prefix: string, options: Partial<Options>): MikroOrmPair {
  const sides: Array<{ mode: WriteMode; schema: string; orm: MikroORM; em: EntityManager }> = [];
  const drops: Array<() => Promise<void>> = [];
  let pool: ReturnType<typeof harnessPool> | undefined;
  const query = <R>(sql: string, params?: unknown[]) => {
    if (!pool) throw new Error('the pair is only open inside tests');
    return pool.query<R>(sql, params);
  };
  beforeAll(async () => {
    const url = inject('databaseUrl');
    pool = harnessPool(url);
    for (const mode of ['orm', 'cohort'] as const) {
      const created = await createSchema(url, `${prefix}_${mode}`);
      drops.push(created.drop);
      const orm = await MikroORM.init({
        clientUrl: url,
        schema: created.name,
        metadataProvider: ReflectMetadataProvider,
        allowGlobalContext: false,
        pool: { min: 0, max: 4 },
        ...options,
      });
      await createMikroOrmTables(orm, created.name);
      sides.push({ mode, schema: created.name, orm, em: orm.em.fork() });
    }
  });
  beforeEach(async () => {
    for (const side of sides) {
      await truncateSchema({ ...side, query });
      side.em = side.orm.em.fork();
    }
    journal.take();
  });
  afterAll(async () => {
    for (const side of sides) await side.orm.close(true);
    await pool?.end();
    for (const drop of drops) await drop();
  });
  const ready = (i: number): MikroOrmSide => {
    const side = sides[i];
    if (!side) throw new Error('the pair is only open inside tests');
    return {
      mode: side.mode,
      schema: side.schema,
      orm: side.orm,
      em: side.em,
      query,
    };
  };
  return {
    compare: (run, compareOptions) => compareSides(ready(0), ready(1), run, compareOptions),
    reference: () => ready(0),
    subject: () => ready(1),
  };
}

// ─── state ────────────────────────────────────────────────────────────────────────────────────

async function truncateSchema(side: Side): Promise<void> {
  const tables = await side.query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'typeorm_metadata'`,
    [side.schema],
  );
  if (tables.length === 0) return;
  const list = tables.map((t) => `"${side.schema}"."${t.tablename}"`).join(', ');
  await side.query(`TRUNCATE ${list} RESTART IDENTITY CASCADE`);
}

/**
 * A value as the two sides compare it: Dates → ISO text, Buffers → `\x` hex, bigints → text,
 * `undefined` properties dropped, keys sorted. An entity nested in another (a relation) is reduced
 * to `{ $entity: class, id }` so that graphs compare by key and cycles end; an object without an
 * `id` (an embeddable) compares by its data. MikroORM collections compare as their items' keys.
 */
export function normalizeState(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => normalizeState(item, depth + 1));
  const collection = value as { isInitialized?: () => boolean; getItems?: () => object[] };
  if (typeof collection.getItems === 'function' && typeof collection.isInitialized === 'function') {
    return collection.isInitialized() ? collection.getItems().map((item) => normalizeState(item, depth + 1)) : '<uninitialized>';
  }
  const proto = Object.getPrototypeOf(value);
  const plain = proto === Object.prototype || proto === null;
  const record = value as Record<string, unknown>;
  if (!plain && depth > 0 && 'id' in record) return { $entity: value.constructor.name, id: normalizeState(record.id, 99) };
  if (depth > 8) return '<deep>';
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined || typeof item === 'function') continue;
    out[key] = normalizeState(item, depth + 1);
  }
  return out;
}
