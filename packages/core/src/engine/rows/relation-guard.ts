import type { ChangedRelations, InputBatch, WriteTarget } from '../../adapter/contract.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import type { BoundModel } from '../../model/bound-model.js';
import type { RelationWrite, UnwrittenRelation } from '../../model/entity-model.js';

/** What the ORM's own save would do, by kind of unwritten relation (the messages of both adapters). */
const EFFECTS: Readonly<Record<UnwrittenRelation['kind'], (target: string) => string>> = {
  'unsaved reference': (target) =>
    `refers to a ${target} that has no key yet: the ORM's own save would insert it first (or refuse), where cohort would write NULL`,
  'cascade insert': (target) => `holds new ${target} entities that the ORM's own save would insert (cascade)`,
  'inverse side': (target) =>
    `adds or removes ${target} entities whose foreign key the ORM's own save would set or clear (the inverse side of the relation)`,
  'many-to-many link': (target) =>
    `adds or removes ${target} links that the ORM's own save would write to the junction table, in a way cohort does not write (docs/guide.md, Relations)`,
  'cascade update': (target) =>
    `reaches a stored ${target} that was changed, which the ORM's own save would update with the row (cascade)`,
  'unmanaged in a collection': (target) =>
    `is held by a loaded collection of a managed ${target}: written but left unmanaged, it would be inserted again by the next flush, which reaches it there (the ORM's own flush leaves no written entity unmanaged)`,
};

/**
 * Refuses the batch when a row has a relation the ORM's own save would write and cohort does not
 * write (many-to-many links it does write are not refused: see `EntityAccess.links`) (see `EntityAccess.unwrittenRelation`): one {@link UnsupportedFeatureError} naming
 * the entity class, the property and the row, thrown before the batch's statement, so that the call
 * writes nothing (its transaction rolls back). `stored` is what the change tracker loaded, by row.
 * `early`: a check made before the change tracker's `changedRelations` look-up, which lets through
 * what that look-up may still take (`heldByStored`); the check made after it refuses it.
 */
export function refuseUnwrittenRelations<E>(
  model: BoundModel<E>,
  batch: InputBatch<E>,
  write: RelationWrite,
  stored?: readonly unknown[],
  early = false,
): void {
  const find = model.unwrittenRelation;
  if (!find) return;
  for (let position = 0; position < batch.entities.length; position++) {
    const entity = batch.entities[position] as E;
    const found = find(entity, write, stored?.[position]);
    if (found && !(early && found.heldByStored)) throw unwrittenRelationError(model, found, batch, position);
  }
}

/**
 * Refuses the batch when a row reaches a stored related entity that was changed, which the ORM's own
 * save would update with it (see {@link ChangeTracker.changedRelations}); as {@link refuseUnwrittenRelations}.
 * For the calls that do not write such entities.
 */
export async function refuseChangedRelations<E>(
  model: BoundModel<E>,
  batch: InputBatch<E>,
  write: RelationWrite,
  target: WriteTarget<E>,
): Promise<void> {
  const changed = await changedRelationsOf(model, batch, write, target);
  if (changed) throw unwrittenRelationError(model, changed.first.found, batch, changed.first.position);
}

/**
 * The changed stored related entities the batch's rows reach, to update with them (see
 * {@link ChangeTracker.changedRelations}); a row reaching one that cohort cannot write as the ORM's
 * save does is refused, as {@link refuseUnwrittenRelations}.
 */
export async function changedRelationsOf<E>(
  model: BoundModel<E>,
  batch: InputBatch<E>,
  write: RelationWrite,
  target: WriteTarget<E>,
): Promise<ChangedRelations | undefined> {
  const tracker = target.changes;
  if (write === 'upsert' || !tracker?.changedRelations || batch.entities.length === 0) return undefined;
  const changed = await tracker.changedRelations(batch.entities, write);
  if (changed?.refused) throw unwrittenRelationError(model, changed.first.found, batch, changed.first.position);
  return changed;
}

/**
 * Before a batch's first before-hook (that of the rows or of what they reach), when hooks run: the
 * tracker notes what its `changedRelations` look-up will need of the state before them (see
 * {@link ChangeTracker.beforeHooks}).
 */
export function noteStateBeforeHooks<E>(batch: InputBatch<E>, target: WriteTarget<E>, hooks: boolean | undefined): void {
  if (hooks === false || batch.entities.length === 0) return;
  target.changes?.beforeHooks?.(batch.entities);
}

function unwrittenRelationError<E>(
  model: BoundModel<E>,
  found: UnwrittenRelation,
  batch: InputBatch<E>,
  position: number,
): UnsupportedFeatureError<E> {
  const entityName = found.entityName ?? model.name;
  const index = batch.indices[position] as number;
  const advice =
    found.advice ??
    (found.kind === 'cascade update'
      ? `save the changed ${found.target} entities yourself first (a bulk call of their own, or the ORM's save), then these rows`
      : found.kind === 'many-to-many link'
        ? `write these links from the relation's owning side, or with the ORM's own save`
        : found.kind === 'unsaved reference'
          ? `insert the ${found.target} first (a call of its own, or an earlier batch of this call when it is a row of it) and set the reference, or use the ORM's own save for these rows`
          : `write the related entities and set the owning side's reference yourself, or use the ORM's own save for these rows`);
  // Not "does not write relations": cascades, links and inverse sides are written, this shape is not.
  const why =
    found.kind === 'unmanaged in a collection'
      ? ` (${found.kind})`
      : found.kind === 'cascade update'
        ? `; this call does not write it (${found.kind})`
        : `; cohort does not write this shape (${found.kind})`;
  const message = `${entityName}.${found.property} at row ${index} ${EFFECTS[found.kind](found.target)}${why}. Nothing was written: ${advice}.`;
  return new UnsupportedFeatureError(found.kind, message, {
    entityName,
    property: found.property,
    index,
    entity: batch.entities[position],
    batch: batch.number,
  });
}
