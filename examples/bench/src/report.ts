// docs/benchmark.md and docs/benchmark.svg from the outcomes of one run.
import { readFileSync } from 'node:fs';
import type { CaseReport, CaseSpec } from './case-runner.js';
import type { PathDef, Workload } from './paths.js';

export interface RunInfo {
  date: string;
  nproc: number;
  cpu: string;
  memGB: number;
  node: string;
  postgres: string;
  database: string;
  sizes: number[];
  runs: number;
  warmups: number;
  only?: string;
  strategies: string[];
  notes: string[];
  totalSeconds: number;
}

export interface CaseOutcome {
  workload: Workload;
  size: number;
  /** The path (its functions are not kept in results.json). */
  path: Pick<PathDef, 'key' | 'label' | 'workload'>;
  spec: CaseSpec;
  report: CaseReport;
  slow: boolean;
  ratioCopy?: number;
  ratioSql?: number;
}

/** Peak RSS the streaming import must stay under. */
export const STREAM_RSS_LIMIT_MB = 256;

const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? fmt(Math.round(n)) : n.toFixed(1));
const ratio = (r?: number) => (r === undefined ? '–' : r < 10 ? `${r.toFixed(2)}×` : `${r.toFixed(1)}×`);

/** The lifecycle calls a case made, per row: `L bI aI` (console) or `listener, bI, aI` (markdown). */
export function hooksSummary(report: CaseReport, n: number, style: 'console' | 'markdown'): string {
  const h = report.hooks;
  if (!h) return '';
  const console = style === 'console';
  const part = (label: string, v: number) =>
    v === 0 ? '' : v === n ? label : `${label}${console ? ':' : ' '}${+(v / n).toFixed(2)}`;
  const parts = [
    part(console ? 'L' : 'listener', h.listener),
    part('bI', h.beforeInsert),
    part('aI', h.afterInsert),
    part('bU', h.beforeUpdate),
    part('aU', h.afterUpdate),
    part('bUp', h.beforeUpsert),
    part('aUp', h.afterUpsert),
    // Results saved before the remove workload existed carry no remove counts.
    part('bR', h.beforeRemove ?? 0),
    part('aR', h.afterRemove ?? 0),
  ].filter(Boolean);
  if (parts.length === 0) return console ? '–' : 'none';
  return parts.join(console ? ' ' : ', ');
}

function versions(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const d = pkg.dependencies as Record<string, string>;
  return `TypeORM ${d.typeorm}, MikroORM ${d['@mikro-orm/core']}, pg ${d.pg}, pg-copy-streams ${d['pg-copy-streams']}`;
}

const titles: Record<Workload, string> = {
  insert: 'Insert',
  update: 'Update (every row, every column changed)',
  upsert: 'Upsert (half the rows exist, half are new)',
  remove: 'Remove (every row, loaded as entities)',
  stream: 'Streaming import',
  graph: 'Graph: orders with items and tags',
};

/** The rows a case ran at: a path with `maxSize` runs at fewer than its group's size. */
export const ranAt = (o: Pick<CaseOutcome, 'size' | 'spec'>) => o.spec?.size ?? o.size;

/** Per-row time of an outcome (ms per row it ran at). */
const perRow = (o: CaseOutcome) => o.report.medianMs / ranAt(o);

/** `x` times faster (x ≥ 1) or slower, in words. */
const speed = (x: number) => (x >= 1 ? `${x.toFixed(1)}× faster than` : `${(1 / x).toFixed(1)}× slower than`);

/**
 * Issue 22's targets for the graph workload: cohort writes the order graph at least 10× faster than
 * TypeORM save(), at least 3× faster than MikroORM flush, and within 2× the raw per-table route.
 */
const GRAPH_TARGETS = [
  { cohort: 'cohort-typeorm', other: 'typeorm-save', faster: 10 },
  { cohort: 'cohort-mikro', other: 'mikro-flush', faster: 3 },
] as const;

/**
 * The graph group's comparisons, per order (a path may have run at fewer orders): each cohort path
 * (the one cascading call and the per-table calls) against the ORM's own save/flush and against the
 * raw per-table route, with the targets.
 */
