import type { InputBatch, RowChange, UpdateHookBatch } from '../../adapter/contract.js';
import type { BoundColumn } from '../../model/bound-model.js';
import { returnsOldRows } from '../../model/table-catalog.js';
import type { ConflictAction } from '../../sql/conflict-clause.js';
import { INSERTED, ORDINAL, returnedName } from '../../sql/insert-aliases.js';
import { compareKeys } from '../copy/sequence-keys.js';
import type { RowOutcome, RunningResult } from '../options/bulk-options.js';
import { upsertChanges } from '../upsert/upsert-changes.js';
import type { InsertContext } from './insert-phases.js';
import type { SentRows } from './insert-send.js';

/** Rows an insert wrote (or an upsert found), split by what happened to them. */
export interface WrittenRows<E> {
  readonly inserted: InputBatch<E>;
  readonly updated: UpdateHookBatch<E> & { changes: RowChange[] };
  /** Rows an upsert found and left as they were: it had nothing of theirs to write. */
  readonly unchanged: InputBatch<E>;
}

/**
 * Puts returned values onto the entities (mapped back by ordinal), records every row's outcome in
 * `result`, and returns the rows by outcome for the after-hooks.
 */
export function applyRows<E>(context: Pick<InsertContext<E>, 'model' | 'result'>, sent: SentRows<E>): WrittenRows<E> {
  const { model, result } = context;
  const { rows: batch, plan, catalog } = sent.planned;
  const conflict = plan?.stmt.conflict ?? { kind: 'error' as const };
  const outcomes: RowOutcome[] = new Array(batch.entities.length).fill('skipped');
  const changes: (RowChange | undefined)[] = [];
  const returning = plan?.returning ?? model.returningOnInsert;
  if (plan && sent.generated) {
    const { stmt, values } = plan;
    const sources = returning.map((column) => {
      const at = stmt.sent.findIndex((s) => s.name === column.name);
      return at < 0 ? sent.generated : (values.raw[at] as unknown[]);
    });
    for (let position = 0; position < batch.entities.length; position++) {
      const entity = batch.entities[position] as E;
      for (let i = 0; i < returning.length; i++) {
        (returning[i] as BoundColumn<E>).write(entity, (sources[i] as unknown[])[position]);
      }
      model.finishInsert?.(entity);
      outcomes[position] = 'inserted';
    }
    return recordOutcomes(batch, conflict, outcomes, changes, result);
  }
  const rows = sent.rows ?? [];
  if (plan?.stmt.mapping === 'sequence' && !sent.copied) {
    // Keys were drawn from the sequence in ordinal order: the k-th smallest key is row k.
    rows.sort((a, b) => compareKeys(a.k0, b.k0));
    rows.forEach((row, position) => {
      row[ORDINAL] = position + 1;
    });
  }
  const changeOf = plan?.upsert ? upsertChanges(model, plan.upsert, plan.stmt, returnsOldRows(catalog)) : undefined;
  for (const row of rows) {
    const position = Number(row[ORDINAL]) - 1;
    const entity = batch.entities[position] as E;
    for (const [i, column] of returning.entries()) column.write(entity, row[returnedName(i)]);
    const change = changeOf && row[INSERTED] === false ? changeOf(row, position) : undefined;
    const outcome: RowOutcome = !changeOf || row[INSERTED] !== false ? 'inserted' : change ? 'updated' : 'unchanged';
    model.finishInsert?.(entity, changeOf ? (outcome as 'inserted' | 'updated' | 'unchanged') : undefined);
    outcomes[position] = outcome;
    changes[position] = change;
  }
  return recordOutcomes(batch, conflict, outcomes, changes, result);
}

/** Records each row's outcome in `result` and splits the rows by it (for the after-hooks). */
function recordOutcomes<E>(
  rows: InputBatch<E>,
  conflict: ConflictAction,
  outcomes: readonly RowOutcome[],
  changes: readonly (RowChange | undefined)[],
  result: RunningResult<E>,
): WrittenRows<E> {
  const inserted: InputBatch<E> = { number: rows.number, entities: [], indices: [], ...(rows.last && { last: true }) };
  const updated: WrittenRows<E>['updated'] = { number: rows.number, entities: [], indices: [], changes: [] };
  const unchanged: InputBatch<E> = { number: rows.number, entities: [], indices: [] };
  rows.entities.forEach((entity, position) => {
    const index = rows.indices[position] as number;
    const outcome = outcomes[position] as RowOutcome;
    result.outcomes.set(index, outcome);
    if (outcome === 'inserted') {
      result.inserted++;
      inserted.entities.push(entity);
      inserted.indices.push(index);
    } else if (outcome === 'updated') {
      result.updated++;
      updated.entities.push(entity);
      updated.indices.push(index);
      updated.changes.push(changes[position] as RowChange);
    } else if (outcome === 'unchanged') {
      result.unchanged++;
      unchanged.entities.push(entity);
      unchanged.indices.push(index);
    } else if (conflict.kind === 'update' && conflict.skipsUnchanged) {
      // Not returned: the update's only condition, "some value differs", was false for it.
      result.outcomes.set(index, 'unchanged');
      result.unchanged++;
    } else {
      result.skipped.push({ index, entity, reason: conflict.kind === 'update' ? 'condition' : 'conflict' });
    }
  });
  return { inserted, updated, unchanged };
}
