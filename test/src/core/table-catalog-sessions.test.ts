// A table's catalog is read once and shared by later calls. A call that fails while its read is
// still on the way (its transaction ends under it) must not hand that failure to the next call:
// the next call reads the catalog on its own session.
import { readTableCatalog, type SqlSession } from '@cohort/core/adapter';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

const client = new pg.Client({ connectionString: inject('databaseUrl') });
const live: SqlSession = {
  async query<R>(sql: string, params?: readonly unknown[]) {
    return (await client.query(sql, params as unknown[])).rows as R[];
  },
};

beforeAll(async () => {
  await client.connect();
  await client.query('CREATE TABLE IF NOT EXISTS catalog_sessions_probe (id serial PRIMARY KEY, label text)');
});
afterAll(async () => {
  await client.query('DROP TABLE IF EXISTS catalog_sessions_probe');
  await client.end();
});

it("a read still on the way on a failed call's session: the next call reads on its own session", async () => {
  let fail: (error: Error) => void = () => {};
  const ended: SqlSession = {
    query: () =>
      new Promise((_, reject) => {
        fail = reject;
      }),
  };
  const model = { table: 'catalog_sessions_probe', schema: 'public' } as never;
  const first = readTableCatalog(ended, model);
  const second = readTableCatalog(live, model);
  fail(new Error('Transaction is already rolled back'));
  await expect(first).rejects.toThrow('Transaction is already rolled back');
  const catalog = await second;
  expect([...catalog.columns.keys()]).toEqual(['id', 'label']);
  // Cached for the calls after it.
  await expect(readTableCatalog(ended, model)).resolves.toBe(catalog);
});

it("a read that fails on the same session is that call's own failure, and is not cached", async () => {
  let fail: (error: Error) => void = () => {};
  const session: SqlSession = {
    query: () =>
      new Promise((_, reject) => {
        fail = reject;
      }),
  };
  const model = { table: 'catalog_sessions_probe', schema: 'public' } as never;
  const first = readTableCatalog(session, model);
  const again = readTableCatalog(session, model);
  fail(new Error('connection lost'));
  await expect(first).rejects.toThrow('connection lost');
  await expect(again).rejects.toThrow('connection lost');
  const catalog = await readTableCatalog(live, model);
  expect(catalog.columns.has('label')).toBe(true);
});
