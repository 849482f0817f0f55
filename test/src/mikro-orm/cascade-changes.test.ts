// Changed related entities, MikroORM: flush writes every changed entity the EntityManager manages —
// a post's author, a comment of its collection, the author's publisher, reachable from the flushed
// rows or not, whatever the relations' cascade. A cohort call is not a flush: it writes the rows it
// is given and leaves the changes of other managed entities, related ones included, pending in the
// unit of work, as they were (a deliberate difference, docs/differences.md: not refused). The next
// flush writes them: cohort's call then `em.flush()` leaves the rows and objects that persist + flush
// leaves. Default and COPY (`COHORT_STRATEGY=copy`).
import { bulkInsert, bulkSave, bulkUpdate } from '@cohort/mikro-orm';
import { Cascade, Collection, helper } from '@mikro-orm/core';
import { Entity, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { type MikroOrmSide, mikroOrmPair } from '../harness/upstream-pair.js';

@Entity({ tableName: 'mcc_publisher' })
class MccPublisher {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
}

@Entity({ tableName: 'mcc_author' })
class MccAuthor {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => MccPublisher, { nullable: true }) publisher?: MccPublisher | null;
}

@Entity({ tableName: 'mcc_post' })
class MccPost {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) title!: string;
  @ManyToOne(() => MccAuthor, { nullable: true, cascade: [Cascade.ALL] }) author?: MccAuthor | null;
  /** No cascade at all: flush writes a changed editor all the same (it is managed). */
  @ManyToOne(() => MccAuthor, { nullable: true, cascade: [] }) editor?: MccAuthor | null;
  @OneToMany(
    () => MccComment,
    (comment) => comment.post,
    { cascade: [Cascade.PERSIST] },
  )
  comments = new Collection<MccComment>(this);
}

@Entity({ tableName: 'mcc_comment' })
class MccComment {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) body!: string;
  @ManyToOne(() => MccPost, { nullable: true }) post?: MccPost | null;
}

const pair = mikroOrmPair('mcc', { entities: [MccPublisher, MccAuthor, MccPost, MccComment] });
const TABLES = ['mcc_publisher', 'mcc_author', 'mcc_post', 'mcc_comment'];
/** `COHORT_STRATEGY=copy` runs the file's cohort calls with COPY. */
const strategy = forcedStrategy;
const opts = () => (strategy ? { strategy } : {});

/** Publisher "pub", author "ann" (with it) and editor "ed", post "p0" by ann with comments c0, c1. */
async function seed(side: MikroOrmSide): Promise<void> {
  const em = side.orm.em.fork();
  const publisher = em.create(MccPublisher, { name: 'pub' });
  const ann = em.create(MccAuthor, { name: 'ann', publisher });
  const ed = em.create(MccAuthor, { name: 'ed' });
  const post = em.create(MccPost, { title: 'p0', author: ann, editor: ed });
  post.comments.add(em.create(MccComment, { body: 'c0' }), em.create(MccComment, { body: 'c1' }));
  await em.flush();
}
const loadPosts = (em: EntityManager) =>
  em.find(MccPost, {}, { populate: ['author.publisher', 'editor', 'comments'], orderBy: { id: 'asc', comments: { id: 'asc' } } });

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const sql = (side: MikroOrmSide, text: string) => side.query(text.replaceAll('$s', `"${side.schema}"`));

/** A change to a related entity, what cohort's call leaves stored, and the entity left dirty. */
interface ChangeCase {
  name: string;
  change(post: MccPost): object;
  /** The related table's rows after cohort's call: as seeded. */
  check: { sql: string; rows: unknown[] };
}

const CASES: ChangeCase[] = [
  {
    name: 'the author of a many-to-one with Cascade.ALL',
    change: (post) => {
      const author = post.author as MccAuthor;
      author.name = 'ann renamed';
      return author;
    },
    check: { sql: 'select name from $s.mcc_author order by id', rows: [{ name: 'ann' }, { name: 'ed' }] },
  },
  {
    name: 'a comment of a one-to-many with Cascade.PERSIST',
    change: (post) => {
      const comment = post.comments.getItems()[1] as MccComment;
      comment.body = 'c1 edited';
      return comment;
    },
    check: { sql: 'select body from $s.mcc_comment order by id', rows: [{ body: 'c0' }, { body: 'c1' }] },
  },
  {
    name: "two steps away: the author's publisher",
    change: (post) => {
      const publisher = (post.author as MccAuthor).publisher as MccPublisher;
      publisher.name = 'pub renamed';
      return publisher;
    },
    check: { sql: 'select name from $s.mcc_publisher', rows: [{ name: 'pub' }] },
  },
  {
    name: 'the editor of a many-to-one without cascade',
    change: (post) => {
      const editor = post.editor as MccAuthor;
      editor.name = 'ed renamed';
      return editor;
    },
    check: { sql: 'select name from $s.mcc_author order by id', rows: [{ name: 'ann' }, { name: 'ed' }] },
  },
];

describe('a changed managed related entity: flush writes it; cohort leaves it pending for the next flush', () => {
  for (const one of CASES) {
    for (const operation of ['bulkUpdate', 'bulkSave', 'bulkInsert'] as const) {
      it(`${one.name} (${operation})`, async () => {
        await pair.compare(
          async (side) => {
            await seed(side);
            const em = side.em;
            const posts = await loadPosts(em);
            const post = posts[0] as MccPost;
            const related = one.change(post);
            post.title = 'p0!';
            // bulkInsert: a new post by the same (changed) author.
            const fresh = make(MccPost, { title: 'p1', author: post.author });
            if (side.mode === 'orm') {
              if (operation === 'bulkInsert') em.persist(fresh);
              else em.persist(posts);
              await em.flush();
            } else {
              if (operation === 'bulkUpdate') await bulkUpdate(em, MccPost, posts, opts());
              else if (operation === 'bulkSave') await bulkSave(em, MccPost, posts, opts());
              else await bulkInsert(em, MccPost, [fresh], opts());
              // The call wrote its rows only: the related change is still pending…
              expect(await sql(side, one.check.sql)).toEqual(one.check.rows);
              expect(helper(related).__managed).toBe(true);
              // …and the next flush writes it (the posts cohort wrote are clean: not written again).
              await em.flush();
            }
            return { objects: [...posts, fresh, related] };
          },
          { tables: TABLES },
        );
      });
    }
  }
});

describe('unchanged related entities: the rows flush writes, nothing pending', () => {
  it('bulkUpdate, bulkSave and bulkInsert with loaded, unchanged relations', async () => {
    await pair.compare(
      async (side) => {
        await seed(side);
        const em = side.em;
        const posts = await loadPosts(em);
        for (const post of posts) post.title = `${post.title}!`;
        const fresh = make(MccPost, { title: 'p1', author: posts[0]?.author, editor: posts[0]?.editor });
        if (side.mode === 'orm') {
          em.persist([...posts, fresh]);
          await em.flush();
        } else {
          expect(await bulkUpdate(em, MccPost, posts, opts())).toMatchObject({ updated: 1 });
          expect(await bulkInsert(em, MccPost, [fresh], opts())).toMatchObject({ inserted: 1 });
          expect(await bulkSave(em, MccPost, posts, opts())).toMatchObject({ unchanged: 1 });
          // Nothing left for a flush to write.
          em.getUnitOfWork().computeChangeSets();
          expect(em.getUnitOfWork().getChangeSets()).toEqual([]);
        }
        return { objects: [...posts, fresh] };
      },
      { tables: TABLES },
    );
  });
});
