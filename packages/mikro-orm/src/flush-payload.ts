import { BulkWriteError, UnsupportedFeatureError } from '@cohort/core';
import type { EntityData, EntityManager, EntityMetadata } from '@mikro-orm/core';
import { isRawFragment } from './mikro-orm-internals.js';
import { prepareEntity } from './prepare-entity.js';
import type { RowState } from './row-states.js';

type AnyEntity = object;

/**
 * EntityAccess.prepare: flush's payload for the entity (after its before-hooks; a new entity is
 * initialized already). For an update it also carries the version the entity was read with, the
 * one the UPDATE expects.
 */
export function flushPayload(
  em: EntityManager,
  meta: EntityMetadata<AnyEntity>,
  entity: AnyEntity,
  state: RowState,
): EntityData<AnyEntity> {
  if (state.existing) {
    const data = (state.hooked ? state.baseline : prepareEntity(em, entity)) as Record<string, unknown>;
    state.baseline = undefined;
    state.hooked = false;
    refuseRaw(meta, entity, state, data);
    const version = meta.versionProperty;
    if (version) data[version] = (entity as Record<string, unknown>)[version];
    state.sent = data as EntityData<AnyEntity>;
    return data as EntityData<AnyEntity>;
  }
  const data = prepareEntity(em, entity);
  refuseRaw(meta, entity, state, data as Record<string, unknown>);
  state.sent = data;
  if (state.changeSet) Object.assign(state.changeSet.payload, data);
  return data;
}

/**
 * The payload of the entity's change set: once its row has landed, what was sent with the returned
 * values mapped in (handed over once); before that, `prepareEntity` now.
 */
export function currentPayload(em: EntityManager, entity: AnyEntity, state: RowState): EntityData<AnyEntity> {
  const landed = state.landed;
  if (landed) {
    state.landed = undefined;
    return landed;
  }
  try {
    return prepareEntity(em, entity);
  } catch (error) {
    if (error instanceof BulkWriteError) throw error;
    // A value flush cannot convert (a circular JSON object, a scalar for an array): the row is
    // refused by validation after its hooks, naming the property (EntityAccess.prepare throws
    // again there). Its hooks see an empty payload meanwhile.
    return {};
  }
}

/**
 * Refuses a raw SQL fragment (`raw('n + 1')`) as a value. Flush splices each one into that row's
 * own statement; cohort's statement is one per batch, with values as parameters.
 */
function refuseRaw(meta: EntityMetadata<AnyEntity>, entity: AnyEntity, state: RowState, data: Record<string, unknown>): void {
  for (const property in data) {
    const value = data[property];
    if (typeof value !== 'object' || value === null || !isRawFragment(value)) continue;
    const entityName = meta.className;
    const row = state.index === undefined ? '' : ` of row ${state.index}`;
    throw new UnsupportedFeatureError(
      'raw SQL value',
      `${entityName}.${property}${row} is a raw SQL fragment (${(value as { sql: string }).sql}); cohort sends values as ` +
        'parameters, one statement per batch, and does not evaluate SQL per row: set the value itself, or ' +
        '(bulkUpdate, bulkSave) give the column an `expressions` entry',
      { entityName, property, index: state.index, batch: state.batch, entity },
    );
  }
}

/**
 * Refuses a change of a managed entity's primary key (in `payload`, its diff against the
 * snapshot): flush rewrites the key (`UPDATE … SET id = new WHERE id = old`); cohort finds each
 * row by the key the entity has now and would report it missing or stale instead.
 */
export function refuseKeyChange(
  meta: EntityMetadata<AnyEntity>,
  entity: AnyEntity,
  state: RowState,
  payload: Record<string, unknown>,
  snapshot: Record<string, unknown>,
): void {
  const property = meta.primaryKeys.find((key) => key in payload);
  if (property === undefined) return;
  const row = state.index === undefined ? '' : ` of row ${state.index}`;
  throw new UnsupportedFeatureError(
    'primary key change',
    `${meta.className}.${property}${row} was changed on a managed entity (from ${String(snapshot[property])} to ` +
      `${String(payload[property])}); cohort updates rows by their primary key and does not rewrite it ` +
      '(flush would): change the key with em.flush() or a query',
    { entityName: meta.className, property, index: state.index, batch: state.batch, entity },
  );
}
