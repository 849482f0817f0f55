import { afterAll, beforeAll, beforeEach, describe, inject } from 'vitest';
import type { OrmName } from './hook-log.js';
import { type ManagedOrmUnderTest, type OrmUnderTest, openOrmUnderTest } from './orm-under-test.js';

export { expectSameOutcome, type SameOutcomeOptions } from './differential.js';
export { EVENT_NAMES, type HookLogEntry, type OrmName } from './hook-log.js';
export type { OrmUnderTest } from './orm-under-test.js';
export { countStatements, type SqlLogEntry, statements } from './sql-log.js';

const ALL_ORMS: readonly OrmName[] = ['typeorm', 'mikro-orm'];

/**
 * The ORMs every conformance scenario runs against: all, or those COHORT_ORMS names
 * (comma-separated, e.g. `COHORT_ORMS=typeorm` for a pass against another TypeORM major).
 */
export const ORMS: readonly OrmName[] = selectedOrms(process.env.COHORT_ORMS);

function selectedOrms(list: string | undefined): readonly OrmName[] {
  if (!list?.trim()) return ALL_ORMS;
  const names = list.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !ALL_ORMS.includes(name as OrmName));
  if (unknown.length > 0)
    throw new Error(`COHORT_ORMS names unknown ORMs: ${unknown.join(', ')} (known: ${ALL_ORMS.join(', ')})`);
  return ALL_ORMS.filter((orm) => names.includes(orm));
}

/**
 * What a scenario body gets: accessors (valid inside tests and hooks, not at collection time) for
 * `subject`, the schema the code under test writes to, and `reference`, an identical schema for
 * the ORM's own save — the differential oracle.
 */
export interface ConformancePair {
  subject: () => OrmUnderTest;
  reference: () => OrmUnderTest;
}

/**
 * Defines a scenario once and runs it for each ORM as `describe(`${title} [${orm}]`)`.
 * Per ORM: two fresh schemas are created before all tests and dropped after; before each test
 * every table of both is truncated (RESTART IDENTITY CASCADE), the logs are emptied and MikroORM
 * gets a fresh `em` fork.
 *
 * @example
 * describeConformance('seed insert', ({ subject, reference }) => {
 *   it('writes the same rows', async () => {
 *     for (const side of [reference(), subject()]) {
 *       await side.ormSave([side.create('Seed', { qty: 1, label: 'a', createdAt: new Date(0) })]);
 *     }
 *     await expectSameOutcome(reference(), subject(), { tables: ['seed'] });
 *   });
 * });
 */
export function describeConformance(title: string, body: (pair: ConformancePair) => void): void {
  for (const orm of ORMS) {
    describe(`${title} [${orm}]`, () => {
      let subject: ManagedOrmUnderTest | undefined;
      let reference: ManagedOrmUnderTest | undefined;
      const prefix = orm.replace('-', '');

      beforeAll(async () => {
        const url = inject('databaseUrl');
        [subject, reference] = await Promise.all([
          openOrmUnderTest(orm, url, `${prefix}_sub`),
          openOrmUnderTest(orm, url, `${prefix}_ref`),
        ]);
      });

      beforeEach(async () => {
        await Promise.all([subject?.reset(), reference?.reset()]);
      });

      afterAll(async () => {
        await Promise.all([subject?.close(), reference?.close()]);
      });

      const ready = (side: ManagedOrmUnderTest | undefined, role: string) => {
        if (!side) throw new Error(`${role}() is only available inside tests and hooks`);
        return side;
      };
      body({ subject: () => ready(subject, 'subject'), reference: () => ready(reference, 'reference') });
    });
  }
}

/**
 * MikroORM flush-level events. cohort's bulk calls flush nothing, so they fire none of these (a
 * documented difference): bulk scenarios compare hook logs without them.
 */
export const FLUSH_EVENTS: readonly string[] = ['beforeFlush', 'onFlush', 'afterFlush'];
