// Relations cohort does not write yet are refused, never dropped (SPEC §8): a to-one pointing at an
// entity without a key, on both adapters. The ORM's own save never writes NULL there: MikroORM's
// flush inserts the target first (it follows to-one references whatever their cascade), TypeORM's
// save inserts it when the relation cascades inserts and otherwise fails; cohort refuses the call
// with an UnsupportedFeatureError naming the class, the property and the row, and writes nothing.
// (Collections — cascaded children, inverse sides — are pinned per adapter in
// test/src/typeorm/unwritten-relations.test.ts and test/src/mikro-orm/unwritten-relations.test.ts;
// many-to-many links to entities with keys are written: test/src/conformance/many-to-many.test.ts.)
import { UnsupportedFeatureError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, type OrmUnderTest } from '../harness/conformance.js';

/** What a refused call threw, checked to name the class, the property and the row. */
async function refusal(call: Promise<unknown>, expected: { entityName: string; property: string; index: number }) {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject({ feature: 'unsaved reference', ...expected });
  expect((error as Error).message).toContain(`${expected.entityName}.${expected.property} at row ${expected.index}`);
  return error as UnsupportedFeatureError;
}

describeConformance('relations cohort does not write are refused', ({ subject, reference }) => {
  const authors = (side: OrmUnderTest) => [
    side.create('Author', { name: 'saved profile', profile: null }),
    side.create('Author', { name: 'new profile', profile: side.create('Profile', { bio: 'not saved yet' }) }),
  ];

  it("a one-to-one to a new entity: the ORM's save does not write NULL; cohort writes it as MikroORM's flush, refuses Author.profile where TypeORM's save fails", async () => {
    const ref = reference();
    const own = ref.ormSave(authors(ref));
    const sub = subject();
    if (ref.orm === 'mikro-orm') {
      await own;
      const linked = 'SELECT a.name, p.bio FROM author a LEFT JOIN profile p ON p.id = a.profile_id ORDER BY a.id';
      expect(await ref.query(linked)).toEqual([
        { name: 'saved profile', bio: null },
        { name: 'new profile', bio: 'not saved yet' },
      ]);
      // Flush inserts the profile first (to-one references are followed whatever their cascade): so do
      // bulkInsert and bulkSave (test/src/conformance/cascade-inserts.test.ts). An upsert does not.
      for (const call of [(rows: object[]) => sub.bulkInsert(rows), (rows: object[]) => sub.bulkSave(rows)]) {
        await sub.query('TRUNCATE author, profile RESTART IDENTITY CASCADE');
        expect(await call(authors(sub))).toMatchObject({ inserted: 2, byEntity: { Profile: { inserted: 1 } } });
        expect(await sub.query(linked)).toEqual(await ref.query(linked));
      }
      await sub.query('TRUNCATE author, profile RESTART IDENTITY CASCADE');
      sub.resetLogs();
      await refusal(sub.bulkUpsert(authors(sub), { target: ['id'] }), { entityName: 'Author', property: 'profile', index: 1 });
    } else {
      // No cascade on Author.profile: save() inserts the author, then fails to link the profile.
      await expect(own).rejects.toThrow();
      expect(await ref.rows('author')).toEqual([]);
      for (const call of [
        (rows: object[]) => sub.bulkInsert(rows),
        (rows: object[]) => sub.bulkSave(rows),
        (rows: object[]) => sub.bulkUpsert(rows, { target: ['id'] }),
      ]) {
        await refusal(call(authors(sub)), { entityName: 'Author', property: 'profile', index: 1 });
      }
    }
    expect(await sub.rows('author')).toEqual([]);
    expect(await sub.rows('profile')).toEqual([]);
    expect(sub.hooks.filter((h) => h.entity !== null && /after/i.test(h.event))).toEqual([]);
  });

  for (const call of ['bulkUpdate', 'bulkSave'] as const) {
    it(`${call}: an existing row pointed at a new entity is written as the ORM's save (MikroORM: flush inserts it) or refused (TypeORM, no cascade), its row left as it was`, async () => {
      const sub = subject();
      await sub.bulkInsert([sub.create('Author', { name: 'Ada', profile: null })]);
      const [ada] = await sub.find('Author');
      ada.profile = sub.create('Profile', { bio: 'not saved yet' });
      if (sub.orm === 'typeorm') {
        await refusal(sub[call]([ada]), { entityName: 'Author', property: 'profile', index: 0 });
        expect(await sub.rows('author')).toMatchObject([{ name: 'Ada', profile_id: null }]);
        expect(await sub.rows('profile')).toEqual([]);
        return;
      }
      // Flush follows a to-one whatever its cascade: it inserts the profile, then updates the author (issue 22).
      const ref = reference();
      await ref.ormSave([ref.create('Author', { name: 'Ada', profile: null })]);
      const [refAda] = await ref.find('Author');
      refAda.profile = ref.create('Profile', { bio: 'not saved yet' });
      await ref.ormSave([refAda]);
      expect(await sub[call]([ada])).toMatchObject({ updated: 1, byEntity: { Profile: { inserted: 1 } } });
      expect(await sub.rows('profile')).toEqual(await ref.rows('profile'));
      expect(await sub.rows('author')).toEqual(await ref.rows('author'));
    });
  }

  // A new parent among the call's rows is linked (test/src/conformance/self-referencing-trees.test.ts).
  it('a self-reference to a new parent the call does not insert: refused naming Category.parent', async () => {
    const sub = subject();
    const child = sub.create('Category', { name: 'child', parent: sub.create('Category', { name: 'parent', parent: null }) });
    await refusal(sub.bulkInsert([child]), { entityName: 'Category', property: 'parent', index: 0 });
    await refusal(sub.bulkSave([child]), { entityName: 'Category', property: 'parent', index: 0 });
    expect(await sub.rows('category')).toEqual([]);
  });
});
