// One import: the file streamed line by line into cohort (onInvalid: 'skip'), a bar fed by
// onProgress, every rejected line collected with its line number and reason.
import { type BulkProgress, type BulkResult, BulkWriteError, type SkippedRow } from '@cohort/core';
import { countDataLines, csvLines, type Reject } from './csv-lines.js';
import { customerFields } from './customer-fields.js';
import type { OrmSide } from './orm-side.js';
import { progressBar } from './progress-bar.js';
import { invalidReason } from './rejects-file.js';

/** How a conflict on the email (the table's unique key) is handled. */
export type ConflictMode = 'fail' | 'ignore' | 'update';

export interface ImportSettings {
  file: string;
  onConflict: ConflictMode;
  /** Commit batch by batch (`atomic: false`) instead of all or nothing. */
  perBatch: boolean;
  batchSize?: number;
  progress: boolean;
}

export interface ImportOutcome {
  lines: number;
  result?: BulkResult<object>;
  /** The error that stopped the import, with the line it names when it names one. */
  failure?: { error: BulkWriteError<object>; line?: number };
  rejects: Reject[];
  /** Rows committed when the import stopped (the last progress report). */
  committed: number;
  ms: number;
}

const REASONS: Record<string, string> = {
  conflict: 'conflict: a customer with this email is already stored (--on-conflict ignore)',
  duplicate: 'duplicate: the email appears again in the same batch; one of the lines is written',
  condition: 'condition: the update was not applied',
  missing: 'missing',
};

function reasonOf(skipped: SkippedRow<object>): string {
  return skipped.reason === 'invalid' ? invalidReason(skipped.failures) : (REASONS[skipped.reason] ?? skipped.reason);
}

/** Imports `settings.file` through `side`; rejects carry the line they came from. */
export async function runImport<E extends object>(side: OrmSide<E>, settings: ImportSettings): Promise<ImportOutcome> {
  const started = performance.now();
  const lines = await countDataLines(settings.file);
  const rejects: Reject[] = [];
  // Each entity's line, for the rows cohort reports skipped (held only as long as the entity is).
  const origin = new WeakMap<object, { line: number; raw: string }>();
  let unreadable = 0;
  let last: BulkProgress | undefined;
  const bar = progressBar(lines, settings.progress);
  async function* entities(): AsyncGenerator<E> {
    const onUnreadable = (reject: Reject) => {
      rejects.push(reject);
      unreadable++;
    };
    for await (const { line, fields, raw } of csvLines(settings.file, onUnreadable)) {
      const entity = side.create(customerFields(fields));
      origin.set(entity, { line, raw });
      yield entity;
    }
  }
  const options = {
    onInvalid: 'skip' as const,
    atomic: !settings.perBatch,
    ...(settings.batchSize ? { batchSize: settings.batchSize } : {}),
    onProgress: (progress: BulkProgress) => {
      last = progress;
      bar.update(progress, unreadable);
    },
  };
  const outcome: ImportOutcome = { lines, rejects, committed: 0, ms: 0 };
  try {
    outcome.result = (
      settings.onConflict === 'update'
        ? await side.upsert(entities(), { ...options, target: ['email'], duplicates: 'keepLast' })
        : settings.onConflict === 'ignore'
          ? await side.insert(entities(), { ...options, onConflict: 'ignore', duplicates: 'keepFirst' })
          : await side.insert(entities(), options)
    ) as BulkResult<object>;
  } catch (thrown) {
    if (!(thrown instanceof BulkWriteError)) throw thrown;
    const error = thrown as BulkWriteError<object>;
    const named = (error.cause as BulkWriteError<object> | undefined)?.entity ?? error.entity;
    outcome.failure = { error, line: named ? origin.get(named as object)?.line : undefined };
  } finally {
    bar.stop();
  }
  for (const skipped of outcome.result?.skipped ?? []) {
    const from = origin.get(skipped.entity as object);
    rejects.push({ line: from?.line ?? 0, reason: reasonOf(skipped), raw: from?.raw ?? '' });
  }
  outcome.committed = last?.committed ?? 0;
  outcome.ms = performance.now() - started;
  return outcome;
}
