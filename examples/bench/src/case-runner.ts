// One case (path × size) in its own process, so its peak RSS is its own: warm-up runs, measured
// runs, a check of every run, then one message to the parent.
import 'reflect-metadata';
import { median, type Row } from './data.js';
import { CaseSession } from './db.js';
import { type HookCounts, hooks, resetHooks } from './hooks.js';
import { type CohortResult, findPath, type PathDef } from './paths.js';

export interface CaseSpec {
  workload: string;
  key: string;
  size: number;
  warmups: number;
  runs: number;
  url: string;
}

export interface CaseReport {
  ok: boolean;
  error?: string;
  times: number[];
  medianMs: number;
  rssMB: number;
  /** Objects carrying a key afterwards, as a fraction of the rows (last run). */
  keys: number;
  /** Lifecycle calls of the last run. */
  hooks: HookCounts;
  /** cohort's own result of the last run. */
  result?: Pick<CohortResult, 'inserted' | 'updated' | 'unchanged' | 'batches' | 'statements'> & { skipped: number };
  warnings: string[];
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function runCase(spec: CaseSpec): Promise<CaseReport> {
  const path = findPath(spec.workload, spec.key);
  const session = await CaseSession.open(spec.url, `bench_${spec.workload}_${spec.key}`, spec.workload === 'upsert');
  const times: number[] = [];
  const warnings = new Set<string>();
  let last: Omit<CaseReport, 'ok' | 'times' | 'medianMs' | 'rssMB' | 'warnings'> = { keys: 0, hooks: { ...hooks } };
  try {
    for (let run = 0; run < spec.warmups + spec.runs; run++) {
      await session.reset();
      const tag = `r${run}`;
      const prepared = await path.prepare(session, spec.size, tag);
      gc();
      resetHooks();
      const started = performance.now();
      const result = await prepared.write();
      const ms = performance.now() - started;
      const counts = { ...hooks };
      const keys = await check(session, path, spec.size, prepared.objects, result, counts, warnings);
      await prepared.cleanup?.();
      if (run >= spec.warmups) times.push(ms);
      last = {
        keys,
        hooks: counts,
        ...(result && {
          result: {
            inserted: result.inserted,
            updated: result.updated,
            unchanged: result.unchanged,
            skipped: result.skipped.length,
            batches: result.batches,
            statements: result.statements,
          },
        }),
      };
    }
  } finally {
    await session.close();
  }
  return {
    ok: true,
    times,
    medianMs: median(times),
    rssMB: process.resourceUsage().maxRSS / 1024,
    ...last,
    warnings: [...warnings],
  };
}

/** Fails the case when the table or the objects are wrong; returns the fraction of objects with keys. */
async function check(
  session: CaseSession,
  path: PathDef,
  n: number,
  objects: Row[],
  result: CohortResult | undefined,
  counts: HookCounts,
  warnings: Set<string>,
): Promise<number> {
  const fail = (what: string) => {
    throw new Error(`check failed: ${what}`);
  };
  const stored = await session.count();
  if (stored !== n) fail(`${stored} rows in the table, expected ${n}`);

  // Keys on the objects (for streams: the sampled objects).
  const withKey = objects.filter((o) => typeof o.id === 'number' && o.id > 0);
  const distinct = new Set(withKey.map((o) => o.id)).size;
  if (distinct !== withKey.length) fail(`${withKey.length - distinct} objects share a key`);
  if (path.keysPromised && withKey.length !== objects.length) fail(`${objects.length - withKey.length} objects without key`);

  // Values of a sample: by key when the object has one, else by its (unique) label.
  const step = Math.max(1, Math.floor(objects.length / 200));
  const sample = objects.filter((_, i) => i % step === 0 || i === objects.length - 1);
  const byId = await session.byId(sample.filter((o) => o.id).map((o) => o.id!));
  const byLabel = await session.byLabel(sample.filter((o) => !o.id).map((o) => o.label));
  for (const o of sample) {
    const row = o.id ? byId.get(o.id) : byLabel.get(o.label);
    if (!row) fail(`no row for ${o.id ? `id ${o.id}` : `label ${o.label}`}`);
    else if (row.qty !== o.qty || row.label !== o.label || row.createdAt.getTime() !== o.createdAt.getTime())
      fail(`row ${row.id} holds ${JSON.stringify(row)}, the object ${JSON.stringify(o)}`);
  }

  // cohort's own account.
  if (result) {
    const expected =
      path.workload === 'upsert'
        ? { inserted: n - (n >> 1), updated: n >> 1 }
        : path.workload === 'update'
          ? { inserted: 0, updated: n }
          : { inserted: n, updated: 0 };
    if (result.inserted !== expected.inserted || result.updated !== expected.updated || result.skipped.length)
      fail(`result says inserted ${result.inserted}, updated ${result.updated}, skipped ${result.skipped.length}`);
  }

  // Lifecycle: listener + subscriber before and after, once per row, where the path promises it.
  if (path.hooksPromised) {
    const before = counts.beforeInsert + counts.beforeUpdate + counts.beforeUpsert;
    const after = counts.afterInsert + counts.afterUpdate + counts.afterUpsert;
    // An upsert may report a row twice (MikroORM: afterUpsert plus afterCreate/afterUpdate).
    const once = path.workload === 'upsert' ? before >= n && after >= n : counts.listener === n && before === n && after === n;
    if (!once) warnings.add(`lifecycle calls differ from one per row: ${JSON.stringify(counts)}`);
    if ((path.workload === 'insert' || path.workload === 'stream') && counts.afterInsertWithKey !== n)
      warnings.add(`${n - counts.afterInsertWithKey} afterInsert calls saw no key`);
  }
  return objects.length ? withKey.length / objects.length : 0;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as CaseSpec;
runCase(spec).then(
  (report) => {
    process.send?.(report, () => process.disconnect());
  },
  (error: unknown) => {
    const report: Partial<CaseReport> = {
      ok: false,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      rssMB: process.resourceUsage().maxRSS / 1024,
    };
    process.exitCode = 1;
    process.send?.(report, () => process.disconnect());
  },
);
