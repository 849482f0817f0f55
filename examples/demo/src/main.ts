// cohort demo: the same product import through TypeORM and MikroORM, with a listener and an audit
// subscriber on each — first the ORM's own save, then cohort — what bad input looks like, and
// saves, upserts and removes audited batch by batch.
import 'reflect-metadata';
import { BulkValidationError } from '@cohort/core';
import {
  bulkInsert as mikroBulkInsert,
  bulkRemove as mikroBulkRemove,
  bulkSave as mikroBulkSave,
  bulkUpsert as mikroBulkUpsert,
} from '@cohort/mikro-orm';
import { createSchema, startDatabase } from '@cohort/pg-harness';
import '@cohort/typeorm/register';
import { bulkInsert, bulkRemove, bulkSave, bulkUpsert, trackEntityChanges } from '@cohort/typeorm';
import pg from 'pg';
import * as M from './mikro-orm-side.js';
import { printTable, section } from './report.js';
import * as T from './typeorm-side.js';

const ROWS = Number(process.env.DEMO_ROWS ?? 10_000);
const BATCH = 5_000;

interface ProductData {
  sku: string;
  name: string;
  price: string;
  stock: number;
}
const catalog = (n: number, from = 0): ProductData[] =>
  Array.from({ length: n }, (_, i) => ({
    sku: `sku-${String(from + i).padStart(6, '0')}`,
    name: `Product ${from + i}`,
    price: (((from + i) % 1000) / 10 + 0.99).toFixed(2),
    stock: (from + i) % 50,
  }));

