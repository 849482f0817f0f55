// Changed related entities behind a relation that cascades updates, TypeORM: save() walks the
// relations that cascade (CascadesSubjectBuilder) and updates every stored related entity that
// changed — a post's author, a child of a cascaded one-to-many, an author's publisher two steps
// away. bulkUpdate, bulkSave and bulkInsert update them with the rows (test/src/typeorm/cascade-update-order.test.ts
// pins events and statements; a changed entity of the rows' own table: cascade-update-own-table.test.ts).
// "Changed" is save()'s own comparison: against the entity's snapshot with
// trackEntityChanges, else against its row, loaded as save() loads it. What save() does not write
// (unchanged related entities, relations without cascade, related entities that are rows of the
// batch, any relation in an upsert) is written as save() writes it.
import { bulkInsert, bulkSave, bulkUpdate, bulkUpsert, trackEntityChanges } from '@cohort/typeorm';
import { Column, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { beforeAll, describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

@Entity('cc_publisher')
class CcPublisher {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
}

@Entity('cc_author')
class CcAuthor {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => CcPublisher, { nullable: true, cascade: ['update'] }) publisher?: CcPublisher | null;
}

@Entity('cc_post')
class CcPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40, unique: true }) title!: string;
  /** Cascades inserts and updates. */
  @ManyToOne(() => CcAuthor, { nullable: true, cascade: true }) author?: CcAuthor | null;
  /** No cascade: save() never writes the editor. */
  @ManyToOne(() => CcAuthor, { nullable: true }) editor?: CcAuthor | null;
  @OneToMany(
    () => CcComment,
    (comment) => comment.post,
    { cascade: true },
  )
  comments?: CcComment[];
}

@Entity('cc_comment')
class CcComment {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) body!: string;
  @ManyToOne(
    () => CcPost,
    (post) => post.comments,
    { nullable: true },
  )
  post?: CcPost | null;
}

/** A tree whose parent relation cascades updates. */
@Entity('cc_node')
class CcNode {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
  @ManyToOne(() => CcNode, { nullable: true, cascade: ['update'] }) parent?: CcNode | null;
}

const entities = [CcPublisher, CcAuthor, CcPost, CcComment, CcNode];
const TABLES = ['cc_publisher', 'cc_author', 'cc_post', 'cc_comment', 'cc_node'];
/** `COHORT_STRATEGY=copy` runs the file's cohort calls with COPY. */
const strategy = forcedStrategy;
const opts = <O extends object>(options?: O): O => ({ ...(strategy && { strategy }), ...options }) as O;

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);

/** One publisher, author "ann" (with it) and editor "ed", post "p0" by ann with comments "c0", "c1". */
async function seed(side: TypeormSide): Promise<void> {
  const publisher = make(CcPublisher, { name: 'pub' });
  const ann = make(CcAuthor, { name: 'ann', publisher });
  const ed = make(CcAuthor, { name: 'ed' });
  await side.dataSource.manager.save([publisher, ann, ed]);
  await side.dataSource.manager.save(
    make(CcPost, {
      title: 'p0',
      author: ann,
      editor: ed,
      comments: [make(CcComment, { body: 'c0' }), make(CcComment, { body: 'c1' })],
    }),
  );
}
/** The seeded posts, loaded with every relation (author's publisher included). */
const loadPosts = (side: TypeormSide) =>
  side.dataSource.getRepository(CcPost).find({
    relations: { author: { publisher: true }, editor: true, comments: true },
    order: { id: 'ASC', comments: { id: 'ASC' } },
  });

async function everything(side: TypeormSide) {
  const all: Record<string, unknown[]> = {};
  for (const table of TABLES) all[table] = await rowsOf(side, table);
  return all;
}

/** What a change to a related entity does: save() writes it; every cohort operation refuses it. */
interface ChangeCase {
  name: string;
  change(post: CcPost): void;
  property: string;
  target: string;
  /** What save() wrote: the table and the rows it shows there. */
  written: { table: string; sql: string; rows: unknown[] };
}

const CASES: ChangeCase[] = [
  {
    name: "the author of a many-to-one with cascade: true (the author's name)",
    change: (post) => {
      (post.author as CcAuthor).name = 'ann renamed';
    },
    property: 'author',
    target: 'CcAuthor',
    written: {
      table: 'cc_author',
      sql: 'SELECT name FROM $s.cc_author ORDER BY id',
      rows: [{ name: 'ann renamed' }, { name: 'ed' }],
    },
  },
  {
    name: 'a child of a cascaded one-to-many (a comment body)',
    change: (post) => {
      (post.comments?.[1] as CcComment).body = 'c1 edited';
    },
    property: 'comments',
    target: 'CcComment',
    written: {
      table: 'cc_comment',
      sql: 'SELECT body FROM $s.cc_comment ORDER BY id',
      rows: [{ body: 'c0' }, { body: 'c1 edited' }],
    },
  },
  {
    name: "two steps away: the author's publisher (cascade ['update'] on CcAuthor.publisher)",
    change: (post) => {
      ((post.author as CcAuthor).publisher as CcPublisher).name = 'pub renamed';
    },
    property: 'author.publisher',
    target: 'CcPublisher',
    written: { table: 'cc_publisher', sql: 'SELECT name FROM $s.cc_publisher', rows: [{ name: 'pub renamed' }] },
  },
  {
    name: "the author's own foreign key (another publisher)",
    change: (post) => {
      (post.author as CcAuthor).publisher = null;
    },
    property: 'author',
    target: 'CcAuthor',
    written: {
      table: 'cc_author',
      sql: 'SELECT name, "publisherId" FROM $s.cc_author ORDER BY id',
      rows: [
        { name: 'ann', publisherId: null },
        { name: 'ed', publisherId: null },
      ],
    },
  },
];

