#!/usr/bin/env node
// cohort-import-csv: imports a CSV file of customers through TypeORM or MikroORM with cohort —
// streamed in bounded memory, a live progress bar, invalid lines to a rejects file, a summary.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { startDatabase } from '@cohort/pg-harness';
import pg from 'pg';
import { customerTableSql } from './customer-fields.js';
import { type ConflictMode, runImport } from './import-run.js';
import { mikroOrmSide } from './mikro-orm-side.js';
import type { OrmSide } from './orm-side.js';
import { writeRejects } from './rejects-file.js';
import { printSummary } from './summary.js';
import { typeormSide } from './typeorm-side.js';

const USAGE = `usage: cohort-import-csv <file.csv> [--orm typeorm|mikro-orm] [--on-conflict fail|ignore|update]
       [--rejects <file>] [--schema <name>] [--batch-size <n>] [--per-batch] [--truncate] [--no-progress]
DATABASE_URL picks the server; without it an embedded PostgreSQL is started for the run.`;

function settings() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      orm: { type: 'string', default: 'typeorm' },
      'on-conflict': { type: 'string', default: 'fail' },
      rejects: { type: 'string' },
      schema: { type: 'string', default: 'import_csv' },
      'batch-size': { type: 'string' },
      'per-batch': { type: 'boolean', default: false },
      truncate: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
    },
  });
  const file = positionals[0];
  const orm = values.orm as string;
  const onConflict = values['on-conflict'] as string;
  if (!file || !['typeorm', 'mikro-orm'].includes(orm) || !['fail', 'ignore', 'update'].includes(onConflict)) {
    console.error(USAGE);
    process.exit(2);
  }
  const batchSize = values['batch-size'] ? Number(values['batch-size']) : undefined;
  return {
    file,
    orm: orm as 'typeorm' | 'mikro-orm',
    onConflict: onConflict as ConflictMode,
    rejectsPath: (values.rejects as string | undefined) ?? `${file.replace(/\.csv$/i, '')}.rejects.csv`,
    schema: values.schema as string,
    batchSize,
    perBatch: values['per-batch'] as boolean,
    truncate: values.truncate as boolean,
    progress: !values['no-progress'],
  };
}

async function prepareTable(url: string, schema: string, truncate: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(customerTableSql(schema));
    if (truncate) await client.query(`TRUNCATE "${schema}"."customer" RESTART IDENTITY`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<number> {
  const s = settings();
  const db = await startDatabase();
  let side: OrmSide<object> | undefined;
  try {
    await prepareTable(db.url, s.schema, s.truncate);
    side = (s.orm === 'typeorm' ? await typeormSide(db.url, s.schema) : await mikroOrmSide(db.url, s.schema)) as OrmSide<object>;
    console.log(
      `importing ${s.file} through ${s.orm} into "${s.schema}"."customer" (${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`,
    );
    const outcome = await runImport(side, s);
    await writeRejects(s.rejectsPath, outcome.rejects);
    printSummary(s, outcome);
    return outcome.failure ? 1 : 0;
  } finally {
    await side?.close();
    await db.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
