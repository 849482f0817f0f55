import { OptimisticLockError } from '../../errors/bulk-write-error.js';
import { UPDATE_MATCHED, UPDATE_MATCHED_COUNT, UPDATE_ORDINAL } from '../../sql/update-statement.js';
import type { UpdateContext } from './update-phases.js';
import type { SentUpdate } from './update-send.js';

/** Returned values onto the entities; a row the UPDATE did not match fails the call; outcomes into `result`. */
export function applyUpdate<E>(context: Pick<UpdateContext<E>, 'target' | 'result'>, sent: SentUpdate<E>): void {
  const { target, result } = context;
  const { changed, stmt, returned } = sent.planned;
  if (!stmt) return;
  const rows = sent.rows;
  const seen = new Set<number>();
  const [summary] = stmt.returning.length === 0 ? rows : [];
  if (summary) {
    // One row: every row matched, or the ordinals of those that did.
    if (Number(summary[UPDATE_MATCHED_COUNT]) < changed.entities.length) {
      for (const ordinal of (summary[UPDATE_MATCHED] as unknown[] | null) ?? []) seen.add(Number(ordinal) - 1);
    } else {
      for (let position = 0; position < changed.entities.length; position++) seen.add(position);
    }
  } else {
    for (const row of rows) {
      const position = Number(row[UPDATE_ORDINAL]) - 1;
      seen.add(position);
      const entity = changed.entities[position] as E;
      for (const [i, column] of returned.entries()) column.write(entity, row[`r${i}`]);
    }
  }
  if (seen.size < changed.entities.length) {
    const stale = changed.entities.map((_, p) => p).filter((p) => !seen.has(p));
    throw new OptimisticLockError(
      stale.map((p) => changed.indices[p] as number),
      stale.map((p) => changed.entities[p] as E),
      changed.number,
    );
  }
  changed.entities.forEach((entity, position) => {
    result.updated++;
    result.outcomes.set(changed.indices[position] as number, 'updated');
    target.changes?.updated?.(entity);
  });
}