const sql = (side: TypeormSide, text: string) => side.query(text.replaceAll('$s', `"${side.schema}"`));

/** The scenarios, on a DataSource with or without trackEntityChanges. */
function scenarios(prefix: string, tracked: boolean) {
  const pair = typeormPair(prefix, { entities });
  if (tracked) {
    beforeAll(() => {
      trackEntityChanges(pair.reference().dataSource);
      trackEntityChanges(pair.subject().dataSource);
    });
  }

  describe('a changed related entity: save() writes it, bulkUpdate, bulkSave and bulkInsert too', () => {
    for (const one of CASES) {
      it(one.name, async () => {
        const orm = pair.reference();
        await seed(orm);
        const [theirs] = await loadPosts(orm);
        one.change(theirs as CcPost);
        (theirs as CcPost).title = 'p0!';
        await orm.dataSource.manager.save(theirs);
        expect(await sql(orm, one.written.sql)).toEqual(one.written.rows);
        expect(await sql(orm, 'SELECT title FROM $s.cc_post')).toEqual([{ title: 'p0!' }]);

        const side = pair.subject();
        await seed(side);
        const posts = await loadPosts(side);
        one.change(posts[0] as CcPost);
        (posts[0] as CcPost).title = 'p0!';
        // bulkUpdate and bulkSave (every other case) write the changed related entity with the row, as save() does.
        const call = CASES.indexOf(one) % 2 === 0 ? bulkUpdate : bulkSave;
        if (one.property.startsWith('author')) {
          // First a new post by the changed (stored) author: bulkInsert updates the author with it, as
          // save() does; the rows' own call then finds it unchanged.
          await orm.dataSource.manager.save(make(CcPost, { title: 'p1', author: theirs?.author }));
          const fresh = make(CcPost, { title: 'p1', author: posts[0]?.author });
          const inserted = await bulkInsert(side.dataSource, CcPost, [fresh], opts());
          expect(inserted.byEntity?.[one.target]).toEqual({ inserted: 0, updated: 1 });
          expect(await sql(side, one.written.sql)).toEqual(one.written.rows);
          await call(side.dataSource, CcPost, posts, opts());
        } else {
          const result = await call(side.dataSource, CcPost, posts, opts());
          expect(result.byEntity?.[one.target]).toEqual({ inserted: 0, updated: 1 });
          expect(await sql(side, one.written.sql)).toEqual(one.written.rows);
          expect(await sql(side, 'SELECT title FROM $s.cc_post')).toEqual([{ title: 'p0!' }]);
        }
        expect(await everything(side)).toEqual(await everything(orm));
      });
    }

    it('an entity built by hand with a stored key: compared with its row, as save() compares it', async () => {
      const byHand = () => make(CcPost, { title: 'p1', author: make(CcAuthor, { id: 1, name: 'not ann' }) });
      const orm = pair.reference();
      await seed(orm);
      await orm.dataSource.manager.save(byHand());
      expect(await sql(orm, 'SELECT name FROM $s.cc_author ORDER BY id')).toEqual([{ name: 'not ann' }, { name: 'ed' }]);

      const side = pair.subject();
      await seed(side);
      await bulkInsert(side.dataSource, CcPost, [byHand()], opts());
      expect(await everything(side)).toEqual(await everything(orm));
    });

    it('saving the related entities first, then the rows: the rows save() leaves', async () => {
      await pair.compare(
        async (side) => {
          await seed(side);
          const posts = await loadPosts(side);
          const post = posts[0] as CcPost;
          const author = post.author as CcAuthor;
          author.name = 'ann renamed';
          (author.publisher as CcPublisher).name = 'pub renamed';
          (post.comments?.[0] as CcComment).body = 'c0 edited';
          post.title = 'p0!';
          if (side.mode === 'orm') {
            await side.dataSource.manager.save(posts);
          } else {
            await bulkUpdate(side.dataSource, CcPublisher, [author.publisher as CcPublisher], opts());
            await bulkUpdate(side.dataSource, CcAuthor, [author], opts());
            await bulkUpdate(side.dataSource, CcComment, post.comments as CcComment[], opts());
            await bulkUpdate(side.dataSource, CcPost, posts, opts());
          }
          return { objects: posts };
        },
        { tables: TABLES, ignoreJournal: true },
      );
    });
  });

  describe('what save() does not write through a relation is not refused', () => {
    it('loaded related entities that did not change: the rows save() writes, whatever the operation', async () => {
      await pair.compare(
        async (side) => {
          await seed(side);
          const posts = await loadPosts(side);
          for (const post of posts) post.title = `${post.title}!`;
          const fresh = make(CcPost, { title: 'p1', author: posts[0]?.author, editor: posts[0]?.editor });
          if (side.mode === 'orm') {
            await side.dataSource.manager.save(posts);
            await side.dataSource.manager.save(fresh);
          } else {
            expect(await bulkUpdate(side.dataSource, CcPost, posts, opts())).toMatchObject({ updated: 1 });
            expect(await bulkInsert(side.dataSource, CcPost, [fresh], opts())).toMatchObject({ inserted: 1 });
            expect(await bulkSave(side.dataSource, CcPost, posts, opts())).toMatchObject({ unchanged: 1 });
          }
          return { objects: [...posts, fresh] };
        },
        { tables: TABLES, ignoreJournal: true },
      );
    });

    it('a changed related entity behind a relation without cascade (the editor): save() leaves it, so does cohort', async () => {
      await pair.compare(
        async (side) => {
          await seed(side);
          const posts = await loadPosts(side);
          (posts[0]?.editor as CcAuthor).name = 'ed renamed';
          (posts[0] as CcPost).title = 'p0!';
          if (side.mode === 'orm') await side.dataSource.manager.save(posts);
          else await bulkUpdate(side.dataSource, CcPost, posts, opts());
          return { objects: posts };
        },
        { tables: TABLES, ignoreJournal: true },
      );
    });

    it('a changed parent that is a row of the same batch: written by the call, as save() writes it', async () => {
      await pair.compare(
        async (side) => {
          const root = make(CcNode, { label: 'root' });
          await side.dataSource.manager.save(root);
          await side.dataSource.manager.save(make(CcNode, { label: 'leaf', parent: root }));
          const nodes = await side.dataSource.getRepository(CcNode).find({ relations: { parent: true }, order: { id: 'ASC' } });
          const leaf = nodes[1] as CcNode;
          // The leaf's parent is the loaded copy of the root: the batch holds that copy.
          nodes[0] = leaf.parent as CcNode;
          (nodes[0] as CcNode).label = 'root!';
          leaf.label = 'leaf!';
          if (side.mode === 'orm') await side.dataSource.manager.save(nodes);
          else await bulkUpdate(side.dataSource, CcNode, nodes, opts());
          return { objects: nodes };
        },
        { tables: ['cc_node'], ignoreJournal: true },
      );
    });

    if (tracked) {
      it('a related row another caller changed since it was loaded: save() writes the stale copy back, cohort leaves the row', async () => {
        // A deliberate difference (docs/differences.md, "What changed means"): with snapshots, an
        // entity the application did not change is not changed, whatever its row holds now.
        const run = async (side: TypeormSide) => {
          await seed(side);
          const posts = await loadPosts(side);
          await sql(side, `UPDATE $s.cc_author SET name = 'changed elsewhere' WHERE id = 1`);
          (posts[0] as CcPost).title = 'p0!';
          if (side.mode === 'orm') await side.dataSource.manager.save(posts);
          else await bulkUpdate(side.dataSource, CcPost, posts, opts());
          return sql(side, 'SELECT a.name, p.title FROM $s.cc_post p JOIN $s.cc_author a ON a.id = p."authorId"');
        };
        expect(await run(pair.reference())).toEqual([{ name: 'ann', title: 'p0!' }]);
        expect(await run(pair.subject())).toEqual([{ name: 'changed elsewhere', title: 'p0!' }]);
      });
    }

    it("an upsert: TypeORM's upsert() writes the row's columns only, and so does bulkUpsert", async () => {
      await pair.compare(
        async (side) => {
          await seed(side);
          const posts = await loadPosts(side);
          const author = posts[0]?.author as CcAuthor;
          author.name = 'ann renamed';
          (author.publisher as CcPublisher).name = 'pub renamed';
          const fresh = [make(CcPost, { title: 'p1', author })];
          if (side.mode === 'orm') await side.dataSource.getRepository(CcPost).upsert(fresh, ['title']);
          else await bulkUpsert(side.dataSource, CcPost, fresh, opts({ target: ['title'] }));
          return {};
        },
        { tables: TABLES, ignoreJournal: true },
      );
    });
  });
}

describe('loaded rows as the baseline (no trackEntityChanges)', () => {
  scenarios('cc_plain', false);
});

describe('snapshots as the baseline (trackEntityChanges)', () => {
  scenarios('cc_tracked', true);
});
