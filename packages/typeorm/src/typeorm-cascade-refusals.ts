import type { UnwrittenRelation } from '@cohort/core/adapter';
import type { EntityMetadata, ObjectLiteral } from 'typeorm';
import { type CallRows, keyText } from './typeorm-call-rows.js';
import type { Reached } from './typeorm-cascade-changes.js';

// The refusals of the changed-relations look-up (typeorm-cascade-changes.ts), each at the earliest
// row that reaches what cohort cannot write as save() does.

/** A refusal at a row, named by the row's own class where it is not the batch's. */
export function withRowClass(
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
  { position, found }: { position: number; found: UnwrittenRelation },
): UnwrittenRelation {
  const own = metadata.findInheritanceMetadata(entities[position] as ObjectLiteral);
  return own === metadata ? found : { ...found, entityName: own.name };
}

/** Of the reached entities `test` keeps (every one without it), the one of the earliest row. */
export function earliest(found: readonly Reached[], test?: (r: Reached) => boolean): Reached | undefined {
  let first: Reached | undefined;
  for (const r of found) if ((!test || test(r)) && (!first || r.position < first.position)) first = r;
  return first;
}

/** The refusal of a row reaching a changed related entity (`cascade update`). */
export function changedRow(
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
  r: Reached,
): { position: number; found: UnwrittenRelation } {
  const own = metadata.findInheritanceMetadata(entities[r.position] as ObjectLiteral);
  return {
    position: r.position,
    found: {
      kind: 'cascade update',
      property: r.path,
      target: r.metadata.name,
      ...(own !== metadata && { entityName: own.name }),
    },
  };
}

/**
 * The refusal of the earliest row reaching a changed entity of the rows' own table that cohort
 * cannot write as save() does (`cascade update`): one whose key is a row of another batch, given as
 * another object (save() writes that row, not this object — cohort would write both, one over the
 * other), or any such entity when the rows are a stream (a later row may be such a copy).
 */
export function ownTableRefusal(
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
  found: readonly Reached[],
  callRows: CallRows,
): { position: number; found: UnwrittenRelation } | undefined {
  const refused = earliest(
    found,
    (r) => r.copyAt !== undefined || (callRows.streamed && r.metadata.tablePath === metadata.tablePath),
  );
  if (!refused) return undefined;
  const { position, found: what } = changedRow(metadata, entities, refused);
  const copy = refused.copyAt;
  const key = keyText(refused.metadata, refused.entity);
  const advice =
    copy === undefined
      ? `the rows are a stream, so a later row may be another object with its key (${key}), which save() would write instead of it — give the rows as an array or Set, or save the changed ${what.target} entities first`
      : `it is reached through a stored ${metadata.name} (key ${copy.key}) whose key is also row ${copy.index} of the call, another object in another batch: save() writes that row and not the reached object — give one object per row (the same object where a row is reached), or leave batchSize unset so that they share a batch`;
  return { position, found: { ...what, advice } };
}

/**
 * The refusal of the earliest row reaching a changed stored entity that an earlier batch of the call
 * reached as another object with its key (`cascade update`): save() writes the first object reached
 * per key and none of the later ones; cohort would write this one over what the earlier batch wrote.
 */
export function batchCopyRefusal(
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
  found: readonly Reached[],
  callRows: CallRows,
): { position: number; found: UnwrittenRelation } | undefined {
  const refused = earliest(found, (r) => callRows.reachedCopy(r.metadata, r.entity));
  if (!refused) return undefined;
  const { position, found: what } = changedRow(metadata, entities, refused);
  const key = keyText(refused.metadata, refused.entity);
  const advice = `an earlier batch of the call reached another object with its key (${key}) — save() writes the first object reached per key and none of the later ones, cohort would write this one over it: give the rows one object per stored ${what.target} (a find() with relations gives each row its own: set the same object on each), or save the ${what.target} entities first, or leave batchSize unset`;
  return { position, found: { ...what, advice } };
}

/** The refusal of a row reaching a related entity with a key and no row, which save() would insert. */
export function missingRow(
  metadata: EntityMetadata,
  entities: readonly ObjectLiteral[],
  missing: Reached,
): { position: number; found: UnwrittenRelation } {
  const own = metadata.findInheritanceMetadata(entities[missing.position] as ObjectLiteral);
  const target = missing.metadata.name;
  return {
    position: missing.position,
    found: {
      kind: 'cascade insert',
      property: missing.path,
      target,
      ...(own !== metadata && { entityName: own.name }),
      advice: `the ${target} has a key (${keyText(missing.metadata, missing.entity)}) but no row: save() looks it up and inserts it, cohort inserts a related entity only when it has no key — insert the ${target} entities first (a bulk call of their own), or leave their keys unset`,
    },
  };
}
