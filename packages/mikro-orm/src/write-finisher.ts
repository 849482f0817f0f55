import { ChangeSetType, type EntityManager, type EntityMetadata } from '@mikro-orm/core';
import { applyReturnedRow } from './apply-returned-row.js';
import { changeSetPayload, entityInternals, hydrateReturned, mapResult, syncIdentifier } from './mikro-orm-internals.js';
import { ownTableReferences } from './mikro-orm-self-references.js';
import { perClass } from './per-class.js';
import { prepareEntity } from './prepare-entity.js';
import type { RowState } from './row-states.js';
import type { UndoLog } from './undo-log.js';
import type { UnitOfWorkEntries } from './unit-of-work-entries.js';
import { noteInserted, noteWritten } from './written-entities.js';

type AnyEntity = object;

/** The properties that map to columns (have field names). */
const columnProps = perClass((meta) => meta.props.filter((prop) => prop.fieldNames));

/**
 * Finishes a call's written entities as flush does: hydrates the values their statements returned
 * (collected in each row's state), marks them persisted and, for a managed call, registers them in
 * the unit of work with flush's snapshot.
 */
export class WriteFinisher {
  constructor(
    private readonly em: EntityManager,
    private readonly schema: string | undefined,
    private readonly managed: boolean,
    private readonly entries: UnitOfWorkEntries,
    private readonly undo: UndoLog,
  ) {}

  /**
   * EntityAccess.finishInsert: hydrates the values the database generated (as flush maps its
   * RETURNING row), then marks the entity persisted and registers it in the identity map with
   * flush's snapshot, so a later flush sends nothing for it and a change becomes an UPDATE. A row an
   * upsert found gets every returned value, the stored key included, as `em.upsert()` hydrates it.
   */
  inserted(
    meta: EntityMetadata<AnyEntity>,
    entity: AnyEntity,
    state: RowState,
    upserted?: 'inserted' | 'updated' | 'unchanged',
  ): void {
    const wrapped = entityInternals(entity);
    const sent = (state.sent ?? {}) as Record<string, unknown>;
    const row = state.row ?? {};
    state.row = undefined;
    // Flush reads back only what it did not send: values the application set stay as they are.
    // A found row returns what it holds now, which is what the object must say.
    const found = upserted === 'updated' || upserted === 'unchanged';
    const generated: Record<string, unknown> = {};
    for (const prop of columnProps(meta)) {
      if (!found && sent[prop.name] !== undefined && !prop.version) continue;
      for (const field of prop.fieldNames) if (field in row) generated[field] = row[field];
    }
    const em = this.em;
    if (!this.managed) noteWritten(entity, this.undo);
    if (!found && ownTableReferences(meta).length > 0) noteInserted(entity, this.undo);
    const mapped = applyReturnedRow(em, meta, entity, generated);
    syncIdentifier(entity);
    wrapped.__schema = this.schema;
    wrapped.__initialized = true;
    const changeSet = state.changeSet;
    if (changeSet) {
      Object.assign(changeSet.payload, mapped);
      changeSet.persisted = true;
    }
    if (state.sent && !changeSet) {
      // No change set before the write (an upsert, or no before-hook): the after-hooks' one starts
      // from what was sent, as flush's own payload would.
      Object.assign(state.sent, mapped);
      state.landed = { ...state.sent };
    }
    if (em.config.get('populateAfterFlush')) wrapped.populated();
    if (!this.managed) return;
    // Flush's snapshot of a new entity is its payload with the returned values mapped in (a full
    // snapshot for TPT, whose payloads are per table).
    const payload = changeSet?.payload ?? state.sent;
    this.entries.register(entity, meta.inheritanceType === 'tpt' ? undefined : payload);
  }

  /**
   * ChangeTracker.updated: hydrates what the UPDATE returned (version, expression results), then
   * refreshes the snapshot as flush does after an update — an entity that was not managed becomes
   * managed, as if it had been loaded — so a later flush sends nothing for it.
   */
  updated(meta: EntityMetadata<AnyEntity>, entity: AnyEntity, state: RowState): void {
    const wrapped = entityInternals(entity);
    const row = state.row;
    const sent = state.sent;
    state.row = undefined;
    state.sent = undefined;
    const target = entity as Record<string, unknown>;
    let previous: Record<string, unknown> | undefined;
    let mapped: Record<string, unknown> | undefined;
    if (row && Object.keys(row).length > 0) {
      mapped = mapResult(this.em, meta, row);
      previous = Object.fromEntries(Object.keys(mapped).map((key) => [key, target[key]]));
      hydrateReturned(this.em, entity, meta, mapped);
    }
    this.mergeUpdated(meta, entity, state, mapped);
    const snapshot = wrapped.__originalEntityData;
    const managed = wrapped.__managed && snapshot !== undefined;
    this.undo.push(() => {
      if (previous) Object.assign(target, previous);
      if (managed) wrapped.__originalEntityData = snapshot;
    });
    // With nothing returned the entity is as its UPDATE was built from it: that payload is the snapshot.
    const current = previous === undefined && sent !== undefined && !meta.versionProperty ? sent : undefined;
    if (managed) {
      wrapped.__originalEntityData = current ?? prepareEntity(this.em, entity);
    } else if (this.managed) {
      wrapped.__schema = this.schema;
      wrapped.__initialized = true;
      this.entries.register(entity, current);
    } else {
      noteWritten(entity, this.undo);
    }
  }

  /**
   * Flush merges its RETURNING row into an update's change set payload: the new version (and values
   * it returns), and, for a group of updates, the key of every row.
   */
  private mergeUpdated(
    meta: EntityMetadata<AnyEntity>,
    entity: AnyEntity,
    state: RowState,
    mapped: Record<string, unknown> | undefined,
  ): void {
    const changeSet = state.changeSet;
    if (changeSet?.type !== ChangeSetType.UPDATE || !(mapped || state.grouped)) return;
    if (state.grouped) {
      const prepared = prepareEntity(this.em, entity) as Record<string, unknown>;
      const payload = changeSetPayload(changeSet);
      for (const key of meta.primaryKeys) payload[key] = prepared[key];
    }
    if (mapped) Object.assign(changeSet.payload, mapped);
    changeSet.persisted = true;
  }
}
