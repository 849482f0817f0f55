import { createSchema } from '@cohort/pg-harness';
import pg from 'pg';
import { normalizeRecord } from './normalize.js';

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/**
 * A fresh PostgreSQL schema plus a small pg pool whose search_path is that schema. It is the
 * harness's own connection: what it runs never shows up in the ORM's SQL log.
 */
export class SchemaSession {
  private constructor(
    readonly name: string,
    private readonly pool: pg.Pool,
    private readonly dropSchema: () => Promise<void>,
  ) {}

  /** Creates the schema (`<prefix>_<pid>_<random>`). */
  static async open(url: string, prefix: string): Promise<SchemaSession> {
    const schema = await createSchema(url, prefix);
    const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${quote(schema.name)}` });
    return new SchemaSession(schema.name, pool, () => schema.drop());
  }

  /** Runs raw SQL with search_path set to the schema. */
  async query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    const result = await this.pool.query(sql, params);
    return result.rows as R[];
  }

  /** Every row of `table` ordered by `orderBy` (default: the first column), normalized for comparison. */
  async rows(table: string, orderBy = '1'): Promise<Record<string, unknown>[]> {
    const rows = await this.query(`SELECT * FROM ${quote(this.name)}.${quote(table)} ORDER BY ${orderBy}`);
    return rows.map(normalizeRecord);
  }

  /** Empties every table of the schema and restarts its sequences and identity columns. */
  async truncateAll(): Promise<void> {
    const tables = await this.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'typeorm_metadata'`,
      [this.name],
    );
    if (tables.length === 0) return;
    const list = tables.map((t) => `${quote(this.name)}.${quote(t.tablename)}`).join(', ');
    await this.query(`TRUNCATE ${list} RESTART IDENTITY CASCADE`);
  }

  /** Closes the pool and drops the schema with everything in it. */
  async close(): Promise<void> {
    await this.pool.end();
    await this.dropSchema();
  }
}
