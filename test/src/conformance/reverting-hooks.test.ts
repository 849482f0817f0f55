// A before-update hook that changes a row back to what is stored, against the ORM's own save/flush.
// TypeORM's save() diffs again after its before-hooks and leaves a row without changes alone: no
// UPDATE, no afterUpdate, no version bump (its events keep listing the column changed back).
// MikroORM's flush adds what the hooks changed to the change set, which never shrinks: it writes
// the row with the value changed back. cohort does what each ORM does.
import { beforeAll, expect, it } from 'vitest';
import { countStatements, describeConformance, expectSameOutcome, type OrmUnderTest } from '../harness/conformance.js';

const dates = ['createdAt', 'updatedAt', 'created_at', 'updated_at'];
// cohort looks rows up inside its transaction, TypeORM's save() before (a documented difference).
const outcome = { mask: dates, ignoreTransactionEvents: true };
const REVERT = 'revert:';

/**
 * A subscriber of both ORMs: before an update, a `title` or `label` that starts with `revert:` is
 * set back to its stored value.
 */
const reverter = {
  beforeUpdate(event: {
    entity?: Record<string, unknown>;
    databaseEntity?: Record<string, unknown>;
    changeSet?: { originalEntity?: Record<string, unknown> };
  }) {
    const entity = event.entity;
    const stored = event.databaseEntity ?? event.changeSet?.originalEntity;
    if (!entity || !stored) return;
    for (const property of ['title', 'label']) {
      const value = entity[property];
      if (typeof value === 'string' && value.startsWith(REVERT)) entity[property] = stored[property];
    }
  },
};

function attachReverter(side: OrmUnderTest): void {
  if (side.native.dataSource) side.native.dataSource.subscribers.push(reverter as never);
  else side.native.orm?.em.getEventManager().registerSubscriber(reverter as never);
}

const updates = (side: OrmUnderTest, table: string) =>
  countStatements(side.sql, new RegExp(`^(with .*)?update "[^"]+"\\."${table}"`, 'is'));