export function graphComparisons(outcomes: CaseOutcome[], size: number): string[] {
  const group = outcomes.filter((o) => o.workload === 'graph' && o.size === size);
  const find = (key: string) => group.find((o) => o.path.key === key);
  const raw = find('raw-sql');
  const lines: string[] = [];
  for (const { cohort, other, faster } of GRAPH_TARGETS) {
    const orm = find(other);
    for (const key of [cohort, `${cohort}-tables`]) {
      const o = find(key);
      if (!o) continue;
      const name = `${o.path.label} [${key}]`;
      if (!o.report.ok) {
        lines.push(
          `${name}: FAILED, no figure (targets: ≥ ${faster}× faster than ${other}, ≤ 2× ${raw ? 'raw-sql' : 'the raw route'})`,
        );
        continue;
      }
      const vsOrm =
        orm?.report.ok === true
          ? `${speed(perRow(orm) / perRow(o))} ${other} per order (${other} at ${fmt(ranAt(orm))} orders; target ≥ ${faster}×: ${perRow(orm) / perRow(o) >= faster ? 'met' : 'NOT met'})`
          : `${other} not measured`;
      const vsRaw =
        raw?.report.ok === true
          ? `${(perRow(o) / perRow(raw)).toFixed(2)}× raw-sql (target ≤ 2×: ${perRow(o) / perRow(raw) <= 2 ? 'met' : 'NOT met'})`
          : 'raw-sql not measured';
      lines.push(`${name}: ${vsOrm}; ${vsRaw}`);
    }
  }
  return lines;
}

