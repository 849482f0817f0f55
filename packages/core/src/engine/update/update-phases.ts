// An update's phases for one batch, as SPEC §3 orders them: before-hooks (then a new diff) →
// validation of the changed columns → the statement (plan, send, apply) → after-hooks.
// bulkSave runs them on the existing rows of its batches.
import type { RowChange, UpdateHookBatch } from '../../adapter/contract.js';
import { BulkValidationError, type ValidationFailure } from '../../errors/bulk-write-error.js';
import { columnFailures } from '../../validate/batch-validator.js';
import type { BatchContext } from '../batches/batch-context.js';
import { failuresByIndex, keepRows, pickRows } from '../batches/skip-rows.js';
import type { UpdateOptions } from '../options/bulk-options.js';
import { conversionFailures } from '../rows/row-preparation.js';
import { type ChangePlan, diffRow, withForced } from './change-plan.js';
import { applyUpdate } from './update-apply.js';
import { expressionColumns, planUpdate } from './update-plan.js';
import { sendUpdate } from './update-send.js';

/** What an update's phases work with. */
export type UpdateContext<E> = BatchContext<E, UpdateOptions>;

/**
 * Before-update hooks for the changed rows, then a new diff: what a hook changes is written too, and
 * a row whose hooks undid its every change leaves the plan as unchanged (no statement, no after-hook,
 * no version bump), as save() leaves it.
 */
export async function beforeUpdatePhase<E>(context: UpdateContext<E>, plan: ChangePlan<E>) {
  const { model, options, target, result } = context;
  if (options.hooks === false || plan.changed.entities.length === 0 || !target.hooks.beforeUpdate) return;
  // As the ORMs do: only when some hook ran can a row have changed since it was diffed.
  if ((await target.hooks.beforeUpdate(plan.changed)) === false) return;
  const forced = expressionColumns(model, options);
  const { changed, states, tracker } = plan;
  let reverted = false;
  changed.entities.forEach((entity, position) => {
    const index = changed.indices[position] as number;
    const diffed = diffRow(model, tracker, entity, index, states[position], changed.changes[position]);
    if (diffed.failures) throw new BulkValidationError(diffed.failures, changed.number);
    const change = withForced(diffed.change, forced);
    changed.changes[position] = change;
    if ((change.columns ?? []).length === 0) reverted = true;
  });
  if (!reverted) return;
  const kept: number[] = [];
  changed.changes.forEach((change, position) => {
    if ((change.columns ?? []).length > 0) {
      kept.push(position);
      return;
    }
    result.unchanged++;
    result.outcomes.set(changed.indices[position] as number, 'unchanged');
  });
  plan.changed = { ...pickRows(changed, kept), changes: kept.map((p) => changed.changes[p] as RowChange) };
  plan.states = kept.map((p) => states[p]);
}

/**
 * Validates the changed columns of each changed row (unchanged values were valid when stored).
 * `earlier`: failures of rows that already left the batch (a missing key), reported in the same error.
 */
export async function validateUpdatePhase<E>(
  context: UpdateContext<E>,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  earlier: readonly ValidationFailure<E>[] = [],
): Promise<UpdateHookBatch<E>> {
  const { model, options, result } = context;
  const failures: ValidationFailure<E>[] = [...earlier];
  const fail = () =>
    new BulkValidationError(
      failures.sort((a, b) => a.index - b.index),
      changed.number,
    );
  if (changed.entities.length === 0) {
    if (failures.length > 0) throw fail();
    return changed;
  }
  if (options.validate === false) {
    failures.push(...conversionFailures(changed.entities, changed.indices, new Set()));
    if (failures.length > 0) throw fail();
    return changed;
  }
  const updatable = model.columns.filter((c) => c.updatable);
  for (const [position, entity] of changed.entities.entries()) {
    const columns = new Set(changed.changes[position]?.columns ?? []);
    const own = updatable.filter((c) => columns.has(c.name));
    columnFailures(own, entity, changed.indices[position] as number, prepared.get(entity), failures);
  }
  if (failures.length === 0) return changed;
  if (options.onInvalid !== 'skip') throw fail();
  const byIndex = failuresByIndex(failures);
  const kept = keepRows(changed, result, (_, index) => {
    const own = byIndex.get(index);
    return own ? { reason: 'invalid', failures: own } : undefined;
  });
  return { ...pickRows(changed, kept), changes: kept.map((p) => changed.changes[p] as RowChange) };
}

/** Sends the batch's one UPDATE; a row it did not match (stale version, row gone) fails the call. */
export async function writeUpdatePhase<E>(
  context: UpdateContext<E>,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
): Promise<void> {
  const planned = await planUpdate(context, changed, prepared);
  applyUpdate(context, await sendUpdate(context, planned));
}

export async function afterUpdatePhase<E>(context: UpdateContext<E>, changed: UpdateHookBatch<E>) {
  const { options, target } = context;
  if (options.hooks === false || changed.entities.length === 0 || !target.hooks.afterUpdate) return;
  await target.hooks.afterUpdate(changed);
}
