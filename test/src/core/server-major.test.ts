// The suite runs on the PostgreSQL it was asked for: COHORT_PG_MAJOR picks an embedded major pinned
// in tools/pg-harness (CI's PostgreSQL 13 pass; 14, 16 and 17 by hand), no DATABASE_URL the
// embedded 18; a DATABASE_URL any supported server.
import pg from 'pg';
import { expect, inject, it } from 'vitest';

it('the server is the major asked for, and a supported one', async () => {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`);
    const major = Math.floor((rows[0]?.v ?? 0) / 10000);
    const asked = process.env.COHORT_PG_MAJOR;
    if (asked) expect(major).toBe(Number(asked));
    else if (!process.env.DATABASE_URL) expect(major).toBe(18);
    expect(major).toBeGreaterThanOrEqual(13);
  } finally {
    await client.end();
  }
});