export function renderMarkdown(info: RunInfo, outcomes: CaseOutcome[]): string {
  const out: string[] = [];
  out.push('# Benchmark');
  out.push('');
  out.push(
    `Measured ${info.date.slice(0, 16).replace('T', ' ')} UTC with \`pnpm bench\` (same as \`npm run bench\`: installs, builds, then runs ` +
      '`examples/bench`). Reproduce with that command; `BENCH_SIZES=10000,100000`, `BENCH_RUNS=5`, `BENCH_ONLY=<regex over workload/path@rows>`, ' +
      "`BENCH_STREAM_ROWS=1000000` and `BENCH_GRAPH_SLOW_ROWS=10000` (the orders the graph workload's TypeORM save() runs at) narrow it down; `DATABASE_URL` picks the server (else an embedded PostgreSQL is started).",
  );
  out.push('');
  out.push(`- Machine: ${info.nproc} CPUs (\`nproc\`; ${info.cpu}), ${info.memGB} GB RAM`);
  out.push(`- Node ${info.node}; ${versions()}`);
  out.push(`- PostgreSQL ${info.postgres}, ${info.database}`);
  out.push(
    `- ${info.warmups} warm-up + ${info.runs} measured runs per case (fewer where noted), median reported; whole run ${Math.round(info.totalSeconds / 60)} min` +
      (info.only ? `; only cases matching \`${info.only}\`` : ''),
  );
  out.push('');
  out.push('## How it is measured');
  out.push('');
  out.push(
    '- One table for every path: `id serial PRIMARY KEY, qty integer, label varchar(255), created_at timestamptz` (all NOT NULL), ' +
      'in a fresh schema per case. Each case (path × rows) runs in its own child process (`child_process.fork`); its peak RSS is ' +
      "`process.resourceUsage().maxRSS` of that process, so it includes the case's setup (e.g. the entities an ORM loads for an update).",
  );
  out.push(
    '- The cases of one workload and size run in interleaved rounds: all their processes stay alive, and each round runs one run of every case ' +
      'in turn (the order rotating by one from round to round), warm-up rounds first. The server drifts over minutes on a shared machine; ' +
      'this way the drift falls on every case of a comparison alike instead of on whichever case ran at the wrong time. ' +
      'The 1M-row streams run one after another, one run in each of three processes (`BENCH_STREAM_PROCESSES`), since peak RSS is per process and varies with when V8 collects; the highest counts.',
  );
  out.push(
    '- The time is the write call only: entity construction, seeding, loading the entities for updates and removes (and changing them for updates), and the checks are outside it. ' +
      'Before each run the table is truncated (sequence restarted) and `gc()` runs.',
  );
  out.push(
    '- Both entities have one listener (`@BeforeInsert`/`@BeforeCreate`, `@BeforeUpdate` and `@BeforeRemove`/`@BeforeDelete`, a trivial assignment) and one subscriber ' +
      "counting before/after insert, update and remove (and MikroORM's before/afterUpsert). cohort runs with its defaults: hooks on, validation on, " +
      'keys put back, `batchSize` 10,000, one transaction per call.',
  );
  out.push(
    '- Update: the rows are seeded by COPY and loaded through the ORM (`find`), every column of every entity is changed, then the write is timed. ' +
      'Upsert: the table also has `UNIQUE (label)`, the conflict target; half the rows are seeded; the input is those rows (same label, no id, qty and ' +
      "created_at changed) plus as many new rows. (A serial `id` can't be the target: TypeORM never sends an increment key's value, and cohort follows it.) " +
      'Remove: the rows are seeded by COPY and loaded as entities (TypeORM `find`, MikroORM `em.find`; the raw path reads the ids), then every one is removed: ' +
      'cohort `bulkRemove`, TypeORM `remove(entities, { chunk: 10000 })`, MikroORM `em.remove(entities)` + `flush()`, raw `DELETE … WHERE id = ANY($1)`. ' +
      "The `raw-*-events` rows (remove and graph) are floors, not usable paths: the raw statements plus the ORM's own events for every entity through its own " +
      "machinery (TypeORM's Broadcaster, MikroORM's EventManager) and nothing else; `raw-typeorm-events` also loads the stored rows, which remove() hands its events as `databaseEntity`.",
  );
  out.push(
    '- Graph (issue 22): orders, their order items and their links to stored tags, in four tables of their own (`orders`, `order_item` with an ' +
      'indexed `order_id` foreign key, `tag` holding 50 rows, `order_tags` keyed by both columns), written by one call or transaction per run; ' +
      'checked in every table, with keys on every order and item; its section says what each path does and the size each ran at.',
  );
  out.push(
    '- Every run is checked: row count, a sample of ~200 rows compared value by value (by key, or by the unique label where the path gives no key), ' +
      "keys on every object where the path promises them, cohort's inserted/updated/removed counts, and one listener + one before + one after subscriber call per row " +
      'where the path promises the lifecycle; a remove leaves the table empty. A failed check fails the case. "keys" is the share of objects holding their key afterwards ' +
      '(after a remove: TypeORM unsets the keys of removed objects, MikroORM leaves them).',
  );
  out.push(
    '- Raw paths use a plain `pg` client and no RETURNING (lower bounds, nothing comes back). "× COPY" divides by raw COPY of the same rows ' +
      '(text format, the yardstick of the targets; raw binary COPY, which cohort uses where the column types allow, is listed for reference); ' +
      '"× SQL" by the fastest raw route for the same update/upsert measured in the run: the one `unnest` statement, or binary COPY into a temporary table followed by one statement from it ' +
      '(for a remove: the one `DELETE … WHERE id = ANY($1)`). The raw `unnest` statements pass JavaScript arrays as node-postgres sends them ' +
      '(array literals in text, parsed by the server); cohort sends the same columns as binary arrays where the types allow (docs/guide.md, Statements).',
  );
  out.push(
    '- Lifecycle column: listener = entity listener per row; bI/aI/bU/aU/bUp/aUp/bR/aR = subscriber before/after insert/update/upsert/remove per row (a number when not once per row).',
  );
  if (info.strategies.length)
    out.push(
      `- cohort's \`strategy\` option: TypeORM bulkInsert is measured with ${info.strategies.map((s) => `'${s}'`).join(' and ')}; ` +
        "every other cohort path with its default ('auto', the one the targets are judged on) and with the strategy auto does not pick there " +
        "('unnest' for MikroORM inserts, 'copy' — staged through a temporary table — for updates and upserts).",
    );
  out.push('');
  out.push('![ratio to raw COPY per path](benchmark.svg)');
  out.push('');

  for (const workload of ['insert', 'update', 'upsert', 'remove'] as const) {
    for (const size of info.sizes) {
      const rows = outcomes.filter((o) => o.workload === workload && o.size === size);
      if (!rows.length) continue;
      out.push(`## ${titles[workload]}, ${fmt(size)} rows`);
      out.push('');
      const sqlCol = workload !== 'insert';
      out.push(
        `| path | median ms | × COPY |${sqlCol ? ' × SQL |' : ''} peak RSS MB | runs | keys | lifecycle |`,
        `|---|---:|---:|${sqlCol ? '---:|' : ''}---:|---:|---:|---|`,
      );
      for (const o of rows) {
        const r = o.report;
        if (!r.ok) {
          out.push(
            `| ${o.path.label} | failed: ${(r.error ?? '').split('\n')[0]!.replace(/\|/g, '\\|')} | |${sqlCol ? ' |' : ''} | | | |`,
          );
          continue;
        }
        out.push(
          `| ${o.path.label} | ${ms(r.medianMs)} | ${ratio(o.ratioCopy)} |${sqlCol ? ` ${ratio(o.ratioSql)} |` : ''} ${Math.round(r.rssMB)} | ` +
            `${o.spec.warmups}+${r.times.length} | ${r.keys ? `${Math.round(r.keys * 100)}%` : 'no'} | ${hooksSummary(r, size, 'markdown')} |`,
        );
      }
      out.push('');
    }
  }

  for (const size of info.sizes) {
    const rows = outcomes.filter((o) => o.workload === 'graph' && o.size === size);
    if (!rows.length) continue;
    out.push(`## ${titles.graph}, ${fmt(size)} orders`);
    out.push('');
    out.push(
      `${fmt(size)} orders, ${fmt(size * 3)} order items (one-to-many, each item's \`order_id\` referencing its order) and ${fmt(size * 2)} links ` +
        'from the orders to 50 stored tags (many-to-many, `order_tags`), written in one call or transaction with hooks on (one listener and one subscriber ' +
        'on Order and on OrderItem) and keys back on every order and item. "orders" is the size a path ran at: TypeORM\'s save() runs ' +
        'at fewer orders (`BENCH_GRAPH_SLOW_ROWS`; in chunks of 5,000 orders saved one after another, so its time grows about linearly), and every ratio is taken per order. "× raw" divides by the raw per-table route of the same run ' +
        '(one `INSERT … SELECT FROM unnest … RETURNING id` for the orders, one for the items, one for the junction rows). Lifecycle counts are per order ' +
        '(4 = the order and its three items).',
    );
    out.push('');
    out.push(
      '| path | orders | median ms | ms per 1,000 orders | × raw (per order) | peak RSS MB | runs | keys | lifecycle |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    );
    for (const o of rows) {
      const r = o.report;
      if (!r.ok) {
        out.push(
          `| ${o.path.label} | ${fmt(ranAt(o))} | failed: ${(r.error ?? '').split('\n')[0]!.replace(/\|/g, '\\|')} | | | | | | |`,
        );
        continue;
      }
      out.push(
        `| ${o.path.label} | ${fmt(ranAt(o))} | ${ms(r.medianMs)} | ${ms((r.medianMs / ranAt(o)) * 1000)} | ${ratio(o.ratioSql)} | ${Math.round(r.rssMB)} | ` +
          `${o.spec.warmups}+${r.times.length} | ${r.keys ? `${Math.round(r.keys * 100)}%` : 'no'} | ${hooksSummary(r, ranAt(o), 'markdown')} |`,
      );
    }
    out.push('');
    out.push(
      "Issue 22's targets (cohort ≥ 10× faster than TypeORM save(), ≥ 3× faster than MikroORM flush, ≤ 2× the raw per-table route):",
    );
    out.push('');
    for (const line of graphComparisons(outcomes, size)) out.push(`- ${line}`);
    out.push('');
  }

  const streams = outcomes.filter((o) => o.workload === 'stream');
  if (streams.length) {
    out.push('## Streaming import');
    out.push('');
    for (const o of streams) {
      const r = o.report;
      out.push(
        r.ok
          ? `- ${o.path.label}, ${fmt(o.size)} rows from an async generator: ${ms(r.medianMs)} ms ` +
              `(${fmt(Math.round((o.size / r.medianMs) * 1000))} rows/s; median of ${r.times.length} runs, each in its own process), ` +
              `peak RSS ${Math.round(r.rssMB)} MB${r.rssEach && r.rssEach.length > 1 ? ` (highest of ${r.rssEach.map((x) => Math.round(x)).join(', ')})` : ''} — ` +
              `${r.rssMB < STREAM_RSS_LIMIT_MB ? 'under' : '**over**'} the ${STREAM_RSS_LIMIT_MB} MB limit; lifecycle: ${hooksSummary(r, o.size, 'markdown')}.`
          : `- ${o.path.label}, ${fmt(o.size)} rows: failed: ${(r.error ?? '').split('\n')[0]}`,
      );
    }
    out.push('');
  }

  const warnings = outcomes.flatMap((o) =>
    (o.report.warnings ?? []).map((w) => `${o.path.label} (${o.workload}, ${fmt(o.size)}): ${w}`),
  );
  if (info.notes.length || warnings.length) {
    out.push('## Notes');
    out.push('');
    for (const n of info.notes) out.push(`- ${n}`);
    for (const w of warnings) out.push(`- ${w}`);
    out.push('');
  }
  return out.join('\n');
}

/** A path's label without its parenthesized details, for the chart. */
const chartLabel = (label: string) => label.replace(/ \(strategy '(\w+)'\)/, ' [$1]').replace(/ \([^)]*\)/g, '');
const family = (p: Pick<PathDef, 'key'>) => (p.key.startsWith('cohort') ? 'cohort' : p.key.startsWith('raw') ? 'raw' : 'orm');
const colors: Record<string, string> = { cohort: '#2f6fdb', orm: '#e8833a', raw: '#8a8f98' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars of ratio to raw COPY at the largest size, one group per workload, log scale. */
export function renderSvg(info: RunInfo, outcomes: CaseOutcome[]): string {
  const measured = outcomes.filter((o) => o.report.ok && o.ratioCopy !== undefined);
  const size = Math.max(...measured.map((o) => o.size), 0);
  const groups = (['insert', 'update', 'upsert', 'remove'] as const)
    .map((w) => ({ workload: w, rows: measured.filter((o) => o.workload === w && o.size === size) }))
    .filter((g) => g.rows.length);
  const maxRatio = Math.max(2, ...measured.filter((o) => o.size === size).map((o) => o.ratioCopy!));
  const decades = Math.ceil(Math.log10(maxRatio));
  const left = 400;
  const plotWidth = 520;
  const width = left + plotWidth + 130;
  const barH = 16;
  const gap = 6;
  const top = 58;
  const low = Math.log10(0.5);
  const x = (r: number) => left + ((Math.log10(Math.max(r, 0.5)) - low) / (decades - low)) * plotWidth;
  const parts: string[] = [];
  let y = top;
  for (const g of groups) {
    parts.push(`<text x="12" y="${y + 12}" font-weight="bold" font-size="13">${esc(titles[g.workload])}</text>`);
    y += 22;
    for (const o of g.rows) {
      const r = o.ratioCopy!;
      const x0 = x(0.5);
      const x1 = x(r);
      parts.push(
        `<text x="${left - 8}" y="${y + barH - 4}" text-anchor="end" font-size="12">${esc(chartLabel(o.path.label))}</text>`,
      );
      parts.push(
        `<rect x="${x0}" y="${y}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${barH}" fill="${colors[family(o.path)]}"/>`,
      );
      parts.push(
        `<text x="${(x1 + 5).toFixed(1)}" y="${y + barH - 4}" font-size="11">${r < 10 ? r.toFixed(2) : r.toFixed(1)}× · ${esc(ms(o.report.medianMs))} ms</text>`,
      );
      y += barH + gap;
    }
    y += 10;
  }
  const bottom = y;
  const ticks: string[] = [];
  for (const t of [0.5, ...Array.from({ length: decades + 1 }, (_, i) => 10 ** i)]) {
    const tx = x(t).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${bottom}" stroke="#ddd"/>`);
    ticks.push(`<text x="${tx}" y="${bottom + 14}" text-anchor="middle" font-size="11">${t}×</text>`);
  }
  const legend = ['cohort', 'orm', 'raw']
    .map((f, i) => {
      const lx = left + i * 150;
      const name = f === 'cohort' ? 'cohort' : f === 'orm' ? 'TypeORM / MikroORM' : 'raw pg';
      return `<rect x="${lx}" y="${bottom + 26}" width="12" height="12" fill="${colors[f]}"/><text x="${lx + 18}" y="${bottom + 36}" font-size="12">${name}</text>`;
    })
    .join('');
  const height = bottom + 50;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">Time relative to raw COPY, ${fmt(size)} rows (log scale, lower is better)</text>`,
    `<text x="12" y="40" font-size="11" fill="#555">PostgreSQL ${esc(info.postgres)}, Node ${esc(info.node)}, ${info.nproc} CPUs, ${esc(info.date.slice(0, 10))}; median of ${info.runs} runs</text>`,
    ...ticks,
    `<line x1="${x(1).toFixed(1)}" y1="${top - 4}" x2="${x(1).toFixed(1)}" y2="${bottom}" stroke="#444" stroke-dasharray="3,3"/>`,
    ...parts,
    legend,
    '</svg>',
    '',
  ].join('\n');
}
