// Every write path the benchmark measures. A path prepares its objects (untimed), then `write`
// is the one timed call; the case runner checks what landed.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { changeRow, chunks, type Row, rowValues } from './data.js';
import { type CaseSession, copyBinary, copyLine, copyLines } from './db.js';
import { graphPaths } from './graph.js';
import type { HookCounts } from './hooks.js';
import type { MikroSeed } from './mikro-entities.js';
import type { TypeormSeed } from './typeorm-entities.js';

export type Workload = 'insert' | 'update' | 'upsert' | 'remove' | 'stream' | 'graph';

/** What a path hands to the runner for one run. */
export interface Prepared {
  /** The objects written, carrying the values the table must hold afterwards (remove: the objects removed). */
  objects: Row[];
  /** The timed call. Returns cohort's result when there is one. */
  write(): Promise<CohortResult | undefined>;
  /** Untimed clean-up (e.g. clear an EntityManager). */
  cleanup?(): void | Promise<void>;
  /**
   * The path's own checks after the write, in place of the runner's one-table checks (the graph
   * workload: every table). Fails by throwing; returns the fraction of objects holding a key.
   */
  check?(counts: HookCounts, warnings: Set<string>): Promise<number>;
}

export interface CohortResult {
  inserted: number;
  updated: number;
  unchanged: number;
  /** bulkRemove's count (absent from cores without bulkRemove). */
  removed?: number;
  skipped: unknown[];
  batches: number;
  statements: number;
}

export interface PathDef {
  key: string;
  workload: Workload;
  label: string;
  /** The path promises keys on every object afterwards (checked). */
  keysPromised: boolean;
  /** The path promises listener + subscriber calls for every row (checked). */
  hooksPromised: boolean;
  /** Raw COPY (insert yardstick) or the raw one-statement SQL of an update/upsert/remove. */
  reference?: boolean;
  /** Fewer runs for paths known to take ~1 minute per run at this size. */
  slowAt?: number;
  /**
   * Runs at most this many rows: at a larger size of the plan it runs at this one, in the same group,
   * and its ratios are taken per row (the graph workload's ORM paths).
   */
  maxSize?: number;
  /** Why the path cannot run here, or undefined. */
  unavailable?(): Promise<string | undefined>;
  prepare(session: CaseSession, n: number, tag: string): Promise<Prepared>;
}

export const BATCH = 10_000;
const PG_MAX_PARAMS = 65_535;

type AnyFn = (...args: any[]) => Promise<any>;

/** `@cohort/mikro-orm`, imported at run time: it is being written while this benchmark runs. */
let mikroModule: Promise<Record<string, unknown> | undefined> | undefined;
function cohortMikro(): Promise<Record<string, unknown> | undefined> {
  mikroModule ??= import('@cohort/mikro-orm').then(
    (m) => m as unknown as Record<string, unknown>,
    () => undefined,
  );
  return mikroModule;
}

export async function mikroFn(name: string): Promise<AnyFn | undefined> {
  const m = await cohortMikro();
  return typeof m?.[name] === 'function' ? (m[name] as AnyFn) : undefined;
}

/** A function of `@cohort/typeorm` (imported on first use). */
async function typeormFn(name: string): Promise<AnyFn | undefined> {
  const m = (await import('@cohort/typeorm')) as unknown as Record<string, unknown>;
  return typeof m[name] === 'function' ? (m[name] as AnyFn) : undefined;
}

// The entity classes, imported on first use.
const typeormSeed = async () => (await import('./typeorm-entities.js')).TypeormSeed;

/** What every cohort TypeORM path starts from: the entity class, the adapter and the DataSource. */
async function cohortOnTypeorm(session: CaseSession) {
  const TypeormSeed = await typeormSeed();
  const cohortTypeorm = await import('@cohort/typeorm');
  return { TypeormSeed, cohortTypeorm, ds: await session.typeorm() };
}
const mikroSeed = async () => (await import('./mikro-entities.js')).MikroSeed;

/** `batchSize` plus the strategy under test, when there is one. */
// BENCH_PIPELINE=0: cohort's calls run batch after batch (`pipeline: false`), for an A/B of the overlap.
const pipelineOff: Record<string, unknown> = process.env.BENCH_PIPELINE === '0' ? { pipeline: false } : {};
export const withStrategy = (
  strategy: string | undefined,
  options: Record<string, unknown> = { batchSize: BATCH },
): Record<string, unknown> => (strategy ? { ...pipelineOff, ...options, strategy } : { ...pipelineOff, ...options });

/** The insert strategies of cohort (`strategy` option), when the installed core has the option. */
export function insertStrategies(): string[] {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('@cohort/core');
    // The option types' file: engine/options/ since the engine is laid out by operation, engine/ before.
    const candidates = [
      join(dirname(entry), 'engine', 'options', 'bulk-options.d.ts'),
      join(dirname(entry), 'engine', 'bulk-options.d.ts'),
    ];
    const found = candidates.find((file) => existsSync(file));
    if (!found) return [];
    const typings = readFileSync(found, 'utf8');
    if (!/\bstrategy\?:/.test(typings)) return [];
    return ['unnest', 'copy'].filter((s) => typings.includes(`'${s}'`));
  } catch {
    return [];
  }
}

