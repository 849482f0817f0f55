// Many-to-many links of rows a MikroORM call leaves unmanaged (`managed: false`, a stream's default).
// `post.tags.set([...])` also puts the post into its tags' loaded inverse collections (`tag.posts`),
// and the tags are managed: had cohort written the links and left the posts unmanaged, the next
// `em.flush()` would reach them through `tag.posts` and INSERT them again (a unique violation here;
// duplicate rows in a table without a unique key). flush never leaves a written entity unmanaged,
// so such rows are refused, naming the relation and `managed: true`; with it, the rows and links
// are written and a following flush sends nothing. TypeORM manages nothing: its rows are written.
import { UnsupportedFeatureError } from '@cohort/core';
import { expect, it } from 'vitest';
import { describeConformance, type OrmUnderTest } from '../harness/conformance.js';

function setTags(side: OrmUnderTest, post: any, tags: any[]): void {
  if (side.orm === 'mikro-orm') post.tags.set(tags);
  else post.tags = tags;
}

describeConformance('many-to-many links of rows left unmanaged', ({ subject, reference }) => {
  /** Stored tags red and green; new posts p0 (red, green) and p1 (green); the reference saved them. */
  async function build(): Promise<any[]> {
    const posts: any[] = [];
    for (const side of [reference(), subject()]) {
      const tags = ['red', 'green'].map((name) => side.create('Tag', { name }));
      await side.ormSave(tags);
      const built = ['p0', 'p1'].map((title) => side.create('Post', { title }));
      setTags(side, built[0], [tags[0], tags[1]]);
      setTags(side, built[1], [tags[1]]);
      if (side === reference()) await side.ormSave(built);
      else posts.push(...built);
    }
    return posts;
  }

  /** The writes a following flush (MikroORM) or save() of the same objects (TypeORM) sends. */
  async function writesAfter(sub: OrmUnderTest, posts: any[]): Promise<string[]> {
    const from = sub.sql.length;
    if (sub.orm === 'mikro-orm') await (sub.native.em as any).flush();
    else await sub.ormSave(posts);
    return sub.sql
      .slice(from)
      .map((entry) => entry.sql)
      .filter((sql) => /^\s*(insert into|delete from|update)\s/i.test(sql));
  }

  for (const input of ['stream', 'array, managed: false'] as const) {
    it(`bulkInsert (${input}) of posts with stored tags: MikroORM refuses Post.tags naming managed: true; TypeORM writes them`, async () => {
      const sub = subject();
      const posts = await build();
      async function* stream() {
        for (const post of posts) yield post;
      }
      // `managed` is MikroORM's option (TypeORM refuses it by name; the harness types core's options).
      const options = sub.orm === 'mikro-orm' ? { batchSize: 1000, managed: false } : { batchSize: 1000 };
      const call =
        input === 'stream' ? sub.bulkInsert(stream() as unknown as object[], {}, 'Post') : sub.bulkInsert(posts, options);
      if (sub.orm === 'mikro-orm') {
        const error = await call.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({ feature: 'many-to-many link', entityName: 'Post', property: 'tags', index: 0 });
        expect((error as Error).message).toMatch(/managed: true/);
        expect(await sub.rows('post')).toEqual([]);
        expect(await sub.rows('post_tag')).toEqual([]);
        return;
      }
      await call;
      for (const table of ['post', 'post_tag'])
        expect(await sub.rows(table, '1, 2')).toEqual(await reference().rows(table, '1, 2'));
      expect(await writesAfter(sub, posts)).toEqual([]);
    });
  }

  it("bulkInsert with managed: true (an array's default): rows and links as the reference, a following flush / save() writes nothing", async () => {
    const sub = subject();
    const posts = await build();
    // `managed` is MikroORM's option, passed as a variable (the harness types core's options).
    const options = sub.orm === 'mikro-orm' ? { batchSize: 10_000, managed: true } : { batchSize: 10_000 };
    await sub.bulkInsert(posts, options);
    for (const table of ['post', 'post_tag'])
      expect(await sub.rows(table, '1, 2')).toEqual(await reference().rows(table, '1, 2'));
    expect(await writesAfter(sub, posts)).toEqual([]);
  });
});
