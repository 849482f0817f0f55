import type { CascadeWrite, EntityAccess, InputBatch, RowLinks, SelfReference, TreeUpdate } from '../adapter/contract.js';
import type { ColumnModel, EntityModel, RelationWrite, UnwrittenRelation } from './entity-model.js';

/** A column as the engine uses it within one call: its data and the call's reader and writer. */
export interface BoundColumn<E> extends ColumnModel {
  /** The value to send (see {@link EntityAccess.reader}). */
  read(entity: E, prepared?: unknown): unknown;
  /** Puts a value returned by the database back onto the entity (see {@link EntityAccess.writer}). */
  write(entity: E, value: unknown): void;
}

/**
 * An entity model joined with one call's {@link EntityAccess}: what the engine's phases take, so that
 * they read one object. Made once per call by {@link bindModel}.
 */
export interface BoundModel<E> extends Omit<EntityModel, 'columns' | 'returningOnInsert' | 'returningOnUpdate'> {
  /**
   * The adapter's model this was bound from (cached per entity class: what per-table caches key on).
   * Absent in a model built by hand (engine unit tests), which then stands for itself.
   */
  readonly source?: EntityModel;
  readonly columns: readonly BoundColumn<E>[];
  readonly returningOnInsert: readonly BoundColumn<E>[];
  readonly returningOnUpdate?: readonly BoundColumn<E>[];
  prepare?(entity: E): unknown;
  finishInsert?(entity: E, upserted?: 'inserted' | 'updated' | 'unchanged'): void;
  insertOnly?(entity: E): readonly string[] | undefined;
  readonly unwrittenRelation?: (entity: E, write: RelationWrite, stored?: unknown) => UnwrittenRelation | undefined;
  readonly links?: (entity: E, write: RelationWrite, stored?: unknown) => readonly RowLinks[] | undefined;
  readonly holdsRelation?: (entity: E, property: string) => boolean;
  /** The ORM's save works out a row's links before its before-hooks run (see EntityAccess.linksBeforeHooks). */
  readonly linksBeforeHooks?: boolean;
  readonly cascades?: (batch: InputBatch<E>) => CascadeWrite | undefined;
  readonly selfReferences?: (entity: E, pending?: (target: object) => boolean) => readonly SelfReference[] | undefined;
  readonly treeUpdate?: TreeUpdate<E>;
}

/** Joins a model with a call's access: every column gets the access's reader and writer, asked once. */
export function bindModel<E>(model: EntityModel, access: EntityAccess<E>): BoundModel<E> {
  const bound = new Map<ColumnModel, BoundColumn<E>>();
  const bind = (column: ColumnModel): BoundColumn<E> => {
    let found = bound.get(column);
    if (!found) {
      found = { ...column, read: access.reader(column), write: access.writer(column) };
      bound.set(column, found);
    }
    return found;
  };
  return {
    ...model,
    source: model,
    columns: model.columns.map(bind),
    returningOnInsert: model.returningOnInsert.map(bind),
    returningOnUpdate: model.returningOnUpdate?.map(bind),
    prepare: access.prepare?.bind(access),
    finishInsert: access.finishInsert?.bind(access),
    insertOnly: access.insertOnly?.bind(access),
    unwrittenRelation: access.unwrittenRelation?.bind(access),
    links: access.links?.bind(access),
    holdsRelation: access.holdsRelation?.bind(access),
    linksBeforeHooks: access.linksBeforeHooks,
    cascades: access.cascades?.bind(access),
    selfReferences: access.selfReferences?.bind(access),
    treeUpdate: access.treeUpdate,
  };
}