async function typeormEntities(n: number, tag: string): Promise<TypeormSeed[]> {
  const TypeormSeed = await typeormSeed();
  const out: TypeormSeed[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = Object.assign(new TypeormSeed(), rowValues(i, tag));
  return out;
}

async function mikroEntities(n: number, tag: string): Promise<MikroSeed[]> {
  const MikroSeed = await mikroSeed();
  const out: MikroSeed[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = Object.assign(new MikroSeed(), rowValues(i, tag));
  return out;
}

function plainRows(n: number, tag: string): Row[] {
  const out: Row[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = rowValues(i, tag);
  return out;
}

/**
 * Upsert input, by the natural key `label` (UNIQUE in the upsert table): the first half are the
 * seeded rows (same label, no id, qty and created_at changed), the second half are new rows.
 */
function upsertInput<T extends Row>(n: number, tag: string, make: () => T): T[] {
  const half = n >> 1;
  const out: T[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = Object.assign(make(), rowValues(i, tag));
    if (i < half) {
      row.label = rowValues(i, seedTag(tag)).label;
      row.qty += 1_000_000;
      row.createdAt = new Date(row.createdAt.getTime() + 3_600_000);
    } else {
      row.label = `${tag}-new-${i}`;
    }
    out[i] = row;
  }
  return out;
}

const seedTag = (tag: string) => `${tag}-seed`;

// ---------------------------------------------------------------------------------------------
// insert

function cohortTypeormInsert(strategy?: string): PathDef {
  return {
    key: strategy ? `cohort-typeorm-${strategy}` : 'cohort-typeorm',
    workload: 'insert',
    label: `cohort TypeORM bulkInsert${strategy ? ` (strategy '${strategy}')` : ''}`,
    keysPromised: true,
    hooksPromised: true,
    async prepare(session, n, tag) {
      const { TypeormSeed, cohortTypeorm, ds } = await cohortOnTypeorm(session);
      const entities = await typeormEntities(n, tag);
      // `strategy` is passed only when the installed core has it (see insertStrategies()).
      const options = withStrategy(strategy) as Parameters<typeof cohortTypeorm.bulkInsert>[3];
      return { objects: entities, write: () => cohortTypeorm.bulkInsert(ds, TypeormSeed, entities, options) };
    },
  };
}

function cohortMikroInsert(strategy?: string): PathDef {
  return {
    key: strategy ? `cohort-mikro-${strategy}` : 'cohort-mikro',
    workload: 'insert',
    label: `cohort MikroORM bulkInsert${strategy ? ` (strategy '${strategy}')` : ''}`,
    keysPromised: true,
    hooksPromised: true,
    unavailable: async () => ((await mikroFn('bulkInsert')) ? undefined : '@cohort/mikro-orm exports no bulkInsert'),
    async prepare(session, n, tag) {
      const MikroSeed = await mikroSeed();
      const orm = await session.mikro();
      const bulkInsert = (await mikroFn('bulkInsert'))!;
      const em = orm.em.fork();
      const entities = await mikroEntities(n, tag);
      return {
        objects: entities,
        write: () => bulkInsert(em, MikroSeed, entities, withStrategy(strategy)),
        cleanup: () => em.clear(),
      };
    },
  };
}

const typeormSaveInsert: PathDef = {
  key: 'typeorm-save',
  workload: 'insert',
  label: 'TypeORM save(array, { chunk: 10000 })',
  keysPromised: true,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const TypeormSeed = await typeormSeed();
    const repo = (await session.typeorm()).getRepository(TypeormSeed);
    const entities = await typeormEntities(n, tag);
    return {
      objects: entities,
      write: async () => {
        await repo.save(entities, { chunk: BATCH });
        return undefined;
      },
    };
  },
};

const typeormQueryBuilderInsert: PathDef = {
  key: 'typeorm-qb',
  workload: 'insert',
  label: `TypeORM insert query builder (${Math.floor(PG_MAX_PARAMS / 3)}-row chunks, one transaction)`,
  keysPromised: false,
  hooksPromised: false,
  async prepare(session, n, tag) {
    const TypeormSeed = await typeormSeed();
    const ds = await session.typeorm();
    const entities = await typeormEntities(n, tag);
    return {
      objects: entities,
      write: async () => {
        await ds.transaction(async (manager) => {
          for (const chunk of chunks(entities, Math.floor(PG_MAX_PARAMS / 3))) {
            await manager.createQueryBuilder().insert().into(TypeormSeed).values(chunk).execute();
          }
        });
        return undefined;
      },
    };
  },
};

const mikroFlushInsert: PathDef = {
  key: 'mikro-flush',
  workload: 'insert',
  label: 'MikroORM persist + flush',
  keysPromised: true,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const em = (await session.mikro()).em.fork();
    const entities = await mikroEntities(n, tag);
    return {
      objects: entities,
      write: async () => {
        em.persist(entities);
        await em.flush();
        return undefined;
      },
      cleanup: () => em.clear(),
    };
  },
};

const mikroInsertMany: PathDef = {
  key: 'mikro-insertMany',
  workload: 'insert',
  label: 'MikroORM em.insertMany',
  keysPromised: false,
  hooksPromised: false,
  async prepare(session, n, tag) {
    const MikroSeed = await mikroSeed();
    const em = (await session.mikro()).em.fork();
    const entities = await mikroEntities(n, tag);
    return {
      objects: entities,
      write: async () => {
        await em.insertMany(MikroSeed, entities);
        return undefined;
      },
      cleanup: () => em.clear(),
    };
  },
};

const rawValuesInsert: PathDef = {
  key: 'raw-values',
  workload: 'insert',
  label: `raw multi-row VALUES (${Math.floor(PG_MAX_PARAMS / 3)}-row chunks, one transaction)`,
  keysPromised: false,
  hooksPromised: false,
  async prepare(session, n, tag) {
    const rows = plainRows(n, tag);
    const { client } = session;
    return {
      objects: rows,
      write: async () => {
        await client.query('BEGIN');
        try {
          for (const chunk of chunks(rows, Math.floor(PG_MAX_PARAMS / 3))) {
            const params: unknown[] = [];
            const tuples = chunk.map((r) => {
              params.push(r.qty, r.label, r.createdAt);
              const k = params.length;
              return `($${k - 2}, $${k - 1}, $${k})`;
            });
            await client.query(`INSERT INTO ${session.table} (qty, label, created_at) VALUES ${tuples.join(', ')}`, params);
          }
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
        return undefined;
      },
    };
  },
};

const rawUnnestInsert: PathDef = {
  key: 'raw-unnest',
  workload: 'insert',
  label: 'raw INSERT … SELECT FROM unnest (one statement)',
  keysPromised: false,
  hooksPromised: false,
  async prepare(session, n, tag) {
    const rows = plainRows(n, tag);
    return {
      objects: rows,
      write: async () => {
        await session.client.query(
          `INSERT INTO ${session.table} (qty, label, created_at) ` +
            'SELECT * FROM unnest($1::int4[], $2::varchar[], $3::timestamptz[])',
          [rows.map((r) => r.qty), rows.map((r) => r.label), rows.map((r) => r.createdAt)],
        );
        return undefined;
      },
    };
  },
};

/** Raw COPY of the plain rows in one format: `chunks` encodes them, `options` follows FROM STDIN. */
function rawCopy(
  key: string,
  label: string,
  options: string,
  chunks: (rows: Row[]) => Iterable<string | Buffer>,
  reference: boolean,
): PathDef {
  return {
    key,
    workload: 'insert',
    label,
    keysPromised: false,
    hooksPromised: false,
    reference,
    async prepare(session, n, tag) {
      const rows = plainRows(n, tag);
      return {
        objects: rows,
        write: async () => {
          const stream = session.client.query(copyFrom(`COPY ${session.table} (qty, label, created_at) FROM STDIN${options}`));
          await pipeline(Readable.from(chunks(rows)), stream);
          return undefined;
        },
      };
    },
  };
}

const rawCopyInsert = rawCopy('raw-copy', 'raw COPY FROM STDIN (pg-copy-streams)', '', copyLines, true);
/** Not the yardstick (the issue's T is text COPY): shown so that binary COPY's own speed is known. */
const rawCopyBinaryInsert = rawCopy(
  'raw-copy-binary',
  'raw COPY FROM STDIN, binary format (pg-copy-streams)',
  ' (FORMAT binary)',
  copyBinary,
  false,
);

// ---------------------------------------------------------------------------------------------
// update: n rows seeded by COPY, loaded by the ORM (untimed), every column changed, then written.

/** `change: false` leaves the loaded entities as they are (the remove workload). */
async function loadTypeorm(session: CaseSession, n: number, tag: string, change = true): Promise<TypeormSeed[]> {
  const TypeormSeed = await typeormSeed();
  await session.seed(n, seedTag(tag));
  const entities = await (await session.typeorm()).getRepository(TypeormSeed).find({ order: { id: 'ASC' } });
  if (change) for (const e of entities) changeRow(e, tag);
  return entities;
}

/**
 * `snapshots`: with `trackEntityChanges(dataSource, { reload: false })`, the snapshots taken when the
 * entities were loaded stand in for the look-up (as MikroORM's identity map does for flush).
 */
function cohortTypeormUpdate(strategy?: string, snapshots = false): PathDef {
  return {
    key: snapshots ? 'cohort-typeorm-snapshots' : strategy ? `cohort-typeorm-${strategy}` : 'cohort-typeorm',
    workload: 'update',
    label: snapshots
      ? 'cohort TypeORM bulkUpdate, trackEntityChanges(dataSource, { reload: false })'
      : `cohort TypeORM bulkUpdate${strategy ? ` (strategy '${strategy}')` : ''}`,
    keysPromised: true,
    hooksPromised: true,
    async prepare(session, n, tag) {
      const { TypeormSeed, cohortTypeorm, ds } = await cohortOnTypeorm(session);
      if (snapshots) cohortTypeorm.trackEntityChanges(ds, { reload: false });
      const entities = await loadTypeorm(session, n, tag);
      return { objects: entities, write: () => cohortTypeorm.bulkUpdate(ds, TypeormSeed, entities, withStrategy(strategy)) };
    },
  };
}

function cohortMikroUpdate(strategy?: string): PathDef {
  return {
    key: strategy ? `cohort-mikro-${strategy}` : 'cohort-mikro',
    workload: 'update',
    label: `cohort MikroORM bulkUpdate${strategy ? ` (strategy '${strategy}')` : ''}`,
    keysPromised: true,
    hooksPromised: true,
    unavailable: async () => ((await mikroFn('bulkUpdate')) ? undefined : '@cohort/mikro-orm exports no bulkUpdate (yet)'),
    async prepare(session, n, tag) {
      const MikroSeed = await mikroSeed();
      const bulkUpdate = (await mikroFn('bulkUpdate'))!;
      const { em, entities } = await loadMikro(session, n, tag);
      return {
        objects: entities,
        write: () => bulkUpdate(em, MikroSeed, entities, withStrategy(strategy)),
        cleanup: () => em.clear(),
      };
    },
  };
}

const typeormSaveUpdate: PathDef = {
  key: 'typeorm-save',
  workload: 'update',
  // Without `chunk`, save() of 100k entities fails: its look-up SELECT binds one parameter per id
  // (typeorm#3044: "bind message has 34464 parameter formats but 0 parameters").
  label: 'TypeORM save(changed entities, { chunk: 10000 })',
  keysPromised: true,
  hooksPromised: true,
  slowAt: 50_000,
  async prepare(session, n, tag) {
    const TypeormSeed = await typeormSeed();
    const repo = (await session.typeorm()).getRepository(TypeormSeed);
    const entities = await loadTypeorm(session, n, tag);
    return {
      objects: entities,
      write: async () => {
        await repo.save(entities, { chunk: BATCH });
        return undefined;
      },
    };
  },
};

async function loadMikro(session: CaseSession, n: number, tag: string, change = true) {
  const MikroSeed = await mikroSeed();
  await session.seed(n, seedTag(tag));
  const em = (await session.mikro()).em.fork();
  const entities = await em.find(MikroSeed, {}, { orderBy: { id: 'asc' } });
  if (change) for (const e of entities) changeRow(e, tag);
  return { em, entities };
}

const mikroFlushUpdate: PathDef = {
  key: 'mikro-flush',
  workload: 'update',
  label: 'MikroORM flush (changed managed entities)',
  keysPromised: true,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const { em, entities } = await loadMikro(session, n, tag);
    return {
      objects: entities,
      write: async () => {
        await em.flush();
        return undefined;
      },
      cleanup: () => em.clear(),
    };
  },
};

/** The update workload's rows for the raw paths: n rows seeded, read back as plain rows, every column changed. */
async function changedRawRows(session: CaseSession, n: number, tag: string): Promise<Row[]> {
  await session.seed(n, seedTag(tag));
  const { rows } = await session.client.query(`SELECT id, qty, label, created_at FROM ${session.table} ORDER BY id`);
  const objects: Row[] = rows.map((r) => ({ id: r.id, qty: r.qty, label: r.label, createdAt: r.created_at }));
  for (const r of objects) changeRow(r, tag);
  return objects;
}

const rawUpdate: PathDef = {
  key: 'raw-sql',
  workload: 'update',
  label: 'raw UPDATE … FROM unnest (one statement)',
  keysPromised: true,
  hooksPromised: false,
  reference: true,
  async prepare(session, n, tag) {
    const objects = await changedRawRows(session, n, tag);
    return {
      objects,
      write: async () => {
        await session.client.query(
          `UPDATE ${session.table} AS t SET qty = u.qty, label = u.label, created_at = u.created_at ` +
            'FROM unnest($1::int4[], $2::int4[], $3::varchar[], $4::timestamptz[]) AS u(id, qty, label, created_at) ' +
            'WHERE t.id = u.id',
          [objects.map((r) => r.id), objects.map((r) => r.qty), objects.map((r) => r.label), objects.map((r) => r.createdAt)],
        );
        return undefined;
      },
    };
  },
};

/**
 * The fastest raw route for large updates and upserts: binary COPY into a temporary table, then one
 * statement from it, in one transaction (`statement` gets the stage's name).
 */
async function viaStage(session: CaseSession, rows: Row[], withId: boolean, statement: (stage: string) => string) {
  const { client } = session;
  const columns = `${withId ? 'id int4, ' : ''}qty int4, label varchar(255), created_at timestamptz`;
  await client.query('BEGIN');
  try {
    await client.query(`CREATE TEMP TABLE bench_stage (${columns}) ON COMMIT DROP`);
    await pipeline(
      Readable.from(copyBinary(rows, withId)),
      client.query(copyFrom('COPY bench_stage FROM STDIN (FORMAT binary)')),
    );
    await client.query(statement('bench_stage'));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

const rawStagedUpdate: PathDef = {
  key: 'raw-staged',
  workload: 'update',
  label: 'raw binary COPY into a temporary table, then one UPDATE … FROM it',
  keysPromised: true,
  hooksPromised: false,
  reference: true,
  async prepare(session, n, tag) {
    const objects = await changedRawRows(session, n, tag);
    return {
      objects,
      write: async () => {
        await viaStage(
          session,
          objects,
          true,
          (stage) =>
            `UPDATE ${session.table} AS t SET qty = s.qty, label = s.label, created_at = s.created_at FROM ${stage} AS s WHERE t.id = s.id`,
        );
        return undefined;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// upsert on the natural key `label`: n/2 rows seeded by COPY; input = those n/2 (qty and created_at
// changed) + n/2 new rows. (A serial id cannot be the conflict target: TypeORM never sends the
// value of an increment primary key, and cohort follows it.)

/**
 * bulkUpsert takes `target`; bulkInsert (the route before bulkUpsert existed) `onConflict`. Each gets
 * only its own: an option a function does not have is refused.
 */
function upsertOptions(via: 'bulkUpsert' | 'bulkInsert' = 'bulkUpsert') {
  return via === 'bulkUpsert'
    ? { batchSize: BATCH, target: ['label'] }
    : { batchSize: BATCH, onConflict: { target: ['label'], action: 'update' as const } };
}

function cohortTypeormUpsert(strategy?: string): PathDef {
  return {
    key: strategy ? `cohort-typeorm-${strategy}` : 'cohort-typeorm',
    workload: 'upsert',
    label: `cohort TypeORM bulkUpsert${strategy ? ` (strategy '${strategy}')` : ''}`,
    keysPromised: true,
    hooksPromised: true,
    async prepare(session, n, tag) {
      const { TypeormSeed, cohortTypeorm, ds } = await cohortOnTypeorm(session);
      await session.seed(n >> 1, seedTag(tag));
      const entities = upsertInput(n, tag, () => new TypeormSeed());
      // Before bulkUpsert existed: bulkInsert with `onConflict` (the same statement).
      const bulkUpsert = await typeormFn('bulkUpsert');
      return {
        objects: entities,
        write: () =>
          bulkUpsert
            ? bulkUpsert(ds, TypeormSeed, entities, withStrategy(strategy, upsertOptions()))
            : cohortTypeorm.bulkInsert(ds, TypeormSeed, entities, withStrategy(strategy, upsertOptions('bulkInsert'))),
      };
    },
  };
}

function cohortMikroUpsert(strategy?: string): PathDef {
  return {
    key: strategy ? `cohort-mikro-${strategy}` : 'cohort-mikro',
    workload: 'upsert',
    label: `cohort MikroORM bulkUpsert${strategy ? ` (strategy '${strategy}')` : ''}`,
    keysPromised: true,
    hooksPromised: true,
    unavailable: async () => ((await mikroFn('bulkUpsert')) ? undefined : '@cohort/mikro-orm exports no bulkUpsert (yet)'),
    async prepare(session, n, tag) {
      const MikroSeed = await mikroSeed();
      const bulkUpsert = (await mikroFn('bulkUpsert'))!;
      const em = (await session.mikro()).em.fork();
      await session.seed(n >> 1, seedTag(tag));
      const entities = upsertInput(n, tag, () => new MikroSeed());
      return {
        objects: entities,
        write: () => bulkUpsert(em, MikroSeed, entities, withStrategy(strategy, upsertOptions())),
        cleanup: () => em.clear(),
      };
    },
  };
}

const typeormUpsert: PathDef = {
  key: 'typeorm-upsert',
  workload: 'upsert',
  label: `TypeORM upsert (${Math.floor(PG_MAX_PARAMS / 3)}-row chunks, one transaction)`,
  keysPromised: false,
  hooksPromised: false,
  async prepare(session, n, tag) {
    const TypeormSeed = await typeormSeed();
    const ds = await session.typeorm();
    await session.seed(n >> 1, seedTag(tag));
    const entities = upsertInput(n, tag, () => new TypeormSeed());
    return {
      objects: entities,
      write: async () => {
        await ds.transaction(async (manager) => {
          const repo = manager.getRepository(TypeormSeed);
          for (const chunk of chunks(entities, Math.floor(PG_MAX_PARAMS / 3))) {
            await repo.upsert(chunk, { conflictPaths: ['label'] });
          }
        });
        return undefined;
      },
    };
  },
};

const mikroUpsertMany: PathDef = {
  key: 'mikro-upsertMany',
  workload: 'upsert',
  label: 'MikroORM em.upsertMany',
  keysPromised: false,
  hooksPromised: false,
  async prepare(session, n, tag) {
    const MikroSeed = await mikroSeed();
    const em = (await session.mikro()).em.fork();
    await session.seed(n >> 1, seedTag(tag));
    const entities = upsertInput(n, tag, () => new MikroSeed());
    return {
      objects: entities,
      write: async () => {
        await em.upsertMany(MikroSeed, entities, { onConflictFields: ['label'] });
        return undefined;
      },
      cleanup: () => em.clear(),
    };
  },
};

const rawUpsert: PathDef = {
  key: 'raw-sql',
  workload: 'upsert',
  label: 'raw INSERT … SELECT FROM unnest … ON CONFLICT DO UPDATE (one statement)',
  keysPromised: false,
  hooksPromised: false,
  reference: true,
  async prepare(session, n, tag) {
    await session.seed(n >> 1, seedTag(tag));
    const rows = upsertInput<Row>(n, tag, () => ({}) as Row);
    return {
      objects: rows,
      write: async () => {
        await session.client.query(
          `INSERT INTO ${session.table} (qty, label, created_at) ` +
            'SELECT * FROM unnest($1::int4[], $2::varchar[], $3::timestamptz[]) ' +
            'ON CONFLICT (label) DO UPDATE SET qty = excluded.qty, created_at = excluded.created_at',
          [rows.map((r) => r.qty), rows.map((r) => r.label), rows.map((r) => r.createdAt)],
        );
        return undefined;
      },
    };
  },
};

const rawStagedUpsert: PathDef = {
  key: 'raw-staged',
  workload: 'upsert',
  label: 'raw binary COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT DO UPDATE from it',
  keysPromised: false,
  hooksPromised: false,
  reference: true,
  async prepare(session, n, tag) {
    await session.seed(n >> 1, seedTag(tag));
    const rows = upsertInput<Row>(n, tag, () => ({}) as Row);
    return {
      objects: rows,
      write: async () => {
        await viaStage(
          session,
          rows,
          false,
          (stage) =>
            `INSERT INTO ${session.table} (qty, label, created_at) SELECT qty, label, created_at FROM ${stage} ` +
            'ON CONFLICT (label) DO UPDATE SET qty = excluded.qty, created_at = excluded.created_at',
        );
        return undefined;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// remove: n rows seeded by COPY and loaded as entities (untimed), then every one of them removed.

const rawRemove: PathDef = {
  key: 'raw-sql',
  workload: 'remove',
  label: 'raw DELETE … WHERE id = ANY($1) (one statement)',
  keysPromised: false,
  hooksPromised: false,
  reference: true,
  async prepare(session, n, tag) {
    await session.seed(n, seedTag(tag));
    const { rows } = await session.client.query(`SELECT id, qty, label, created_at FROM ${session.table} ORDER BY id`);
    const objects: Row[] = rows.map((r) => ({ id: r.id, qty: r.qty, label: r.label, createdAt: r.created_at }));
    const ids = objects.map((r) => r.id);
    return {
      objects,
      write: async () => {
        await session.client.query(`DELETE FROM ${session.table} WHERE id = ANY($1::int4[])`, [ids]);
        return undefined;
      },
    };
  },
};

const cohortTypeormRemove: PathDef = {
  key: 'cohort-typeorm',
  workload: 'remove',
  label: 'cohort TypeORM bulkRemove',
  keysPromised: false,
  hooksPromised: true,
  unavailable: async () => ((await typeormFn('bulkRemove')) ? undefined : '@cohort/typeorm exports no bulkRemove'),
  async prepare(session, n, tag) {
    const { TypeormSeed, ds } = await cohortOnTypeorm(session);
    const bulkRemove = (await typeormFn('bulkRemove'))!;
    const entities = await loadTypeorm(session, n, tag, false);
    return { objects: entities, write: () => bulkRemove(ds, TypeormSeed, entities, withStrategy(undefined)) };
  },
};

const cohortMikroRemove: PathDef = {
  key: 'cohort-mikro',
  workload: 'remove',
  label: 'cohort MikroORM bulkRemove',
  keysPromised: false,
  hooksPromised: true,
  unavailable: async () => ((await mikroFn('bulkRemove')) ? undefined : '@cohort/mikro-orm exports no bulkRemove'),
  async prepare(session, n, tag) {
    const MikroSeed = await mikroSeed();
    const bulkRemove = (await mikroFn('bulkRemove'))!;
    const { em, entities } = await loadMikro(session, n, tag, false);
    return {
      objects: entities,
      write: () => bulkRemove(em, MikroSeed, entities, withStrategy(undefined)),
      cleanup: () => em.clear(),
    };
  },
};

const typeormRemove: PathDef = {
  key: 'typeorm-remove',
  workload: 'remove',
  // As with save(): without `chunk`, remove() of 100k entities fails, its look-up SELECT binding one
  // parameter per id (typeorm#3044).
  label: 'TypeORM remove(loaded entities, { chunk: 10000 })',
  keysPromised: false,
  hooksPromised: true,
  slowAt: 50_000,
  async prepare(session, n, tag) {
    const TypeormSeed = await typeormSeed();
    const repo = (await session.typeorm()).getRepository(TypeormSeed);
    const entities = await loadTypeorm(session, n, tag, false);
    return {
      objects: entities,
      write: async () => {
        await repo.remove(entities, { chunk: BATCH });
        return undefined;
      },
    };
  },
};

const mikroFlushRemove: PathDef = {
  key: 'mikro-flush',
  workload: 'remove',
  label: 'MikroORM em.remove(loaded entities) + flush',
  keysPromised: false,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const { em, entities } = await loadMikro(session, n, tag, false);
    return {
      objects: entities,
      write: async () => {
        em.remove(entities);
        await em.flush();
        return undefined;
      },
      cleanup: () => em.clear(),
    };
  },
};

/**
 * The least a remove that keeps the lifecycle can do: the raw statement above plus the ORM's own
 * remove events for every entity, dispatched through the ORM's machinery (TypeORM's Broadcaster,
 * MikroORM's EventManager) with nothing else — no transaction, no identity-map bookkeeping, no
 * result. TypeORM's events carry what remove() gives them, the stored row as `databaseEntity` and
 * the `entityId`, so that floor loads the rows once (one query, TypeORM's hydration) as remove()
 * must; `raw-typeorm-events-bare` leaves that out. Not usable paths (they promise none of the
 * ORMs' other remove semantics): anchors, so the report shows how much of any remove with hooks the
 * ORM's own event machinery costs against the bare DELETE.
 */
function typeormEventsFloor(lookUp: boolean): PathDef {
  return {
    key: lookUp ? 'raw-typeorm-events' : 'raw-typeorm-events-bare',
    workload: 'remove',
    label: lookUp
      ? "raw DELETE + TypeORM's own remove events with the stored rows loaded (floor with hooks)"
      : "raw DELETE + TypeORM's own remove events, no stored rows (floor without databaseEntity)",
    keysPromised: false,
    hooksPromised: true,
    async prepare(session, n, tag) {
      const TypeormSeed = await typeormSeed();
      const ds = await session.typeorm();
      const metadata = ds.getMetadata(TypeormSeed);
      const entities = await loadTypeorm(session, n, tag, false);
      const ids = entities.map((e) => e.id);
      const queryRunner = ds.createQueryRunner();
      // TypeORM's Broadcaster collects what async subscribers return in such a result object.
      const collected = () => ({ count: 0, promises: [] as Promise<void>[] });
      return {
        objects: entities,
        write: async () => {
          const stored = new Map<number, TypeormSeed>();
          if (lookUp) {
            const rows = await ds.getRepository(TypeormSeed).createQueryBuilder('s').where('s.id = ANY(:ids)', { ids }).getMany();
            for (const row of rows) stored.set(row.id, row);
          }
          const broadcast = async (event: 'broadcastBeforeRemoveEvent' | 'broadcastAfterRemoveEvent') => {
            const result = collected();
            for (const entity of entities) {
              queryRunner.broadcaster[event](
                result as never,
                metadata,
                entity,
                stored.get(entity.id),
                lookUp ? { id: entity.id } : undefined,
              );
            }
            await Promise.all(result.promises);
          };
          await broadcast('broadcastBeforeRemoveEvent');
          await session.client.query(`DELETE FROM ${session.table} WHERE id = ANY($1::int4[])`, [ids]);
          await broadcast('broadcastAfterRemoveEvent');
          return undefined;
        },
        cleanup: () => queryRunner.release(),
      };
    },
  };
}

const mikroEventsFloor: PathDef = {
  key: 'raw-mikro-events',
  workload: 'remove',
  label: "raw DELETE + MikroORM's own delete events, nothing else (floor with hooks)",
  keysPromised: false,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const MikroSeed = await mikroSeed();
    const { EventType } = await import('@mikro-orm/core');
    const { em, entities } = await loadMikro(session, n, tag, false);
    const meta = em.getMetadata().get(MikroSeed);
    const events = em.getEventManager();
    const ids = entities.map((e) => e.id);
    return {
      objects: entities,
      write: async () => {
        // Flush awaits each entity's event in turn; so does this.
        for (const entity of entities) await events.dispatchEvent(EventType.beforeDelete, { entity, em, meta });
        await session.client.query(`DELETE FROM ${session.table} WHERE id = ANY($1::int4[])`, [ids]);
        for (const entity of entities) await events.dispatchEvent(EventType.afterDelete, { entity, em, meta });
        return undefined;
      },
      cleanup: () => em.clear(),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// streaming import: an async generator makes entities lazily; nothing keeps them but the call.

/** Every `STREAM_SAMPLE`-th streamed entity is kept, to check its key and values afterwards. */
export const STREAM_SAMPLE = 997;

async function* lazily<T extends Row>(n: number, tag: string, make: () => T, kept: T[]): AsyncGenerator<T> {
  for (let i = 0; i < n; i++) {
    const entity = Object.assign(make(), rowValues(i, tag));
    if (i % STREAM_SAMPLE === 0) kept.push(entity);
    yield entity;
  }
}

/**
 * A stream runs batch by batch by default (one batch held); `pipeline: true` lets batches overlap,
 * measured to show what that costs in memory and gains in time.
 */
function streamTypeorm(pipeline?: true): PathDef {
  return {
    key: pipeline ? 'cohort-typeorm-pipeline' : 'cohort-typeorm',
    workload: 'stream',
    label: `cohort TypeORM bulkInsert(async generator, batchSize 10000${pipeline ? ', pipeline: true' : ''})`,
    keysPromised: true,
    hooksPromised: true,
    async prepare(session, n, tag) {
      const { TypeormSeed, cohortTypeorm, ds } = await cohortOnTypeorm(session);
      const kept: TypeormSeed[] = [];
      return {
        objects: kept,
        write: () =>
          cohortTypeorm.bulkInsert(
            ds,
            TypeormSeed,
            lazily(n, tag, () => new TypeormSeed(), kept),
            { ...pipelineOff, batchSize: BATCH, ...(pipeline ? { pipeline } : {}) },
          ),
      };
    },
  };
}

/**
 * MikroORM entities carry more per-row state than TypeORM's (accessors per instance, a helper, a change
 * set for the hooks): an async input goes in batches of 1,000 by default (the adapter's
 * STREAM_BATCH_SIZE); measured too with 10,000.
 */
function streamMikro(batchSize?: number): PathDef {
  return {
    key: batchSize ? `cohort-mikro-batch${batchSize}` : 'cohort-mikro',
    workload: 'stream',
    label: `cohort MikroORM bulkInsert(async generator, batchSize ${batchSize ?? '1000 (default for streams)'}, managed: false by default for streams)`,
    keysPromised: true,
    hooksPromised: true,
    unavailable: cohortMikroInsert().unavailable!,
    async prepare(session, n, tag) {
      const MikroSeed = await mikroSeed();
      const bulkInsert = (await mikroFn('bulkInsert'))!;
      const em = (await session.mikro()).em.fork();
      const kept: MikroSeed[] = [];
      return {
        objects: kept,
        write: () =>
          bulkInsert(
            em,
            MikroSeed,
            lazily(n, tag, () => new MikroSeed(), kept),
            { ...pipelineOff, ...(batchSize ? { batchSize } : {}) },
          ),
        cleanup: () => em.clear(),
      };
    },
  };
}

/**
 * The same streams' entities, made by the same generator (MikroORM's after its ORM is initialized, as
 * the cohort stream's are), written by a raw text COPY and otherwise dropped: what building the ORM's
 * entities costs a stream before any ORM or cohort work, so that each cohort stream's own share shows.
 */
function streamEntitiesRawCopy(orm: 'typeorm' | 'mikro'): PathDef {
  return {
    key: `raw-copy-${orm}-entities`,
    workload: 'stream',
    label: `raw COPY of ${orm === 'typeorm' ? 'TypeORM' : 'MikroORM'} entities from the same async generator (no ORM work)`,
    keysPromised: false,
    hooksPromised: false,
    async prepare(session, n, tag) {
      const kept: Row[] = [];
      let make: () => Row;
      if (orm === 'typeorm') {
        const Seed = await typeormSeed();
        make = () => new Seed() as Row;
      } else {
        await session.mikro();
        const Seed = await mikroSeed();
        make = () => new Seed() as unknown as Row;
      }
      return {
        objects: kept,
        write: async () => {
          const stream = session.client.query(copyFrom(`COPY ${session.table} (qty, label, created_at) FROM STDIN`));
          await pipeline(Readable.from(copyLinesOf(lazily(n, tag, make, kept))), stream);
          return undefined;
        },
      };
    },
  };
}

/** COPY text lines of an async stream of rows, ~1,000 rows per string. */
async function* copyLinesOf(rows: AsyncIterable<Row>): AsyncGenerator<string> {
  let buffer = '';
  let inBuffer = 0;
  for await (const r of rows) {
    buffer += copyLine(r);
    if (++inBuffer === 1000) {
      yield buffer;
      buffer = '';
      inBuffer = 0;
    }
  }
  if (buffer) yield buffer;
}

/** All paths, in the order they run (the reference of each workload first). */
export function allPaths(): PathDef[] {
  const strategies = insertStrategies();
  // cohort paths with the default strategy ('auto': the one the targets are judged on) and with the
  // strategy auto does not pick there, so that each choice of auto is measured against the other.
  const variants = (path: (strategy?: string) => PathDef, other: string) =>
    strategies.includes(other) ? [path(), path(other)] : [path()];
  const cohortInserts = strategies.length ? strategies.map((s) => cohortTypeormInsert(s)) : [cohortTypeormInsert()];
  return [
    rawCopyInsert,
    rawCopyBinaryInsert,
    ...cohortInserts,
    ...variants(cohortMikroInsert, 'unnest'),
    typeormSaveInsert,
    typeormQueryBuilderInsert,
    mikroFlushInsert,
    mikroInsertMany,
    rawValuesInsert,
    rawUnnestInsert,
    rawUpdate,
    rawStagedUpdate,
    ...variants(cohortTypeormUpdate, 'copy'),
    cohortTypeormUpdate(undefined, true),
    ...variants(cohortMikroUpdate, 'copy'),
    typeormSaveUpdate,
    mikroFlushUpdate,
    rawUpsert,
    rawStagedUpsert,
    ...variants(cohortTypeormUpsert, 'copy'),
    ...variants(cohortMikroUpsert, 'copy'),
    typeormUpsert,
    mikroUpsertMany,
    rawRemove,
    typeormEventsFloor(true),
    typeormEventsFloor(false),
    mikroEventsFloor,
    cohortTypeormRemove,
    cohortMikroRemove,
    typeormRemove,
    mikroFlushRemove,
    streamTypeorm(),
    streamTypeorm(true),
    streamMikro(),
    streamMikro(BATCH),
    streamEntitiesRawCopy('typeorm'),
    streamEntitiesRawCopy('mikro'),
    ...graphPaths(),
  ];
}

export function findPath(workload: string, key: string): PathDef {
  const path = allPaths().find((p) => p.workload === workload && p.key === key);
  if (!path) throw new Error(`no path ${workload}/${key}`);
  return path;
}
