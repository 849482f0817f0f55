import type { InputBatch } from '../../adapter/contract.js';
import type { BulkProgress, RunningResult } from '../options/bulk-options.js';

/**
 * A call's progress as a person reads it: rows processed out of the total (when the input is an
 * array), rows committed and rows still pending commit, the rate and the time left. Rows count once
 * their batch is done (values back, after-hooks run).
 */
export class ProgressReport<E> {
  private processed = 0;
  private skipped = 0;
  private written = 0;
  private committed = 0;
  private batch = 0;

  constructor(
    private readonly onProgress: ((progress: BulkProgress) => void) | undefined,
    private readonly started: number,
    private readonly total: number | undefined,
    private readonly batchSize: number,
  ) {}

  /** Counts a batch that is done; reports it unless the report waits for the batch's commit. */
  batchDone(batch: InputBatch<E>, result: RunningResult<E>, report: boolean): void {
    this.processed += batch.entities.length;
    this.batch++;
    if (!this.onProgress) return;
    // The next batch may already be prepared: only skipped rows of the batches done count.
    const own = new Set(batch.indices);
    for (const s of result.skipped) if (own.has(s.index)) this.skipped++;
    this.written = result.inserted + result.updated + result.removed;
    if (report) this.report();
  }

  /** Everything written so far has committed: reports it. */
  commit(): void {
    if (!this.onProgress || this.batch === 0) return;
    this.committed = this.written;
    this.report();
  }

  private report(): void {
    const elapsedMs = performance.now() - this.started;
    const rate = elapsedMs > 0 ? (this.processed * 1000) / elapsedMs : 0;
    const { total, processed } = this;
    (this.onProgress as (progress: BulkProgress) => void)({
      batch: this.batch,
      batches: total === undefined ? undefined : Math.max(1, Math.ceil(total / this.batchSize)),
      total,
      processed,
      committed: this.committed,
      pending: this.written - this.committed,
      skipped: this.skipped,
      rate,
      eta: total === undefined ? undefined : rate > 0 ? ((total - processed) * 1000) / rate : undefined,
      elapsedMs,
    });
  }
}
