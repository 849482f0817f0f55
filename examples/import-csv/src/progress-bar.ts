// The progress bar: cli-progress draws it; cohort's onProgress gives the rows processed and the rate.
// The file is a stream, so cohort knows no total: the bar's total is the file's data lines, counted
// before the import, and the time left follows from it and cohort's rate.
import type { BulkProgress } from '@cohort/core';
import cliProgress from 'cli-progress';

const seconds = (ms: number) =>
  ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;

/** A bar over `total` lines; `update` takes each progress report (plus lines rejected before cohort). */
export function progressBar(total: number, enabled: boolean) {
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {percentage}% | {value}/{total} lines | {rate} rows/s | ETA {left} | committed {committed}',
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  if (enabled) bar.start(total, 0, { rate: 0, left: '?', committed: 0 });
  return {
    update(progress: BulkProgress, unreadable: number): void {
      if (!enabled) return;
      const done = progress.processed + unreadable;
      const left = progress.rate > 0 ? seconds(((total - done) * 1000) / progress.rate) : '?';
      bar.update(Math.min(done, total), { rate: Math.round(progress.rate), left, committed: progress.committed });
    },
    stop(): void {
      if (enabled) bar.stop();
    },
  };
}
