// examples/import-csv (issue 24): the built CLI imports a generated 2,000-line file with bad lines
// through each ORM against PostgreSQL; rows, the rejects file and the summary agree with the file.
// Needs the example built (`pnpm -r run build`).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createSchema } from '@cohort/pg-harness';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../../../examples/import-csv/dist/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'import-csv-'));
const file = join(dir, 'customers.csv');

async function cli(args: string[]): Promise<{ stdout: string; code: number }> {
  const env = { ...process.env, DATABASE_URL: inject('databaseUrl') };
  try {
    const { stdout } = await run(process.execPath, ['--no-deprecation', join(dist, 'main.js'), ...args], { env });
    return { stdout, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; code: number };
    return { stdout: failed.stdout, code: failed.code };
  }
}

async function stored(schema: string): Promise<{ n: number; emails: number; adults: number }> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n, count(DISTINCT email)::int AS emails, count(*) FILTER (WHERE age BETWEEN 18 AND 87)::int AS adults FROM "${schema}"."customer"`,
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

const rejectLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => ({ line: Number(l.split(',')[0]), reason: (l.split(',')[1] as string).replace(/^"/, ''), text: l }));

describe('examples/import-csv', () => {
  it('generates a file with known bad lines', async () => {
    await run(process.execPath, [join(dist, 'generate.js'), file, '2000']);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2001);
  });

  for (const orm of ['typeorm', 'mikro-orm']) {
    it(`${orm}: valid rows stored, bad lines in the rejects file with line numbers and reasons, a summary`, async () => {
      const schema = await createSchema(inject('databaseUrl'), 'importcsv');
      const rejects = join(dir, `${orm}.rejects.csv`);
      try {
        const { stdout, code } = await cli([
          file,
          '--orm',
          orm,
          '--on-conflict',
          'ignore',
          '--schema',
          schema.name,
          '--rejects',
          rejects,
        ]);
        expect(code).toBe(0);
        const rejected = rejectLines(rejects);
        // Lines 7 (invalid email), 9 (age "forty"), 13 (no name), 15 (age 200), 19 (impossible date),
        // 21 (four fields); emails repeated from three lines earlier are conflicts.
        expect(rejected.slice(0, 6).map((r) => [r.line, r.reason.split(':')[0]])).toEqual([
          [7, 'invalid'],
          [9, 'invalid'],
          [13, 'invalid'],
          [15, 'invalid'],
          [19, 'invalid'],
          [21, 'unreadable'],
        ]);
        expect(rejected.find((r) => r.line === 7)?.text).toContain('email must be an email');
        expect(rejected.find((r) => r.line === 15)?.text).toContain('age must not be greater than 150');
        expect(rejected.filter((r) => r.reason.startsWith('conflict') || r.reason.startsWith('duplicate'))).toHaveLength(2);
        const rows = await stored(schema.name);
        expect(rows.n + rejected.length).toBe(2000);
        expect(rows.emails).toBe(rows.n);
        expect(stdout).toMatch(new RegExp(`inserted\\s+${rows.n.toLocaleString('en-US')}\\n`));
        expect(stdout).toMatch(new RegExp(`rejected\\s+${rejected.length} \\(`));
        expect(stdout).toContain('2,000 data lines');
      } finally {
        await schema.drop();
      }
    });
  }

  it('--on-conflict fail: a repeated email fails the import naming its line, and nothing is written', async () => {
    const schema = await createSchema(inject('databaseUrl'), 'importcsv');
    try {
      const { stdout, code } = await cli([file, '--on-conflict', 'fail', '--schema', schema.name, '--no-progress']);
      expect(code).toBe(1);
      expect(stdout).toMatch(/FAILED\s+(UniqueViolationError|DuplicateKeyInBatchError)/);
      expect(stdout).toMatch(/at line \d+/);
      expect((await stored(schema.name)).n).toBe(0);
    } finally {
      await schema.drop();
    }
  });
});
