import type { ColumnModel } from '../model/entity-model.js';
/**
 * How a version column moves on when its row is written again: a counter goes up by one; a
 * timestamp (MikroORM's `version: true` on a Date property) takes the transaction's timestamp at
 * the column's fractional precision, which is what MikroORM's own UPDATE sets it to.
 */
export type VersionStep = { readonly kind: 'counter' } | { readonly kind: 'clock'; readonly precision?: number };

const COUNTER: VersionStep = { kind: 'counter' };

/** The step of a version column, from its kind (and, for a timestamp, its precision). */
export function versionStepOf(column: Pick<ColumnModel, 'kind' | 'precision'>): VersionStep {
  if (column.kind !== 'timestamp' && column.kind !== 'timestamptz') return COUNTER;
  // Spliced into the statement: only PostgreSQL's own range of fractional digits.
  const precision = column.precision;
  return Number.isInteger(precision) && (precision as number) >= 0 && (precision as number) <= 6
    ? { kind: 'clock', precision }
    : { kind: 'clock' };
}

/** The SQL of a version's next value; `current` is the stored value's SQL (`t."version"`). */
export function nextVersionSql(step: VersionStep | undefined, current: string): string {
  if (step?.kind !== 'clock') return `${current} + 1`;
  return step.precision === undefined ? 'CURRENT_TIMESTAMP' : `CURRENT_TIMESTAMP(${step.precision})`;
}
