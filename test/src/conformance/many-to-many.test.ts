// Many-to-many links to stored entities, written in bulk (issue 22, first slice): the junction rows
// the ORM's own save() / persist()+flush() adds and removes, one DELETE and one INSERT per junction
// table and batch, after the batch's own statement, in the call's transaction. Compared with the
// ORM's own save on an identical schema: rows of every table, the hook log, and the relation left
// clean (a following save or flush writes nothing more).
import { ForeignKeyViolationError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, expectSameOutcome, FLUSH_EVENTS, type OrmUnderTest } from '../harness/conformance.js';

const TABLES = ['post', 'tag', { table: 'post_tag', orderBy: 'post_id, tag_id' }];
const SAME = { tables: TABLES, ignoreTransactionEvents: true, ignoreEvents: [...FLUSH_EVENTS, 'afterLoad'] };

/** Sets a post's tags: a TypeORM array, a MikroORM collection. */
function setTags(side: OrmUnderTest, post: any, tags: any[]): void {
  if (side.orm === 'mikro-orm') post.tags.set(tags);
  else post.tags = tags;
}
function addTag(side: OrmUnderTest, post: any, tag: any): void {
  if (side.orm === 'mikro-orm') post.tags.add(tag);
  else post.tags = [...(post.tags ?? []), tag];
}
function removeTag(side: OrmUnderTest, post: any, tag: any): void {
  if (side.orm === 'mikro-orm') post.tags.remove(tag);
  else post.tags = (post.tags ?? []).filter((t: any) => t.id !== tag.id);
}

/** Three stored tags, saved with the ORM's own save (managed by the side's EntityManager for MikroORM). */
async function storedTags(side: OrmUnderTest): Promise<any[]> {
  const tags = ['red', 'green', 'blue'].map((name) => side.create('Tag', { name }));
  await side.ormSave(tags);
  return tags;
}

/** The posts with their tags loaded, as a caller loads them to change them. */
async function loadPosts(side: OrmUnderTest): Promise<any[]> {
  if (side.orm === 'mikro-orm') {
    const em = side.native.em as any;
    return em.find('Post', {}, { populate: ['tags'], orderBy: { id: 'asc' } });
  }
  return (side.native.dataSource as any).getRepository('Post').find({ relations: { tags: true }, order: { id: 'ASC' } });
}

/** Statements of the side's SQL log since `from` that write `table` (INSERT / DELETE / UPDATE). */
function writesTo(side: OrmUnderTest, table: string, from = 0): string[] {
  return side.sql
    .slice(from)
    .map((entry) => entry.sql)
    .filter((sql) => new RegExp(`^\\s*(insert into|delete from|update)\\s+("?[\\w$]+"?\\.)?"?${table}"?\\s`, 'i').test(sql));
}

/** After the call, the relation is clean: the ORM's own save / flush of the same objects writes nothing more. */
async function expectClean(side: OrmUnderTest, posts: any[]): Promise<void> {
  const from = side.sql.length;
  if (side.orm === 'mikro-orm') await (side.native.em as any).flush();
  else await side.ormSave(posts);
  expect(writesTo(side, 'post_tag', from), 'junction writes after the call').toEqual([]);
  expect(writesTo(side, 'post', from), 'post writes after the call').toEqual([]);
}

