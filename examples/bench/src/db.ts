// The per-case database session: one fresh schema, one seed table (the same DDL for every path),
// a plain pg client for the raw paths and for setup/checks, and the ORMs created on demand — and
// imported on demand, so a case's peak RSS holds only the libraries its path uses.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createSchema } from '@cohort/pg-harness';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DataSource } from 'typeorm';
import { copyText, type Row, rowValues } from './data.js';

export class CaseSession {
  private typeormSource?: DataSource;
  private mikroOrm?: MikroORM;

  private constructor(
    readonly url: string,
    readonly schema: string,
    readonly client: pg.Client,
    private readonly dropSchema: () => Promise<void>,
    /** The graph workload's session: its ORMs know the orders graph's entities (graph.ts). */
    readonly graph: boolean,
  ) {}

  /**
   * `uniqueLabel`: the upsert workload's natural key, `UNIQUE (label)`. `graph`: the orders graph's
   * tables too (orders, order_item, tag, order_tags; see graph.ts), and ORMs that know their entities.
   */
  static async open(url: string, prefix: string, uniqueLabel = false, graph = false): Promise<CaseSession> {
    const schema = await createSchema(url, prefix);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const session = new CaseSession(url, schema.name, client, schema.drop, graph);
    await client.query(
      `CREATE TABLE ${session.table} (id serial PRIMARY KEY, qty integer NOT NULL, ` +
        `label varchar(255) NOT NULL${uniqueLabel ? ' UNIQUE' : ''}, created_at timestamptz NOT NULL)`,
    );
    if (graph) {
      const { graphTables } = await import('./graph.js');
      for (const ddl of graphTables(`"${schema.name}"`)) await client.query(ddl);
    }
    return session;
  }

  /** The schema-qualified seed table. */
  get table(): string {
    return `"${this.schema}".seed`;
  }

  async typeorm(): Promise<DataSource> {
    if (!this.typeormSource) {
      const { DataSource } = await import('typeorm');
      const { entities, subscribers } = this.graph ? await typeormGraph() : await typeormSeed();
      this.typeormSource = new DataSource({
        type: 'postgres',
        url: this.url,
        schema: this.schema,
        entities,
        subscribers,
        synchronize: false,
        logging: false,
        poolSize: 4,
      });
      await this.typeormSource.initialize();
    }
    return this.typeormSource;
  }

  async mikro(): Promise<MikroORM> {
    if (!this.mikroOrm) {
      const { MikroORM } = await import('@mikro-orm/postgresql');
      const { ReflectMetadataProvider } = await import('@mikro-orm/decorators/legacy');
      const { entities, subscribers } = this.graph ? await mikroGraph() : await mikroSeed();
      this.mikroOrm = await MikroORM.init({
        clientUrl: this.url,
        schema: this.schema,
        entities,
        metadataProvider: ReflectMetadataProvider,
        subscribers,
        debug: false,
        allowGlobalContext: false,
        pool: { min: 0, max: 4 },
      });
    }
    return this.mikroOrm;
  }

  /** Empties the table and restarts its sequence, so each run writes into the same state (the graph's tags stay). */
  async reset(): Promise<void> {
    await this.client.query(`TRUNCATE ${this.table} RESTART IDENTITY`);
    if (this.graph) {
      const s = `"${this.schema}"`;
      await this.client.query(`TRUNCATE ${s}.order_tags, ${s}.order_item, ${s}.orders RESTART IDENTITY`);
    }
  }

  /** Inserts `n` rows (ids 1..n) through COPY, then ANALYZE, as the starting state of updates/upserts. */
  async seed(n: number, tag: string): Promise<void> {
    await this.copyRows(
      (function* () {
        for (let i = 0; i < n; i++) yield rowValues(i, tag);
      })(),
    );
    await this.client.query(`ANALYZE ${this.table}`);
  }

  /** COPY of rows (without key) on the raw client: the fastest way in, the benchmark's yardstick. */
  async copyRows(rows: Iterable<Row>): Promise<void> {
    const stream = this.client.query(copyFrom(`COPY ${this.table} (qty, label, created_at) FROM STDIN`));
    await pipeline(Readable.from(copyLines(rows)), stream);
  }

  async count(): Promise<number> {
    const { rows } = await this.client.query(`SELECT count(*)::int AS n FROM ${this.table}`);
    return rows[0].n;
  }