describeConformance('before-update hooks that change a row back', ({ subject, reference }) => {
  beforeAll(() => {
    attachReverter(subject());
    attachReverter(reference());
  });

  /** Three articles stored and updated once (their own hook's `stamp` is set: it changes nothing more). */
  const articles = async (side: OrmUnderTest) => {
    const stored = ['a', 'b', 'c'].map((title) => side.create('Article', { title }));
    await side.ormSave(stored);
    for (const a of stored) a.title = `${a.title}2`;
    await side.ormSave(stored);
    side.resetLogs();
    return stored;
  };

  it('a beforeUpdate listener that reverts the only change: the row is unchanged, as with save()', async () => {
    const results: unknown[] = [];
    const run = async (side: OrmUnderTest, save: (entities: object[]) => Promise<unknown>) => {
      const stored = await articles(side);
      stored[0].title = `${REVERT}x`;
      stored[1].title = 'b3';
      results.push(await save(stored));
      return stored;
    };
    const entitiesRef = await run(reference(), (e) => reference().ormSave(e));
    const entitiesSub = await run(subject(), (e) => subject().bulkUpdate(e));
    await expectSameOutcome(reference(), subject(), { tables: ['article'], entitiesRef, entitiesSub, ...outcome });
    const typeorm = subject().orm === 'typeorm';
    expect(results[1]).toMatchObject(
      typeorm
        ? { updated: 1, unchanged: 2, outcomes: ['unchanged', 'updated', 'unchanged'] }
        : { updated: 2, unchanged: 1, outcomes: ['updated', 'updated', 'unchanged'] },
    );
    expect((await subject().rows('article')).map((r) => [r.title, r.version])).toEqual([
      ['a2', typeorm ? 2 : 3],
      ['b3', 3],
      ['c2', 2],
    ]);
  });

  it('a beforeUpdate listener that reverts every row of the batch: no UPDATE is sent, as with save()', async () => {
    const results: unknown[] = [];
    const run = async (side: OrmUnderTest, save: (entities: object[]) => Promise<unknown>) => {
      const stored = await articles(side);
      for (const a of stored) a.title = `${REVERT}${a.title}`;
      results.push(await save(stored));
      return stored;
    };
    const entitiesRef = await run(reference(), (e) => reference().ormSave(e));
    const entitiesSub = await run(subject(), (e) => subject().bulkUpdate(e));
    await expectSameOutcome(reference(), subject(), { tables: ['article'], entitiesRef, entitiesSub, ...outcome });
    const typeorm = subject().orm === 'typeorm';
    expect(results[1]).toMatchObject(typeorm ? { updated: 0, unchanged: 3 } : { updated: 3, unchanged: 0 });
    expect(updates(subject(), 'article')).toBe(typeorm ? 0 : 1);
    expect(updates(reference(), 'article')).toBe(typeorm ? 0 : 1);
  });

  it('bulkSave: new rows and rows a listener reverts in one batch, as with save()', async () => {
    const results: unknown[] = [];
    const run = async (side: OrmUnderTest, save: (entities: object[]) => Promise<unknown>) => {
      const stored = await articles(side);
      stored[0].title = `${REVERT}x`;
      stored[2].title = 'c3';
      const entities = [side.create('Article', { title: 'new' }), ...stored];
      results.push(await save(entities));
      return entities;
    };
    const entitiesRef = await run(reference(), (e) => reference().ormSave(e));
    const entitiesSub = await run(subject(), (e) => subject().bulkSave(e));
    await expectSameOutcome(reference(), subject(), { tables: ['article'], entitiesRef, entitiesSub, ...outcome });
    expect(results[1]).toMatchObject({
      inserted: 1,
      outcomes: ['inserted', subject().orm === 'typeorm' ? 'unchanged' : 'updated', 'unchanged', 'updated'],
    });
  });

  it('a listener that reverts one of two changes: the other is written, the events list both, as with save()', async () => {
    const run = async (side: OrmUnderTest, save: (entities: object[]) => Promise<unknown>) => {
      const seeds = [1, 2].map((qty) =>
        side.create('Seed', { qty, label: `s${qty}`, createdAt: new Date('2024-01-01T00:00:00Z') }),
      );
      await side.ormSave(seeds);
      side.resetLogs();
      Object.assign(seeds[0], { qty: 10, label: `${REVERT}s1` });
      await save(seeds);
      return seeds;
    };
    const entitiesRef = await run(reference(), (e) => reference().ormSave(e));
    const entitiesSub = await run(subject(), (e) => subject().bulkUpdate(e));
    await expectSameOutcome(reference(), subject(), { tables: ['seed'], entitiesRef, entitiesSub, ...outcome });
    expect((await subject().rows('seed')).map((r) => [r.qty, r.label])).toEqual([
      [10, 's1'],
      [2, 's2'],
    ]);
    const after = subject().hooks.filter((h) => h.source === 'subscriber' && h.event === 'afterUpdate');
    if (subject().orm === 'typeorm')
      expect(after.map((h) => h.detail)).toEqual([{ updatedColumns: ['label', 'qty'], updatedRelations: [] }]);
  });

  /** Two books by Ada, stored; Bob, stored. */
  const books = async (side: OrmUnderTest) => {
    const [ada, bob] = ['Ada', 'Bob'].map((name) => side.create('Author', { name }));
    await side.ormSave([ada, bob]);
    const stored = ['x', 'y'].map((title) => side.create('Book', { title, author: ada }));
    await side.ormSave(stored);
    side.resetLogs();
    return { stored, bob };
  };
  const titlesAndAuthors = (side: OrmUnderTest) =>
    side.query('SELECT b.title, a.name FROM book b JOIN author a ON a.id = b.author_id ORDER BY 1');

  it('a listener that reverts a title while the relation changed too: the join column is written, as with save()', async () => {
    const run = async (side: OrmUnderTest, save: (entities: object[]) => Promise<unknown>) => {
      const { stored, bob } = await books(side);
      Object.assign(stored[0], { title: `${REVERT}x`, author: bob });
      await save(stored);
      return stored;
    };
    const entitiesRef = await run(reference(), (e) => reference().ormSave(e));
    const entitiesSub = await run(subject(), (e) => subject().bulkUpdate(e));
    await expectSameOutcome(reference(), subject(), { tables: ['book'], entitiesRef, entitiesSub, ...outcome });
    expect(await titlesAndAuthors(subject())).toEqual([
      { title: 'x', name: 'Bob' },
      { title: 'y', name: 'Ada' },
    ]);
  });

  it('a listener that reverts the only change of an entity with a relation: unchanged, as with save()', async () => {
    const results: unknown[] = [];
    const run = async (side: OrmUnderTest, save: (entities: object[]) => Promise<unknown>) => {
      const { stored } = await books(side);
      stored[1].title = `${REVERT}y`;
      results.push(await save(stored));
      return stored;
    };
    const entitiesRef = await run(reference(), (e) => reference().ormSave(e));
    const entitiesSub = await run(subject(), (e) => subject().bulkUpdate(e));
    await expectSameOutcome(reference(), subject(), { tables: ['book'], entitiesRef, entitiesSub, ...outcome });
    const typeorm = subject().orm === 'typeorm';
    expect(results[1]).toMatchObject({ outcomes: ['unchanged', typeorm ? 'unchanged' : 'updated'] });
    expect(updates(subject(), 'book')).toBe(typeorm ? 0 : 1);
  });
});