async function count(url: string, schema: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

const ms = (start: number) => Math.round(performance.now() - start);

/** What the audit subscriber wrote since audit row `after`: "1000 insert, 999 update [price]…". */
async function auditSummary(url: string, schema: string, after: number): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT action, changes::text AS changes, count(*)::int AS n FROM "${schema}".audit_log WHERE id > $1 GROUP BY 1, 2 ORDER BY 1, 2`,
      [after],
    );
    return rows.map((r) => `${r.n} ${r.action}${r.changes ? ` ${r.changes}` : ''}`).join(', ');
  } finally {
    await client.end();
  }
}

async function main() {
  const db = await startDatabase();
  const version = await (async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query('SHOW server_version');
    await c.end();
    return rows[0].server_version as string;
  })();
  console.log(`cohort demo — PostgreSQL ${version} (${db.embedded ? 'embedded, started by the demo' : 'DATABASE_URL'})`);

  try {
    section(`1. Import ${ROWS.toLocaleString()} products — each ORM's own save, then cohort's bulkInsert`);
    console.log('   On both paths a @BeforeInsert listener upper-cases the SKU and an audit subscriber writes an audit');
    console.log("   row per product in the same transaction: per entity under the ORM's save, per batch under cohort.");
    const rows: (string | number)[][] = [];

    // TypeORM: save() needs `chunk` to stay under PostgreSQL's 65,535 parameters.
    const tSave = await createSchema(db.url, 'demo_typeorm_save');
    const tBulk = await createSchema(db.url, 'demo_typeorm');
    const dsSave = await T.openTypeorm(db.url, tSave.name);
    const ds = await T.openTypeorm(db.url, tBulk.name);
    trackEntityChanges(ds);
    let start = performance.now();
    await dsSave.getRepository(T.Product).save(
      catalog(ROWS).map((d) => Object.assign(new T.Product(), d)),
      { chunk: 2000 },
    );
    const typeormSave = ms(start);
    const tProducts = catalog(ROWS).map((d) => Object.assign(new T.Product(), d));
    start = performance.now();
    const t = await ds.getRepository(T.Product).bulkInsert(tProducts, { batchSize: BATCH });
    const typeormBulk = ms(start);
    rows.push([
      'TypeORM',
      typeormSave,
      typeormBulk,
      `${(typeormSave / typeormBulk).toFixed(1)}×`,
      t.inserted,
      t.statements,
      `${await count(db.url, tSave.name, 'audit_log')} / ${await count(db.url, tBulk.name, 'audit_log')}`,
      `${tProducts[0]?.sku} id=${tProducts[0]?.id}`,
    ]);

    // MikroORM: persist + flush, then cohort.
    const mSave = await createSchema(db.url, 'demo_mikro_save');
    const mBulk = await createSchema(db.url, 'demo_mikro');
    const ormSave = await M.openMikroOrm(db.url, mSave.name);
    const orm = await M.openMikroOrm(db.url, mBulk.name);
    const emSave = ormSave.em.fork();
    start = performance.now();
    emSave.persist(catalog(ROWS).map((d) => Object.assign(new M.Product(), d)));
    await emSave.flush();
    const mikroSave = ms(start);
    const em = orm.em.fork();
    const mProducts = catalog(ROWS).map((d) => Object.assign(new M.Product(), d));
    start = performance.now();
    const m = await mikroBulkInsert(em, M.Product, mProducts, { batchSize: BATCH });
    const mikroBulk = ms(start);
    rows.push([
      'MikroORM',
      mikroSave,
      mikroBulk,
      `${(mikroSave / mikroBulk).toFixed(1)}×`,
      m.inserted,
      m.statements,
      `${await count(db.url, mSave.name, 'audit_log')} / ${await count(db.url, mBulk.name, 'audit_log')}`,
      `${mProducts[0]?.sku} id=${mProducts[0]?.id}`,
    ]);
    printTable(
      ['ORM', "ORM's save ms", 'cohort ms', 'speed-up', 'inserted', 'statements', 'audit rows (save / cohort)', 'first object'],
      rows,
    );
    console.log(
      `   cohort sent one INSERT per ${BATCH.toLocaleString()} rows plus one audit INSERT per batch, in one transaction.`,
    );

    section('2. Bad input: a clear error naming row and field, and nothing written');
    const bad = catalog(5, 900_000).map((d) => Object.assign(new T.Product(), d));
    (bad[1] as T.Product).name = 'x'.repeat(120);
    (bad[3] as unknown as { stock: unknown }).stock = 'lots';
    const before = await count(db.url, tBulk.name, 'product');
    try {
      await bulkInsert(ds, T.Product, bad);
    } catch (error) {
      if (!(error instanceof BulkValidationError)) throw error;
      console.log(`   ${error.name}: ${error.message}`);
      for (const f of error.failures) console.log(`     row ${f.index} · ${f.property} · ${f.constraint}: ${f.message}`);
    }
    console.log(
      `   products before: ${before.toLocaleString()}, after: ${(await count(db.url, tBulk.name, 'product')).toLocaleString()}`,
    );

    section('3. bulkSave of a mixed batch: 1,000 rows changed in stock, 1,000 in price, 1,000 unchanged, 1,000 new');
    console.log('   The audit subscriber gets each batch once, with the changed columns of every row.');
    const saveRows: (string | number)[][] = [];
    {
      const loaded = await ds.getRepository(T.Product).find({ order: { id: 'ASC' }, take: 3000 });
      for (const p of loaded.slice(0, 1000)) p.stock += 100;
      for (const p of loaded.slice(1000, 2000)) p.price = '9.99';
      const fresh = catalog(1000, 500_000).map((d) => Object.assign(new T.Product(), d));
      const auditBefore = await count(db.url, tBulk.name, 'audit_log');
      start = performance.now();
      const r = await bulkSave(ds, T.Product, [...loaded, ...fresh]);
      saveRows.push([
        'TypeORM',
        ms(start),
        r.inserted,
        r.updated,
        r.unchanged,
        r.statements,
        await auditSummary(db.url, tBulk.name, auditBefore),
        `v${loaded[0]?.version}`,
      ]);
    }
    {
      const emSave = orm.em.fork();
      const loaded = await emSave.find(M.Product, {}, { orderBy: { id: 'asc' }, limit: 3000 });
      for (const p of loaded.slice(0, 1000)) p.stock += 100;
      for (const p of loaded.slice(1000, 2000)) p.price = '9.99';
      const fresh = catalog(1000, 500_000).map((d) => Object.assign(new M.Product(), d));
      const auditBefore = await count(db.url, mBulk.name, 'audit_log');
      start = performance.now();
      const r = await mikroBulkSave(emSave, M.Product, [...loaded, ...fresh]);
      saveRows.push([
        'MikroORM',
        ms(start),
        r.inserted,
        r.updated,
        r.unchanged,
        r.statements,
        await auditSummary(db.url, mBulk.name, auditBefore),
        `v${loaded[0]?.version}`,
      ]);
    }
    printTable(
      ['ORM', 'ms', 'inserted', 'updated', 'unchanged', 'statements', 'audit rows written', 'version of row 1'],
      saveRows,
    );
    console.log('   (one row already had price 9.99: it is unchanged, gets no hooks and no audit row)');

    section('4. bulkUpsert: 500 existing SKUs (in reverse order) and 500 new ones — the outcome of every row');
    const upsertRows: (string | number)[][] = [];
    const upsertInput = () =>
      [...catalog(500, 0).reverse(), ...catalog(500, 600_000)].map((d) => ({ ...d, sku: d.sku.toUpperCase(), stock: 7 }));
    {
      const r = await bulkUpsert(
        ds,
        T.Product,
        upsertInput().map((d) => Object.assign(new T.Product(), d)),
        { target: ['sku'], update: ['stock'] },
      );
      upsertRows.push(['TypeORM', r.inserted, r.updated, r.skipped.length, r.outcomes[0] ?? '', r.outcomes[999] ?? '']);
    }
    {
      const r = await mikroBulkUpsert(
        orm.em.fork(),
        M.Product,
        upsertInput().map((d) => Object.assign(new M.Product(), d)),
        { target: ['sku'], update: ['stock'] },
      );
      upsertRows.push(['MikroORM', r.inserted, r.updated, r.skipped.length, r.outcomes[0] ?? '', r.outcomes[999] ?? '']);
    }
    printTable(['ORM', 'inserted', 'updated', 'skipped', 'row 0', 'row 999'], upsertRows);
    const ignored = await bulkInsert(
      ds,
      T.Product,
      catalog(3, 0).map((d) => Object.assign(new T.Product(), d)),
      {
        onConflict: 'ignore',
      },
    );
    console.log(
      `   onConflict 'ignore' with 3 taken SKUs: ${ignored.inserted} inserted; skipped ${ignored.skipped.map((s) => `row ${s.index} (${s.reason})`).join(', ')} — never silent, and no id lands on a skipped object`,
    );

    section('5. bulkRemove: 1,000 loaded products, one of them already deleted by someone else');
    console.log('   The same audit subscriber gets each removed batch once (afterBulkRemove); the row already gone is');
    console.log("   skipped as 'missing' and gets no audit row. As after the ORMs' remove: TypeORM unsets the removed");
    console.log("   objects' ids, MikroORM takes them out of its identity map.");
    const removeRows: (string | number)[][] = [];
    const deleteBehindTheOrm = async (schema: string, id: number) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      await client.query(`DELETE FROM "${schema}".product WHERE id = $1`, [id]);
      await client.end();
    };
    {
      const loaded = await ds.getRepository(T.Product).find({ order: { id: 'DESC' }, take: 1000 });
      await deleteBehindTheOrm(tBulk.name, loaded[999]!.id);
      const auditBefore = await count(db.url, tBulk.name, 'audit_log');
      start = performance.now();
      const r = await bulkRemove(ds, T.Product, loaded);
      removeRows.push([
        'TypeORM',
        ms(start),
        r.removed,
        r.skipped.map((s) => `row ${s.index} (${s.reason})`).join(', '),
        r.statements,
        await auditSummary(db.url, tBulk.name, auditBefore),
        (await count(db.url, tBulk.name, 'product')).toLocaleString(),
        `${loaded[0]?.sku} id=${loaded[0]?.id}`,
      ]);
    }
    {
      const emRemove = orm.em.fork();
      const loaded = await emRemove.find(M.Product, {}, { orderBy: { id: 'desc' }, limit: 1000 });
      await deleteBehindTheOrm(mBulk.name, loaded[999]!.id);
      const auditBefore = await count(db.url, mBulk.name, 'audit_log');
      start = performance.now();
      const r = await mikroBulkRemove(emRemove, M.Product, loaded);
      const first = loaded[0];
      const managed = first ? emRemove.getUnitOfWork().getIdentityMap().values().includes(first) : false;
      removeRows.push([
        'MikroORM',
        ms(start),
        r.removed,
        r.skipped.map((s) => `row ${s.index} (${s.reason})`).join(', '),
        r.statements,
        await auditSummary(db.url, mBulk.name, auditBefore),
        (await count(db.url, mBulk.name, 'product')).toLocaleString(),
        `${first?.sku} id=${first?.id}${managed ? '' : ', not managed'}`,
      ]);
    }
    printTable(
      ['ORM', 'ms', 'removed', 'skipped', 'statements', 'audit rows written', 'products left', 'first object after'],
      removeRows,
    );

    await Promise.all([ds.destroy(), dsSave.destroy(), orm.close(), ormSave.close()]);
    await Promise.all([tSave.drop(), tBulk.drop(), mSave.drop(), mBulk.drop()]);
  } finally {
    await db.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
