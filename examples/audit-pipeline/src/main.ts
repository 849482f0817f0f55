// The audit pipeline, run: the same writes through a TypeORM app and a MikroORM app, each with the
// one AuditTrail class as its subscriber; then what the audit table holds, per ORM.
// `node dist/main.js [--orm typeorm|mikro-orm|both] [--schema <name> --keep]`
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createSchema, startDatabase } from '@cohort/pg-harness';
import pg from 'pg';
import type { App, ProductData } from './app.js';
import { auditTableSql } from './audit-trail.js';
import { mikroOrmApp } from './mikro-orm-app.js';
import { typeormApp } from './typeorm-app.js';

const BATCH = 1_000;
const products = (n: number, from = 0): ProductData[] =>
  Array.from({ length: n }, (_, i) => ({ sku: `sku-${String(from + i).padStart(6, '0')}`, price: `${(from + i) % 100}.50` }));

async function sql(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** The writes: 2,500 inserted, all repriced, 1,500 upserted (1,000 stored, 500 new), 500 removed. */
async function pipeline(app: App): Promise<void> {
  const stored = await app.insert(products(2_500), BATCH);
  for (const p of stored) p.price = '9.99';
  await app.update(stored, BATCH);
  await app.upsert(products(1_500, 1_500), BATCH);
  await app.remove(stored.slice(0, 500), BATCH);
}

async function runFor(orm: 'typeorm' | 'mikro-orm', url: string, schema: string): Promise<void> {
  await sql(url, `CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await sql(
    url,
    `CREATE TABLE IF NOT EXISTS "${schema}"."product" (id serial PRIMARY KEY, sku varchar(40) NOT NULL UNIQUE, price numeric(10,2) NOT NULL)`,
  );
  await sql(url, auditTableSql(schema));
  const app = orm === 'typeorm' ? await typeormApp(url, schema) : await mikroOrmApp(url, schema);
  const auditRows = async () =>
    ((await sql(url, `SELECT count(*)::int AS n FROM "${schema}"."audit_log"`)) as [{ n: number }])[0].n;
  let before = 0;
  let after = 0;
  try {
    await pipeline(app);
    before = await auditRows();
    await app.inRolledBackTransaction(products(100, 10_000)).catch(() => undefined);
    after = await auditRows();
  } finally {
    await app.close();
  }
  const rows = await sql(
    url,
    `SELECT action, count(DISTINCT (xact, batch))::int AS batches, count(*)::int AS rows
     FROM "${schema}"."audit_log" GROUP BY action ORDER BY min(id)`,
  );
  const [{ n }] = (await sql(url, `SELECT count(*)::int AS n FROM "${schema}"."product"`)) as [{ n: number }];
  console.log(`\n${orm}: ${n} products stored; audit_log, one INSERT per batch:`);
  for (const r of rows)
    console.log(`  ${String(r.action).padEnd(7)} ${String(r.batches).padStart(2)} batches  ${String(r.rows).padStart(5)} rows`);
  console.log(`  a bulkInsert of 100 products, rolled back: audit rows ${before} before, ${after} after`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { orm: { type: 'string', default: 'both' }, schema: { type: 'string' }, keep: { type: 'boolean', default: false } },
  });
  const orms = values.orm === 'both' ? (['typeorm', 'mikro-orm'] as const) : [values.orm as 'typeorm' | 'mikro-orm'];
  const db = await startDatabase();
  console.log(`audit pipeline — ${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}`);
  try {
    for (const orm of orms) {
      const named = values.schema ? `${values.schema}_${orm.replace('-', '')}` : undefined;
      const schema = named ? { name: named, drop: async () => {} } : await createSchema(db.url, `audit_${orm.replace('-', '')}`);
      try {
        await runFor(orm, db.url, schema.name);
      } finally {
        if (!values.keep) await schema.drop();
      }
    }
  } finally {
    await db.stop();
  }
}

await main();
