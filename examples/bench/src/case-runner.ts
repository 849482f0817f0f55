// One case (path × size) in its own process, so its peak RSS is its own. The parent drives it one
// run at a time ({ run: n } → { ms }), interleaving the cases of a workload in rounds so that the
// server's drift over minutes lands on every case alike; { finish: true } asks for the report.
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
  /** Streams: the peak RSS of each process the case ran in (rssMB is the highest). */
  rssEach?: number[];
  /** Objects carrying a key afterwards, as a fraction of the rows (last run). */
  keys: number;
  /** Lifecycle calls of the last run. */
  hooks: HookCounts;
  /** cohort's own result of the last run. */
  result?: Pick<CohortResult, 'inserted' | 'updated' | 'unchanged' | 'removed' | 'batches' | 'statements'> & { skipped: number };
  warnings: string[];
}

/** Parent → child: run number `run` (warm-up while below spec.warmups), or send the report. */
export type CaseCommand = { run: number } | { finish: true };
/** Child → parent: ready after setup, the time of one run, or the final report. */
export type CaseMessage = { ready: true } | { ms: number } | { report: CaseReport };

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

type Last = Omit<CaseReport, 'ok' | 'times' | 'medianMs' | 'rssMB' | 'warnings'>;

class CaseRun {
  readonly times: number[] = [];
  readonly warnings = new Set<string>();
  last: Last = { keys: 0, hooks: { ...hooks } };

  private constructor(
    private readonly spec: CaseSpec,
    private readonly path: PathDef,
    private readonly session: CaseSession,
  ) {}

  static async open(spec: CaseSpec): Promise<CaseRun> {
    const path = findPath(spec.workload, spec.key);
    const session = await CaseSession.open(
      spec.url,
      `bench_${spec.workload}_${spec.key}`,
      spec.workload === 'upsert',
      spec.workload === 'graph',
    );
    return new CaseRun(spec, path, session);
  }

  /** One run: reset, prepare, the timed write, the checks. Returns the write's time. */
  async run(run: number): Promise<number> {
    const { session, path, spec } = this;
    await session.reset();
    const tag = `r${run}`;
    const prepared = await path.prepare(session, spec.size, tag);
    gc();
    resetHooks();
    const started = performance.now();
    const result = await prepared.write();
    const ms = performance.now() - started;
    const counts = { ...hooks };
    const keys = prepared.check
      ? await prepared.check(counts, this.warnings)
      : await check(session, path, spec.size, prepared.objects, result, counts, this.warnings);
    await prepared.cleanup?.();
    if (run >= spec.warmups) this.times.push(ms);
    this.last = {
      keys,
      hooks: counts,
      ...(result && {
        result: {
          inserted: result.inserted,
          updated: result.updated,
          unchanged: result.unchanged,
          removed: result.removed,
          skipped: result.skipped.length,
          batches: result.batches,
          statements: result.statements,
        },
      }),
    };
    return ms;
  }

  report(): CaseReport {
    return {
      ok: true,
      times: this.times,
      medianMs: median(this.times),
      rssMB: process.resourceUsage().maxRSS / 1024,
      ...this.last,
      warnings: [...this.warnings],
    };
  }

  close(): Promise<void> {
    return this.session.close();
  }
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
  if (path.workload === 'remove') return checkRemove(session, path, n, objects, result, counts, warnings, fail);
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

/** A remove leaves the table empty; cohort counts every row removed, once listener + before + after per row. */
async function checkRemove(
  session: CaseSession,
  path: PathDef,
  n: number,
  objects: Row[],
  result: CohortResult | undefined,
  counts: HookCounts,
  warnings: Set<string>,
  fail: (what: string) => never,
): Promise<number> {
  const stored = await session.count();
  if (stored !== 0) fail(`${stored} rows left in the table, expected none`);
  if (objects.length !== n) fail(`${objects.length} objects loaded, expected ${n}`);
  if (result && (result.removed !== n || result.skipped.length))
    fail(`result says removed ${result.removed}, skipped ${result.skipped.length}`);
  if (path.hooksPromised && !(counts.listener === n && counts.beforeRemove === n && counts.afterRemove === n))
    warnings.add(`lifecycle calls differ from one per row: ${JSON.stringify(counts)}`);
  // Informational: TypeORM's remove() unsets the keys of removed objects, MikroORM's leaves them.
  return objects.length ? objects.filter((o) => typeof o.id === 'number' && o.id > 0).length / objects.length : 0;
}

function failure(error: unknown): CaseReport {
  return {
    ok: false,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    rssMB: process.resourceUsage().maxRSS / 1024,
  } as CaseReport;
}

function send(message: CaseMessage, last = false): void {
  process.send?.(message, () => {
    if (last) process.disconnect();
  });
}

async function serve(spec: CaseSpec): Promise<void> {
  let caseRun: CaseRun;
  try {
    caseRun = await CaseRun.open(spec);
  } catch (error) {
    process.exitCode = 1;
    send({ report: failure(error) }, true);
    return;
  }
  send({ ready: true });
  // Commands arrive one at a time: the parent waits for each answer before the next.
  process.on('message', (command: CaseCommand) => {
    if ('finish' in command) {
      caseRun.close().then(
        () => send({ report: caseRun.report() }, true),
        (error: unknown) => send({ report: failure(error) }, true),
      );
      return;
    }
    caseRun.run(command.run).then(
      (ms) => send({ ms }),
      (error: unknown) => {
        process.exitCode = 1;
        caseRun.close().finally(() => send({ report: failure(error) }, true));
      },
    );
  });
}

serve(JSON.parse(process.argv[2] ?? '{}') as CaseSpec);
