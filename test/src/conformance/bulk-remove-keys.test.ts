// bulkRemove's two DELETE forms. A single integer or uuid key with no version to check is matched
// by `key = ANY($1)` and the removed rows are told by the key text PostgreSQL returns; every other
// batch (composite keys, a version column, a key whose text PostgreSQL would print otherwise) joins
// an `unnest` of the keys with their ordinals. Both must remove exactly what the ORM's remove does.
import { ForeignKeyViolationError } from '@cohort/core';
import { expect, it } from 'vitest';
import {
  countStatements,
  describeConformance,
  expectSameOutcome,
  FLUSH_EVENTS,
  type OrmUnderTest,
} from '../harness/conformance.js';

const outcome = { ignoreTransactionEvents: true, ignoreEvents: FLUSH_EVENTS };
const byAny = (side: OrmUnderTest) =>
  countStatements(side.sql, /^with locked as materialized .* = any\(\$1::(integer|uuid)\[\]\)/is);
const byUnnest = (side: OrmUnderTest) => countStatements(side.sql, /^with u as materialized \(select \* from unnest\(/is);

async function saved(side: OrmUnderTest, fixture: 'Author' | 'UuidThing', names: readonly string[]) {
  const entities = names.map((name) => side.create(fixture, fixture === 'Author' ? { name, profile: null } : { name }));
  await side.ormSave(entities);
  side.resetLogs();
  return entities;
}

describeConformance('bulkRemove: the DELETE matched by = ANY', ({ subject, reference }) => {
  for (const [fixture, table] of [
    ['Author', 'author'],
    ['UuidThing', 'uuid_thing'],
  ] as const) {
    it(`${fixture}: rows, objects and hooks as the ORM's remove; one DELETE … = ANY per batch`, async () => {
      const names = ['a', 'b', 'c', 'd', 'e'];
      const ref = reference();
      const entitiesRef = await saved(ref, fixture, names);
      await ref.ormRemove(entitiesRef);
      const sub = subject();
      const entitiesSub = await saved(sub, fixture, names);
      const result = await sub.bulkRemove(entitiesSub);

      // Generated uuids differ between the two schemas: compared by shape.
      await expectSameOutcome(ref, sub, { tables: [table], entitiesRef, entitiesSub, mask: ['id', 'entityId'], ...outcome });
      expect(result).toMatchObject({ removed: 5, batches: 1, outcomes: names.map(() => 'removed'), skipped: [] });
      expect(await sub.rows(table)).toEqual([]);
      expect(byAny(sub)).toBe(1);
      expect(byUnnest(sub)).toBe(0);
      const again = await saved(sub, fixture, names);
      expect(await sub.bulkRemove(again, { batchSize: 2 })).toMatchObject({ removed: 5, batches: 3 });
      expect(byAny(sub)).toBe(3);
    });
  }

  it('rows already gone are told apart by the returned key text: skipped as missing, in input order', async () => {
    const sub = subject();
    const things = await saved(sub, 'UuidThing', ['kept', 'gone', 'kept too', 'gone too']);
    await sub.query('DELETE FROM uuid_thing WHERE name LIKE $1', ['gone%']);
    const result = await sub.bulkRemove(things);
    expect(result).toMatchObject({
      removed: 2,
      outcomes: ['removed', 'skipped', 'removed', 'skipped'],
      skipped: [
        { index: 1, reason: 'missing', entity: things[1] },
        { index: 3, reason: 'missing', entity: things[3] },
      ],
    });
    expect(byAny(sub)).toBe(1);
  });

  it('a uuid key in upper case is matched by the unnest form and removed, as the ORM matches it', async () => {
    const sub = subject();
    const [thing] = await saved(sub, 'UuidThing', ['shouting']);
    const upper = sub.create('UuidThing', { id: String(thing.id).toUpperCase(), name: 'shouting' });
    const result = await sub.bulkRemove([upper]);
    expect(result).toMatchObject({ removed: 1, outcomes: ['removed'], skipped: [] });
    expect(await sub.rows('uuid_thing')).toEqual([]);
    expect(byAny(sub)).toBe(0);
    expect(byUnnest(sub)).toBe(1);
  });

  it('a foreign-key violation in the = ANY form names the row; nothing is removed', async () => {
    const sub = subject();
    const authors = await saved(sub, 'Author', ['free', 'free too', 'has a book']);
    await sub.ormSave([sub.create('Book', { title: 'keeps its author', author: authors[2] })]);
    const error = await sub.bulkRemove(authors).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ForeignKeyViolationError);
    expect(error).toMatchObject({ index: 2, entity: authors[2] });
    expect((await sub.rows('author')).length).toBe(3);
  });
});
