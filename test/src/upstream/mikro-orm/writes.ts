// Shared by the MikroORM scenario files: the reference write (persist+flush, em.upsert) and
// cohort's write of the same entities,
// and a subscriber that journals what each side's create and update events saw.
import { bulkInsert, bulkSave, bulkUpdate, bulkUpsert, type MikroOrmUpsertOptions } from '@cohort/mikro-orm';
import { type EntityName, type EventArgs, type EventSubscriber, wrap } from '@mikro-orm/core';
import { journal, type MikroOrmSide } from '../../harness/upstream-pair.js';

/** Which cohort call stands for persist()+flush() in a scenario. */
export type CohortWrite = 'save' | 'insert' | 'update';

/** persist()+flush() on the reference side; bulkSave / bulkInsert / bulkUpdate on cohort's. */
export async function write<E extends object>(
  side: MikroOrmSide,
  entityName: EntityName<E>,
  entities: E[],
  as: CohortWrite = 'save',
): Promise<void> {
  if (side.mode === 'orm') {
    side.em.persist(entities);
    await side.em.flush();
    return;
  }
  if (as === 'insert') await bulkInsert(side.em, entityName, entities);
  else if (as === 'update') await bulkUpdate(side.em, entityName, entities);
  else await bulkSave(side.em, entityName, entities);
}

/**
 * em.upsert() of each entity on the reference side (what it returns), bulkUpsert on cohort's (the
 * given entities). Per entity, not em.upsertMany(): upsertMany takes the columns of every row from
 * the first one (docs/differences.md, "Upsert of rows that leave different columns undefined").
 */
export async function upsert<E extends object>(
  side: MikroOrmSide,
  entityName: EntityName<E>,
  entities: E[],
  options: MikroOrmUpsertOptions = {},
): Promise<E[]> {
  if (side.mode === 'orm') {
    const { onConflictFields, onConflictMergeFields, onConflictExcludeFields } = options;
    const upsertOptions = {
      ...(onConflictFields ? { onConflictFields: [...onConflictFields] as never } : {}),
      ...(onConflictMergeFields ? { onConflictMergeFields: [...onConflictMergeFields] as never } : {}),
      ...(onConflictExcludeFields ? { onConflictExcludeFields: [...onConflictExcludeFields] as never } : {}),
    };
    const out: E[] = [];
    for (const entity of entities) out.push(await side.em.upsert(entityName, entity, upsertOptions));
    return out;
  }
  await bulkUpsert(side.em, entityName, entities, options);
  return entities;
}

/** Journals every create and update with the entity's class and the properties its change set wrote. */
export class WriteRecorder implements EventSubscriber {
  afterCreate(args: EventArgs<object>): void {
    journal.record('afterCreate', { entity: args.entity.constructor.name });
  }
  afterUpdate(args: EventArgs<object>): void {
    journal.record('afterUpdate', {
      entity: args.entity.constructor.name,
      payload: Object.keys(args.changeSet?.payload ?? {}).sort(),
    });
  }
}

/** What the identity map holds of `entityName`'s table after a write: each managed instance's class and key. */
export function managed(side: MikroOrmSide, entityName: EntityName<object>): string[] {
  const metadata = side.em.getMetadata();
  const root = metadata.get(entityName).root.className;
  // A distinct instance once: MikroORM's map may hold one under several keys (FK-based keys, STI).
  return [...new Set(side.em.getUnitOfWork().getIdentityMap())]
    .filter((e) => metadata.get(e.constructor).root.className === root)
    .map((e) => `${e.constructor.name}:${wrap(e, true).getSerializedPrimaryKey()}`)
    .sort();
}
