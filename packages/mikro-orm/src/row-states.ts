import type { InputBatch } from '@cohort/core/adapter';
import type { ChangeSet, EntityData, EntityMetadata } from '@mikro-orm/core';
import { assertEntityRow } from './assert-entity-row.js';

type AnyEntity = object;

/** What one call knows about one of its entities. */
export interface RowState {
  /** Where the row is in the input (for errors naming it). */
  readonly index?: number;
  readonly batch?: number;
  initialized: boolean;
  /** The change tracker found its row: it is updated, not inserted. */
  existing: boolean;
  changeSet?: ChangeSet<AnyEntity>;
  /** The INSERT payload sent for it; for an update, the snapshot its UPDATE was built from. */
  sent?: EntityData<AnyEntity>;
  /**
   * `prepareEntity(entity)` as the change tracker last took it: right after `onUpdate` (what flush
   * diffs the before-update hooks' changes against), then after those hooks.
   */
  baseline?: EntityData<AnyEntity>;
  /**
   * The baseline was taken after the before-update hooks: nothing changes the entity between that
   * diff and the write, so it is the write's payload.
   */
  hooked: boolean;
  /** The RETURNING values of its row, by column. */
  row?: Record<string, unknown>;
  /** Columns whose values `onCreate` made in this call: for an insert only (see EntityAccess.insertOnly). */
  insertOnly?: string[];
  /**
   * Its UPDATE is one of several of the call: flush writes such a group with one statement that
   * returns every row's key, and merges the key into each change set's payload.
   */
  grouped?: boolean;
  /**
   * Once its INSERT (or an upsert's INSERT … ON CONFLICT) ran: what was sent with the returned values
   * mapped in, a copy taken before the unit of work normalized the snapshot; handed to the first
   * change set made for its after-hooks.
   */
  landed?: EntityData<AnyEntity>;
}

/** What one call knows of each entity of its batches in flight (dropped when a batch is done). */
export class RowStates {
  private readonly rows = new Map<AnyEntity, RowState>();
  // The entity asked for last and its state: the engine asks for one row's state several times in a
  // row (its returned values, then its finish; its payload, then its initialization), one look-up.
  private last?: AnyEntity;
  private lastState?: RowState;

  /** Checks that the rows of a batch are entities of `target` (or a subclass), and takes them on. */
  adopt(target: EntityMetadata<AnyEntity>, batch: InputBatch<AnyEntity>): void {
    const { entities, indices, number } = batch;
    for (let i = 0; i < entities.length; i++) assertEntityRow(target, entities[i] as AnyEntity, indices[i] as number, number);
    // A state replaced below must not be answered from the last look-up.
    this.last = undefined;
    this.lastState = undefined;
    for (let i = 0; i < entities.length; i++) {
      const index = indices[i];
      this.rows.set(entities[i] as AnyEntity, {
        index,
        batch: number,
        initialized: false,
        existing: false,
        hooked: false,
      });
    }
  }

  /** Drops the entity's state; false when the call holds none for it. */
  drop(entity: AnyEntity): boolean {
    if (entity === this.last) {
      this.last = undefined;
      this.lastState = undefined;
    }
    return this.rows.delete(entity);
  }

  /** The entity's state (a fresh one for an entity the call has not seen yet). */
  of(entity: AnyEntity): RowState {
    if (entity === this.last) return this.lastState as RowState;
    let state = this.rows.get(entity);
    if (!state) {
      state = { initialized: false, existing: false, hooked: false };
      this.rows.set(entity, state);
    }
    this.last = entity;
    this.lastState = state;
    return state;
  }
}