describeConformance('many-to-many links to stored entities', ({ subject, reference }) => {
  const build = (side: OrmUnderTest, tags: any[]) => {
    const posts = ['p0', 'p1', 'p2'].map((title) => side.create('Post', { title }));
    setTags(side, posts[0], [tags[0], tags[1]]);
    setTags(side, posts[1], []);
    setTags(side, posts[2], [tags[2]]);
    return posts;
  };

  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}: new rows' links are inserted, one junction INSERT per batch`, async () => {
      const ref = reference();
      const refPosts = build(ref, await storedTags(ref));
      await ref.ormSave(refPosts);

      const sub = subject();
      const subPosts = build(sub, await storedTags(sub));
      const from = sub.sql.length;
      const result = await sub[call](subPosts);
      expect(result).toMatchObject({ inserted: 3, batches: 1 });
      expect(writesTo(sub, 'post_tag', from).map((sql) => sql.slice(0, 6).toLowerCase())).toEqual(['insert']);
      await expectSameOutcome(ref, sub, {
        ...SAME,
        entitiesRef: refPosts.map((p) => ({ id: p.id })),
        entitiesSub: subPosts.map((p) => ({ id: p.id })),
      });
      await expectClean(sub, subPosts);
    });
  }

  it('bulkInsert in batches: one junction INSERT per batch that has links, the rows save() writes', async () => {
    const ref = reference();
    await ref.ormSave(build(ref, await storedTags(ref)));

    const sub = subject();
    const posts = build(sub, await storedTags(sub));
    const from = sub.sql.length;
    expect(await sub.bulkInsert(posts, { batchSize: 2 })).toMatchObject({ inserted: 3, batches: 2 });
    // Batch 1 links p0 (two links), batch 2 links p2: one INSERT each, no DELETE.
    expect(writesTo(sub, 'post_tag', from).map((sql) => sql.slice(0, 6).toLowerCase())).toEqual(['insert', 'insert']);
    for (const table of ['post', 'tag', 'post_tag']) expect(await sub.rows(table, '1, 2')).toEqual(await ref.rows(table, '1, 2'));
    await expectClean(sub, posts);
  });

  /** Stored posts p0 (red, green), p1 (red), p2 (none), then loaded with their tags; `change` edits them. */
  async function changeLoaded(side: OrmUnderTest, change: (posts: any[], tags: any[]) => void) {
    const tags = await storedTags(side);
    const stored = build(side, tags);
    setTags(side, stored[1], [tags[0]]);
    setTags(side, stored[2], []);
    await side.ormSave(stored);
    side.resetLogs();
    const posts = await loadPosts(side);
    const loadedTags = side.orm === 'mikro-orm' ? posts.flatMap((p) => p.tags.getItems()) : posts.flatMap((p) => p.tags);
    const byName = (name: string) => loadedTags.find((t: any) => t.name === name) ?? tags.find((t: any) => t.name === name);
    change(posts, ['red', 'green', 'blue'].map(byName));
    return posts;
  }

  const scenarios: Record<string, (side: OrmUnderTest) => (posts: any[], tags: any[]) => void> = {
    'links added':
      (side) =>
      (posts, [, green, blue]) => {
        addTag(side, posts[1], blue);
        addTag(side, posts[2], green);
      },
    'links removed':
      (side) =>
      (posts, [red, green]) => {
        removeTag(side, posts[0], green);
        removeTag(side, posts[1], red);
      },
    'links added and removed on one row':
      (side) =>
      (posts, [red, , blue]) => {
        removeTag(side, posts[0], red);
        addTag(side, posts[0], blue);
      },
  };

  for (const [title, change] of Object.entries(scenarios)) {
    for (const call of ['bulkUpdate', 'bulkSave'] as const) {
      it(`${call}: ${title} on loaded rows, at most one junction DELETE and one INSERT`, async () => {
        const ref = reference();
        const refPosts = await changeLoaded(ref, change(ref));
        await ref.ormSave(refPosts);

        const sub = subject();
        const subPosts = await changeLoaded(sub, change(sub));
        const from = sub.sql.length;
        const result = await sub[call](subPosts);
        expect(result).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
        const writes = writesTo(sub, 'post_tag', from).map((sql) => sql.slice(0, 6).toLowerCase());
        expect(writes.filter((w) => w === 'insert').length).toBeLessThanOrEqual(1);
        expect(writes.filter((w) => w === 'delete').length).toBeLessThanOrEqual(1);
        expect(writes.length).toBeGreaterThan(0);
        await expectSameOutcome(ref, sub, SAME);
        await expectClean(sub, subPosts);
      });
    }
  }

  it('a link that fails at row k (a tag that is not stored): typed error naming Post.tags and the row, nothing written', async () => {
    const sub = subject();
    const tags = await storedTags(sub);
    const ghost =
      sub.orm === 'mikro-orm'
        ? (sub.native.em as any).getReference('Tag', 999)
        : Object.assign(sub.create('Tag', { name: 'ghost' }), { id: 999 });
    const posts = build(sub, tags);
    addTag(sub, posts[2], ghost);
    const error = await sub.bulkInsert(posts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ForeignKeyViolationError);
    expect(error).toMatchObject({ index: 2, entity: posts[2] });
    expect((error as Error).message).toContain('Post.tags');
    expect(await sub.rows('post')).toEqual([]);
    expect(await sub.rows('post_tag')).toEqual([]);
  });
});
