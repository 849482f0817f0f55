import { type EntityManager, type EntityMetadata, type MetadataStorage, Reference, ReferenceKind } from '@mikro-orm/core';
import { metaIn } from './mikro-orm-cascades.js';
import { originalEntityData, prototypeMeta } from './mikro-orm-internals.js';
import { refuseReplacedRemoval } from './mikro-orm-removals.js';
import { previousTargets, writesReplaced } from './mikro-orm-replaced-targets.js';
import { perClass } from './per-class.js';

type AnyEntity = object;

const orphanRemovingOnes = perClass((meta) =>
  meta.relations.filter((prop) => prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner && prop.mappedBy && prop.orphanRemoval),
);

/**
 * Refuses, before the call sends anything or runs a hook, an input row (an array's or a Set's) whose
 * new inverse one-to-one target replaces a stored one that flush's early step deletes (orphanRemoval)
 * while the class cascades removes (mikro-orm-removals.ts): the bulkRemove writing that step would
 * refuse it only once the rows' earlier statements ran. A stream is checked batch by batch, when its
 * batch's related entities are found (replacedTargets).
 */
export function refuseCascadingReplaced(em: EntityManager, input: unknown): void {
  if (!Array.isArray(input) && !(input instanceof Set)) return;
  const metadata: MetadataStorage = em.getMetadata();
  let index = -1;
  let last: { ctor?: unknown; meta?: EntityMetadata<AnyEntity> } = {};
  for (const row of input as Iterable<unknown>) {
    index++;
    // Not an entity: refused as input (batchesOf) or by the model, not here.
    if (row === null || typeof row !== 'object' || prototypeMeta(row) === undefined) continue;
    // Looked up once per run of rows of one class (a large import's rows are all of one).
    if (row.constructor !== last.ctor) last = { ctor: row.constructor, meta: metaIn(metadata, row) };
    const meta = last.meta;
    if (!meta || orphanRemovingOnes(meta).length === 0 || originalEntityData(row) === undefined) continue;
    for (const prop of orphanRemovingOnes(meta)) {
      const target = Reference.unwrapReference((row as Record<string, unknown>)[prop.name] as AnyEntity);
      // A new entity only (one with a snapshot is no insert of the call's; what is no entity, the relation finder's).
      if (target == null || typeof target !== 'object' || prototypeMeta(target) === undefined) continue;
      if (originalEntityData(target) !== undefined) continue;
      const olds = previousTargets(em, prop, row, target);
      if (olds.length === 0 || !writesReplaced(prop, olds)) continue;
      const classes = [target, ...olds].map((entity) => metaIn(metadata, entity));
      refuseReplacedRemoval({ index, entityName: meta.className, property: prop.name }, classes);
    }
  }
}
