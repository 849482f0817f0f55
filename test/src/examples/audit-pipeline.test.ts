// examples/audit-pipeline (issue 24): the one AuditTrail class, as a TypeORM and as a MikroORM
// subscriber, writes one audit statement per batch in the call's transaction, for inserts, updates,
// upserts and removes; a rolled-back call leaves no audit row. Needs the example built.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../../../examples/audit-pipeline/dist/main.js', import.meta.url));

async function query(text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('examples/audit-pipeline', () => {
  for (const orm of ['typeorm', 'mikro-orm']) {
    it(`${orm}: one audit row-group per batch, nothing of a rolled-back call`, async () => {
      const schema = `auditpipe_${Date.now().toString(36)}_${orm.replace('-', '')}`;
      const env = { ...process.env, DATABASE_URL: inject('databaseUrl') };
      try {
        const { stdout } = await run(
          process.execPath,
          ['--no-deprecation', main, '--orm', orm, '--schema', schema.slice(0, -orm.replace('-', '').length - 1), '--keep'],
          { env },
        );
        // Batches of 1,000: insert 2,500 (3 batches); update 2,500 (3); upsert 1,500 — 1,000 stored
        // rows (1 update batch), 500 new (1 insert batch); remove 500 (1).
        const groups = await query(
          `SELECT action, batch, count(*)::int AS n FROM "${schema}".audit_log GROUP BY xact, action, batch ORDER BY min(id)`,
        );
        expect(groups.map((g) => [g.action, g.batch, g.n])).toEqual([
          ['insert', 0, 1000],
          ['insert', 1, 1000],
          ['insert', 2, 500],
          ['update', 0, 1000],
          ['update', 1, 1000],
          ['update', 2, 500],
          ['update', 0, 1000],
          ['insert', 1, 500],
          ['remove', 0, 500],
        ]);
        // Every audited row is one of the products written, and none of the rolled-back call's.
        const [audited] = await query(
          `SELECT count(*) FILTER (WHERE action = 'insert')::int AS inserted, count(DISTINCT entity_id)::int AS ids FROM "${schema}".audit_log`,
        );
        expect(audited).toEqual({ inserted: 3000, ids: 3000 });
        const [products] = await query(`SELECT count(*)::int AS n FROM "${schema}".product`);
        expect(products).toEqual({ n: 2500 });
        // The rolled-back call's products (sku-010000…) are in neither table.
        const [rolledBack] = await query(
          `SELECT count(*)::int AS n FROM "${schema}".audit_log a LEFT JOIN "${schema}".product p ON p.id = a.entity_id WHERE a.action = 'insert' AND p.sku >= 'sku-010000'`,
        );
        expect(rolledBack?.n).toBe(0);
        expect(stdout).toContain('rolled back: audit rows 7000 before, 7000 after');
        const [updates] = await query(
          `SELECT count(*)::int AS n FROM "${schema}".audit_log WHERE action = 'update' AND changes = '{price}'`,
        );
        // The repricing (2,500) and the upsert of 1,000 stored rows change only the price.
        expect(updates?.n).toBe(3500);
      } finally {
        await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });
  }
});
