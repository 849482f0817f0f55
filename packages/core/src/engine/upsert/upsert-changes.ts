import type { RowChange } from '../../adapter/contract.js';
import type { BoundModel } from '../../model/bound-model.js';
import { oldName } from '../../sql/insert-aliases.js';
import type { InsertStatement } from '../../sql/insert-statement.js';
import { columnByName, type UpsertPlan } from './conflict-plan.js';

/**
 * What an upsert's update wrote for a found row, or undefined when it wrote nothing. Rows that write
 * the same columns share one properties and one columns list (hooks may memoize per list).
 */
export function upsertChanges<E>(
  model: BoundModel<E>,
  upsert: UpsertPlan<E>,
  stmt: InsertStatement,
  newer: boolean,
): (row: Record<string, unknown>, position: number) => RowChange | undefined {
  const columns = upsert.writes.map((s) => columnByName(model, s.column));
  // PostgreSQL 18 returns the row as it was before the update; older servers cannot.
  const before = (row: Record<string, unknown>, written: (i: number) => boolean) =>
    newer ? Object.fromEntries(columns.flatMap((c, i) => (written(i) ? [[c.property, row[oldName(i)]]] : []))) : {};
  const shared = { properties: columns.map((c) => c.property), columns: columns.map((c) => c.name) };
  const flags = upsert.writes.map((s) =>
    s.unlessKept ? upsert.kept[stmt.sent.findIndex((sent) => sent.name === s.column)] : undefined,
  );
  if (columns.length === 0) return () => undefined;
  if (flags.every((f) => f === undefined)) return (row) => ({ ...shared, before: before(row, () => true) });
  const lists = new Map<string, { properties: string[]; columns: string[] }>();
  return (row, position) => {
    const written = (i: number) => !flags[i]?.[position];
    let pattern = '';
    for (let i = 0; i < columns.length; i++) pattern += written(i) ? '1' : '0';
    if (!pattern.includes('1')) return undefined;
    let list = lists.get(pattern);
    if (!list) {
      const own = columns.filter((_, i) => written(i));
      list = { properties: own.map((c) => c.property), columns: own.map((c) => c.name) };
      lists.set(pattern, list);
    }
    return { ...list, before: before(row, written) };
  };
}