  /** Stored rows by id. */
  async byId(ids: number[]): Promise<Map<number, Row>> {
    const { rows } = await this.client.query(`SELECT id, qty, label, created_at FROM ${this.table} WHERE id = ANY($1::int4[])`, [
      ids,
    ]);
    return new Map(rows.map((r) => [r.id, { id: r.id, qty: r.qty, label: r.label, createdAt: r.created_at }]));
  }

  /** Stored rows by label (labels are unique within a run). */
  async byLabel(labels: string[]): Promise<Map<string, Row>> {
    const { rows } = await this.client.query(
      `SELECT id, qty, label, created_at FROM ${this.table} WHERE label = ANY($1::text[])`,
      [labels],
    );
    return new Map(rows.map((r) => [r.label, { id: r.id, qty: r.qty, label: r.label, createdAt: r.created_at }]));
  }

  async serverVersion(): Promise<string> {
    const { rows } = await this.client.query('SHOW server_version');
    return rows[0].server_version;
  }

  async close(): Promise<void> {
    await this.typeormSource?.destroy();
    await this.mikroOrm?.close(true);
    await this.client.end();
    await this.dropSchema();
  }
}

async function typeormSeed() {
  const { TypeormSeed, TypeormSeedSubscriber } = await import('./typeorm-entities.js');
  return { entities: [TypeormSeed], subscribers: [TypeormSeedSubscriber] };
}

async function typeormGraph() {
  const m = await import('./graph-typeorm-entities.js');
  return {
    entities: [m.TypeormOrder, m.TypeormOrderItem, m.TypeormTag],
    subscribers: [m.TypeormOrderSubscriber, m.TypeormOrderItemSubscriber],
  };
}

async function mikroSeed() {
  const { MikroSeed, MikroSeedSubscriber } = await import('./mikro-entities.js');
  return { entities: [MikroSeed], subscribers: [new MikroSeedSubscriber()] };
}

async function mikroGraph() {
  const m = await import('./graph-mikro-entities.js');
  return { entities: [m.MikroOrder, m.MikroOrderItem, m.MikroTag], subscribers: m.mikroGraphSubscribers() };
}

/** One row as a COPY text line. */
export function copyLine(r: Row): string {
  return `${r.qty}\t${copyText(r.label)}\t${r.createdAt.toISOString()}\n`;
}

/** COPY text lines, joined into ~1,000-row strings. */
export function* copyLines(rows: Iterable<Row>): Generator<string> {
  let buffer = '';
  let inBuffer = 0;
  for (const r of rows) {
    buffer += copyLine(r);
    if (++inBuffer === 1000) {
      yield buffer;
      buffer = '';
      inBuffer = 0;
    }
  }
  if (buffer) yield buffer;
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/**
 * The same rows in COPY's binary format (int4, varchar, timestamptz; with `withId`, the int4 id
 * first): what a hand-written binary COPY sends — PostgreSQL parses no text. Buffers of ~64 KB.
 */
export function* copyBinary(rows: Iterable<Row>, withId = false): Generator<Buffer> {
  let buffer = Buffer.allocUnsafe(1 << 17);
  let at = buffer.write('PGCOPY\n\xff\r\n\0', 0, 'latin1');
  at = buffer.writeInt32BE(0, at);
  at = buffer.writeInt32BE(0, at);
  for (const r of rows) {
    at = buffer.writeInt16BE(withId ? 4 : 3, at);
    if (withId) {
      at = buffer.writeInt32BE(4, at);
      at = buffer.writeInt32BE(r.id as number, at);
    }
    at = buffer.writeInt32BE(4, at);
    at = buffer.writeInt32BE(r.qty, at);
    const length = buffer.write(r.label, at + 4, 'utf8');
    at = buffer.writeInt32BE(length, at) + length;
    at = buffer.writeInt32BE(8, at);
    at = buffer.writeBigInt64BE(BigInt(r.createdAt.getTime() - PG_EPOCH_MS) * 1000n, at);
    if (at > 1 << 16) {
      yield buffer.subarray(0, at);
      buffer = Buffer.allocUnsafe(1 << 17);
      at = 0;
    }
  }
  at = buffer.writeInt16BE(-1, at);
  yield buffer.subarray(0, at);
}
