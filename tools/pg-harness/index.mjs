// A real PostgreSQL for cohort's tests, demo and benchmark.
// DATABASE_URL wins; otherwise an embedded PostgreSQL (real binaries from npm) is started on a
// free port in a temporary directory, and stopped and removed afterwards, for any user (root too).
import { createServer } from 'node:net';
import pg from 'pg';
import { startEmbeddedServer } from './embedded-server.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts (or finds) the database. Returns its URL and a `stop()` that is a no-op for DATABASE_URL.
 * @param {{ log?: (line: string) => void }} [options]
 */
export async function startDatabase(options = {}) {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
  const port = await freePort();
  const server = await startEmbeddedServer({
    port,
    flags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    onLog: options.log,
  });
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, embedded: true, stop: () => server.stop() };
}

/**
 * Creates a fresh schema with a unique name, so parallel test files never see each other's tables.
 * @param {string} url
 * @param {string} prefix
 */
export async function createSchema(url, prefix) {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${name}"`);
  } finally {
    await client.end();
  }
  return {
    name,
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
