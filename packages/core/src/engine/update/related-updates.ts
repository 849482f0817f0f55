// Changed stored related entities updated with a batch's stored rows (cascade update), as TypeORM's
// save() updates them: per class, the ordinary update phases of that class on the call's
// transaction — their before-update hooks after the rows' own, one UPDATE per class after the rows'
// UPDATE, their after-update hooks after the rows' own.
import type { ChangedRelations, InputBatch, RelatedUpdateGroup, WriteTarget } from '../../adapter/contract.js';
import { BulkWriteError, type GraphLocation } from '../../errors/bulk-write-error.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import { type BoundModel, bindModel } from '../../model/bound-model.js';
import type { StagedWork } from '../batches/staged-work.js';
import { countRelated, located } from '../insert/cascade-inserts.js';
import { emptyResult, type RunningResult, type UpdateOptions } from '../options/bulk-options.js';

/** An update's staged work for a model (run-update's updateStages, handed in to keep imports one-way). */
export type UpdateStagesOf = <N>(model: BoundModel<N>, options: UpdateOptions) => StagedWork<N, unknown, unknown>;

interface Step {
  readonly group: RelatedUpdateGroup;
  readonly batch: InputBatch<unknown>;
  readonly work: StagedWork<unknown, unknown, unknown>;
  readonly counts: RunningResult<unknown>;
  /** The group's target on the rows' session (which counts the statements). */
  readonly target: WriteTarget<unknown>;
  readonly location: GraphLocation;
  /** batchStarted was called and batchDone not yet. */
  open?: boolean;
  prepared?: unknown;
  sent?: unknown;
}

/** One batch's related updates, from the rows' before-update hooks until their after-update hooks. */
export class RelatedUpdates {
  private constructor(private readonly steps: readonly Step[]) {}

  /** The batch's related updates, or undefined when its rows reach no changed related entity. */
  static of<E>(
    found: ChangedRelations | undefined,
    batch: InputBatch<E>,
    rows: WriteTarget<E>,
    options: UpdateOptions,
    stagesOf: UpdateStagesOf,
  ): RelatedUpdates | undefined {
    const first = found?.groups[0];
    if (!found || !first) return undefined;
    // As for cascade inserts: an option that may leave a row unwritten while what it reached is
    // written (a changed entity updated, or an unchanged one's new entities inserted).
    const conflict = (options as { onConflict?: unknown }).onConflict;
    const option =
      options.onInvalid === 'skip'
        ? "onInvalid: 'skip'"
        : conflict !== undefined && conflict !== 'error'
          ? 'onConflict'
          : undefined;
    if (option) {
      const position = first.positions[0] ?? 0;
      const index = batch.indices[position] as number;
      throw new UnsupportedFeatureError(
        'cascade update',
        `${first.entityName}.${first.property} at row ${index} reaches a stored ${first.model.name} that the ORM's own save would write with the row (updated where it changed, the new entities it holds through relations that cascade inserts inserted); cohort writes it too, but not with ${option}, which may leave the row unwritten. Nothing was written: leave ${option} out, or save the related entities first.`,
        {
          option,
          entityName: first.entityName,
          property: first.property,
          index,
          entity: batch.entities[position],
          batch: batch.number,
        },
      );
    }
    const steps = found.groups.map((group): Step => {
      const model = bindModel(group.model, group.access);
      // The rows' options carry over (hooks, validation, strategy); every related entity is written or the call fails.
      // The rows' `expressions` are the rows' own columns' (save() writes the related entities' values as they are).
      const work = stagesOf(model, { ...options, expressions: undefined, onInvalid: 'error', pipeline: false });
      const indices = group.positions.map((position) => batch.indices[position] as number);
      return {
        group,
        batch: {
          number: batch.number,
          entities: [...group.entities],
          indices,
          ...(batch.keyOrdered && { keyOrdered: true }),
          ...(batch.last && { last: true }),
        },
        work,
        counts: emptyResult<unknown>(),
        target: { ...group.target, session: rows.session, inCallerTransaction: rows.inCallerTransaction },
        location: { entityName: group.entityName, property: group.property, target: group.model.name },
      };
    });
    return new RelatedUpdates(steps);
  }

  /**
   * After the rows' before-update hooks: each class's look-up, diff, before-update hooks and
   * validation. If a class fails, the classes started before it are closed (batchDone), as a failed
   * batch of the rows is.
   */
  async prepare(): Promise<void> {
    try {
      for (const step of this.steps) {
        await this.located(step, async () => {
          step.open = true;
          step.target.batchStarted?.(step.batch);
          step.prepared = await step.work.prepare(step.batch, step.target, step.counts);
        });
      }
    } catch (error) {
      this.release();
      throw error;
    }
  }

  /** After the rows' UPDATE: one UPDATE per class. */
  async send(): Promise<void> {
    try {
      for (const step of this.steps) {
        await this.located(step, async () => {
          step.sent = await step.work.send(step.prepared, step.target);
        });
      }
    } catch (error) {
      this.release();
      throw error;
    }
  }

  /** After the rows' after-update hooks: each class's values back on its entities, then its after-update hooks. */
  async finish<E>(result: RunningResult<E>): Promise<void> {
    try {
      for (const step of this.steps) {
        await this.located(step, async () => {
          try {
            await step.work.finish(step.sent, step.target, step.counts);
          } finally {
            this.close(step);
          }
        });
        countRelated(result, step.group.model.name, { updated: step.counts.updated });
        // The new entities its rows held, inserted with them (their class's cascades).
        for (const [name, counts] of Object.entries(step.counts.byEntity ?? {})) countRelated(result, name, counts);
      }
    } finally {
      this.release();
    }
  }

  /** Closes every class started and not closed yet (batchDone): the adapter drops what it keeps for them. */
  release(): void {
    for (const step of this.steps) this.close(step);
  }

  private close(step: Step): void {
    if (!step.open) return;
    step.open = false;
    step.target.batchDone?.(step.batch);
  }

  private async located(step: Step, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      // Named as the entity it failed at was reached and is written; without one, as the whole group is.
      const { group } = step;
      const at = error instanceof BulkWriteError ? error.entity : undefined;
      const entity = at !== undefined && group.entities.includes(at) ? at : undefined;
      const via = entity === undefined ? undefined : group.reachedVia?.(entity);
      const location = via ? { entityName: via.entityName, property: via.property, target: group.model.name } : step.location;
      const notUpdated = group.notUpdated;
      const holding = notUpdated !== undefined && (entity !== undefined ? notUpdated(entity) : group.entities.every(notUpdated));
      throw located(error, location, holding ? 'holding new entities' : 'updated');
    }
  }
}
