// The summary printed at the end of an import.
import type { ConflictMode, ImportOutcome } from './import-run.js';

const n = (value: number) => value.toLocaleString('en-US');

/** Prints what the import did: rows written, lines rejected by reason, time, rate and peak memory. */
export function printSummary(
  s: { file: string; orm: string; onConflict: ConflictMode; perBatch: boolean; rejectsPath: string },
  outcome: ImportOutcome,
): void {
  const { result, failure, rejects, lines, ms } = outcome;
  const byReason = new Map<string, number>();
  for (const r of rejects) {
    const kind = r.reason.split(':')[0] as string;
    byReason.set(kind, (byReason.get(kind) ?? 0) + 1);
  }
  const reasons = [...byReason].map(([kind, count]) => `${kind} ${n(count)}`).join(', ');
  const rows: [string, string][] = [
    ['file', `${s.file} (${n(lines)} data lines)`],
    ['orm', `${s.orm}, --on-conflict ${s.onConflict}${s.perBatch ? ', --per-batch' : ''}`],
  ];
  if (result) {
    rows.push(['inserted', n(result.inserted)], ['updated', n(result.updated)]);
    if (result.unchanged) rows.push(['unchanged', n(result.unchanged)]);
    rows.push(['batches', n(result.batches)]);
  }
  rows.push(['rejected', `${n(rejects.length)}${reasons ? ` (${reasons})` : ''} → ${s.rejectsPath}`]);
  if (failure) {
    const where = failure.line ? ` at line ${failure.line}` : '';
    rows.push(['FAILED', `${failure.error.name}${where}: ${failure.error.message}`]);
    rows.push(['committed', `${n(outcome.committed)} rows${s.perBatch ? '' : ' (all or nothing: nothing was written)'}`]);
  }
  const seconds = ms / 1000;
  rows.push(['time', `${seconds.toFixed(1)} s (${n(Math.round(lines / seconds))} lines/s)`]);
  rows.push(['peak RSS', `${Math.round(process.resourceUsage().maxRSS / 1024)} MB`]);
  console.log('\nsummary');
  for (const [label, value] of rows) console.log(`  ${label.padEnd(10)} ${value}`);
}
