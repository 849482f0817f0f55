import type { WriteTarget } from '../../adapter/contract.js';
import type { BoundModel } from '../../model/bound-model.js';
import type { BulkOptions, RunningResult } from '../options/bulk-options.js';

/**
 * What every phase of a batch works with: the entity's bound model, the call's options, where the
 * batch is written (its session and hooks) and the call's result, which phases add outcomes to.
 * The rows a phase works on (the batch, or what is left of it) are its own parameter.
 */
export interface BatchContext<E, O extends BulkOptions = BulkOptions> {
  readonly model: BoundModel<E>;
  readonly options: O;
  readonly target: WriteTarget<E>;
  readonly result: RunningResult<E>;
}
