// Stored rows that reach CHANGED stored related entities through relations that cascade updates
// (`cascade: true` / `['update']`): TypeORM's save() updates those entities with the rows; so does
// bulkUpdate (docs/guide.md "Changed related entities"). Differential: save() and bulkUpdate on equal
// inputs — rows of every table, object state, the entity events (with their updatedColumns,
// updatedRelations and databaseEntity) and the UPDATE statements per table. save() fires every
// before-update in subject order (the rows, then what each reached, depth first), sends one UPDATE
// per entity, then fires every after-update; cohort fires the rows' events, then each related
// class's (classes in the order first reached), and sends one UPDATE per class and batch
// (docs/differences.md, "Changed related entities").
import {
  BulkHookError,
  bulkInsert,
  bulkSave,
  bulkUpdate,
  OptimisticLockError,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '@cohort/typeorm';
import {
  BeforeUpdate,
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type Logger,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type UpdateEvent,
  VersionColumn,
} from 'typeorm';
import { describe, expect, it } from 'vitest';
import { normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

@Entity('cu_publisher')
class CuPublisher {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40, unique: true }) name!: string;
  @VersionColumn() version!: number;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}

@Entity('cu_author')
class CuAuthor {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => CuPublisher, { nullable: true, cascade: ['update'] }) publisher?: CuPublisher | null;
  @BeforeUpdate() check() {
    log.push(`listener beforeUpdate CuAuthor ${this.name}`);
    if (this.name === 'boom!') throw new Error('no boom');
  }
}

@Entity('cu_post')
class CuPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => CuAuthor, { nullable: true, cascade: true }) author?: CuAuthor | null;
  // A relation of the rows' own table: a changed post reached through it is updated too.
  @ManyToOne(() => CuPost, { nullable: true, cascade: ['update'] }) previous?: CuPost | null;
}

/** Entity events and write statements, in the order they happen. */
const log: string[] = [];
const keyed = (entity: unknown) => {
  const e = entity as { constructor: { name: string }; title?: string; name?: string } | undefined;
  return e ? `${e.constructor.name} ${e.title ?? e.name}` : 'none';
};

@EventSubscriber()
class CuLog implements EntitySubscriberInterface {
  beforeUpdate(event: UpdateEvent<unknown>) {
    const db = event.databaseEntity as { title?: string; name?: string } | undefined;
    log.push(
      `beforeUpdate ${keyed(event.entity)} [${event.updatedColumns.map((c) => c.propertyName).join(',')}] ` +
        `[${event.updatedRelations.map((r) => r.propertyName).join(',')}] was ${db?.title ?? db?.name}`,
    );
  }
  afterUpdate(event: UpdateEvent<unknown>) {
    log.push(`afterUpdate ${keyed(event.entity)}`);
  }
}

/** Batch events (cohort only: save() has none), per class. */
const batches: string[] = [];
@EventSubscriber()
class CuBatches {
  beforeBulkUpdate(event: { metadata: { name: string }; entities: readonly unknown[] }) {
    batches.push(`beforeBulkUpdate ${event.metadata.name} ${event.entities.length}`);
  }
  afterBulkUpdate(event: { metadata: { name: string }; entities: readonly unknown[] }) {
    batches.push(`afterBulkUpdate ${event.metadata.name} ${event.entities.length}`);
  }
}

const statements: Logger = {
  logQuery(query: string) {
    // save()'s `UPDATE "schema"."table"`, cohort's `WITH … UPDATE "schema"."table" AS t`.
    const write = /\bupdate\s+"[^"]+"\."(\w+)"/i.exec(query);
    if (write) log.push(`UPDATE ${write[1]}`);
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
};

const pair = typeormPair('cascade_update_order', {
  entities: [CuPublisher, CuAuthor, CuPost],
  subscribers: [CuLog, CuBatches],
  logger: statements,
  logging: ['query'],
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const TABLES = ['cu_post', 'cu_author', 'cu_publisher'] as const;

/**
 * Three posts: p0 and p2 by ann (with publisher pub), p1 by bob (none), and a second publisher
 * `taken`; loaded back with their relations, then changed by `change`.
 */
async function loaded(side: TypeormSide, change: (posts: CuPost[]) => void): Promise<CuPost[]> {
  const pub = make(CuPublisher, { name: 'pub' });
  const ann = make(CuAuthor, { name: 'ann', publisher: pub });
  const bob = make(CuAuthor, { name: 'bob', publisher: null });
  await side.dataSource.manager.save([pub, make(CuPublisher, { name: 'taken' }), ann, bob]);
  await side.dataSource.manager.save([
    make(CuPost, { title: 'p0', author: ann }),
    make(CuPost, { title: 'p1', author: bob }),
    make(CuPost, { title: 'p2', author: ann }),
  ]);
  const found = await side.dataSource
    .getRepository(CuPost)
    .find({ relations: { author: { publisher: true } }, order: { id: 'ASC' } });
  // One object per stored entity, as one unit of work holds them: p2's author is p0's.
  const [p0, , p2] = found as [CuPost, CuPost, CuPost];
  p2.author = p0.author;
  change(found);
  log.length = 0;
  batches.length = 0;
  return found;
}

/** The usual change: every post's title, both authors' names and ann's publisher's name. */
function changeAll(posts: CuPost[]): void {
  const [p0, p1, p2] = posts as [CuPost, CuPost, CuPost];
  p0.title = 'p0!';
  p1.title = 'p1!';
  p2.title = 'p2!';
  (p0.author as CuAuthor).name = 'ann!';
  ((p0.author as CuAuthor).publisher as CuPublisher).name = 'pub!';
  (p1.author as CuAuthor).name = 'bob!';
}

/** Rows of every table, the update date left out (checked on its own). */
async function tables(side: TypeormSide) {
  return Promise.all(
    TABLES.map(async (t) =>
      (await rowsOf(side, t)).map(({ updatedAt, ...rest }) => ({ ...rest, dated: updatedAt !== undefined })),
    ),
  );
}

/** The posts' graph as objects, update dates left out. */
function state(posts: CuPost[]) {
  return posts.map((p) => {
    const author = p.author
      ? { ...p.author, publisher: p.author.publisher ? { ...p.author.publisher } : p.author.publisher }
      : p.author;
    if (author?.publisher) delete (author.publisher as Partial<CuPublisher>).updatedAt;
    return normalizeState({ ...p, author });
  });
}

const countOf = (entries: string[], prefix: string) => entries.filter((e) => e.startsWith(prefix)).length;

/** Runs save() on the reference side and bulkUpdate on the subject side with equal inputs. */
async function both(change: (posts: CuPost[]) => void, options: { batchSize?: number } = {}, call = bulkUpdate) {
  const orm = pair.reference();
  const ormPosts = await loaded(orm, change);
  const pubBefore = ormPosts[0]?.author?.publisher?.updatedAt;
  const ormError = await orm.dataSource.manager.save(ormPosts).then(
    () => undefined,
    (e: unknown) => e,
  );
  const ormLog = [...log];
  const side = pair.subject();
  const posts = await loaded(side, change);
  const before = await tables(side);
  const mineBefore = posts[0]?.author?.publisher?.updatedAt;
  const outcome = await call(side.dataSource, CuPost, posts, options).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return {
    orm,
    side,
    ormPosts,
    posts,
    ormError,
    ormLog,
    mine: [...log],
    before,
    dates: {
      orm: [pubBefore, ormPosts[0]?.author?.publisher?.updatedAt],
      mine: [mineBefore, posts[0]?.author?.publisher?.updatedAt],
    },
    ...outcome,
  };
}

describe('changed related entities are updated with the rows, as save() updates them', () => {
  // bob's loaded `publisher: null` reads as a changed relation to save()'s computer (its loaded row
  // holds the relation id, not null): save() updates bob for it, and so does cohort (the same computer).
  it('save(): before-updates in subject order, one UPDATE per entity, then after-updates — pinned', async () => {
    const { ormLog, ormError } = await both(changeAll);
    expect(ormError).toBeUndefined();
    expect(ormLog).toEqual([
      'beforeUpdate CuPost p0! [title] [] was p0',
      'beforeUpdate CuPost p1! [title] [] was p1',
      'beforeUpdate CuPost p2! [title] [] was p2',
      'listener beforeUpdate CuAuthor ann!',
      'beforeUpdate CuAuthor ann! [name] [] was ann',
      'beforeUpdate CuPublisher pub! [name] [] was pub',
      'listener beforeUpdate CuAuthor bob!',
      'beforeUpdate CuAuthor bob! [name] [publisher] was bob',
      'UPDATE cu_post',
      'UPDATE cu_post',
      'UPDATE cu_post',
      'UPDATE cu_author',
      'UPDATE cu_publisher',
      'UPDATE cu_author',
      'afterUpdate CuPost p0!',
      'afterUpdate CuPost p1!',
      'afterUpdate CuPost p2!',
      'afterUpdate CuAuthor ann!',
      'afterUpdate CuPublisher pub!',
      'afterUpdate CuAuthor bob!',
    ]);
  });

  for (const [batchSize, call] of [
    [undefined, bulkUpdate],
    [1, bulkUpdate],
    [undefined, bulkSave],
    [1, bulkSave],
  ] as const) {
    it(`${call.name}: multi-level path (author.publisher), two rows sharing one author, a publisher with version and update date (batchSize ${batchSize ?? 'default'}): same rows, objects, events; one UPDATE per class and batch`, async () => {
      const run = await both(changeAll, batchSize ? { batchSize } : {}, call);
      expect(run.error).toBeUndefined();
      expect(run.ormError).toBeUndefined();
      expect(await tables(run.side)).toEqual(await tables(run.orm));
      expect(state(run.posts)).toEqual(state(run.ormPosts));
      // The update date moved on both sides, and is on the object as in its row.
      for (const [from, to] of [run.dates.orm, run.dates.mine])
        expect((to as Date).getTime()).toBeGreaterThan((from as Date).getTime());
      const stored = await run.side.query<{ updatedAt: Date }>(
        `SELECT "updatedAt" FROM "${run.side.schema}"."cu_publisher" WHERE name = 'pub!'`,
      );
      expect(run.posts[0]?.author?.publisher?.updatedAt).toEqual(stored[0]?.updatedAt);
      // The same events, each once, with the same columns, relations and database entity.
      const events = (entries: string[]) => entries.filter((e) => !e.startsWith('UPDATE')).sort();
      expect(events(run.mine)).toEqual(events(run.ormLog));
      if (batchSize === undefined) {
        // cohort's order: the rows' before-updates, then each related class's (in the order first
        // reached: authors, then publishers); one UPDATE per class; the after-updates likewise.
        expect(run.mine).toEqual([
          'beforeUpdate CuPost p0! [title] [] was p0',
          'beforeUpdate CuPost p1! [title] [] was p1',
          'beforeUpdate CuPost p2! [title] [] was p2',
          'listener beforeUpdate CuAuthor ann!',
          'beforeUpdate CuAuthor ann! [name] [] was ann',
          'listener beforeUpdate CuAuthor bob!',
          'beforeUpdate CuAuthor bob! [name] [publisher] was bob',
          'beforeUpdate CuPublisher pub! [name] [] was pub',
          'UPDATE cu_post',
          'UPDATE cu_author',
          'UPDATE cu_publisher',
          'afterUpdate CuPost p0!',
          'afterUpdate CuPost p1!',
          'afterUpdate CuPost p2!',
          'afterUpdate CuAuthor ann!',
          'afterUpdate CuAuthor bob!',
          'afterUpdate CuPublisher pub!',
        ]);
        expect(batches).toEqual([
          'beforeBulkUpdate CuPost 3',
          'beforeBulkUpdate CuAuthor 2',
          'beforeBulkUpdate CuPublisher 1',
          'afterBulkUpdate CuPost 3',
          'afterBulkUpdate CuAuthor 2',
          'afterBulkUpdate CuPublisher 1',
        ]);
        expect(run.result?.byEntity).toEqual({
          CuPost: { inserted: 0, updated: 3 },
          CuAuthor: { inserted: 0, updated: 2 },
          CuPublisher: { inserted: 0, updated: 1 },
        });
      } else {
        // One batch per row: each batch updates what its row reaches and is still changed (ann and
        // pub with p0, bob with p1, nothing more with p2).
        expect(['cu_post', 'cu_author', 'cu_publisher'].map((t) => countOf(run.mine, `UPDATE ${t}`))).toEqual([3, 2, 1]);
        expect(run.result?.byEntity).toEqual({
          CuPost: { inserted: 0, updated: 3 },
          CuAuthor: { inserted: 0, updated: 2 },
          CuPublisher: { inserted: 0, updated: 1 },
        });
      }
    });
  }

  it("bulkInsert: new posts by changed stored authors update them with the rows, as save(); the insert events first, then the related classes' update events", async () => {
    const fresh = (posts: CuPost[]) => {
      changeAll(posts);
      return [make(CuPost, { title: 'n0', author: posts[0]?.author }), make(CuPost, { title: 'n1', author: posts[1]?.author })];
    };
    const orm = pair.reference();
    const ormNew = fresh(await loaded(orm, () => {}));
    await orm.dataSource.manager.save(ormNew);
    const ormLog = [...log];
    const side = pair.subject();
    const mineNew = fresh(await loaded(side, () => {}));
    const result = await bulkInsert(side.dataSource, CuPost, mineNew);
    expect(await tables(side)).toEqual(await tables(orm));
    expect(state(mineNew)).toEqual(state(ormNew));
    const events = (entries: string[]) => entries.filter((e) => !e.startsWith('UPDATE')).sort();
    expect(events(log)).toEqual(events(ormLog));
    expect(log).toEqual([
      'listener beforeUpdate CuAuthor ann!',
      'beforeUpdate CuAuthor ann! [name] [] was ann',
      'listener beforeUpdate CuAuthor bob!',
      'beforeUpdate CuAuthor bob! [name] [publisher] was bob',
      'beforeUpdate CuPublisher pub! [name] [] was pub',
      'UPDATE cu_author',
      'UPDATE cu_publisher',
      'afterUpdate CuAuthor ann!',
      'afterUpdate CuAuthor bob!',
      'afterUpdate CuPublisher pub!',
    ]);
    expect(result.byEntity).toEqual({
      CuPost: { inserted: 2, updated: 0 },
      CuAuthor: { inserted: 0, updated: 2 },
      CuPublisher: { inserted: 0, updated: 1 },
    });
  });

  it('nothing changed on the related entities: no related UPDATE, no related events, as save()', async () => {
    const run = await both((posts) => {
      for (const p of posts) p.title = `${p.title}!`;
      // A loaded null reference reads as changed to save() (bob's [publisher] above): leave it out.
      delete ((posts[1] as CuPost).author as CuAuthor).publisher;
    });
    expect(run.error).toBeUndefined();
    expect(await tables(run.side)).toEqual(await tables(run.orm));
    expect(state(run.posts)).toEqual(state(run.ormPosts));
    expect(run.ormLog.filter((e) => !e.includes('CuPost') && !e.includes('cu_post'))).toEqual([]);
    expect(run.mine.filter((e) => !e.includes('CuPost') && !e.includes('cu_post'))).toEqual([]);
    expect(run.result?.byEntity).toBeUndefined();
  });

  it('a related entity changed, the rows not: the related entity alone is updated, as save()', async () => {
    const run = await both((posts) => {
      (((posts[0] as CuPost).author as CuAuthor).publisher as CuPublisher).name = 'pub!';
    });
    expect(run.error).toBeUndefined();
    expect(await tables(run.side)).toEqual(await tables(run.orm));
    expect(state(run.posts)).toEqual(state(run.ormPosts));
    expect(run.mine).toEqual(run.ormLog);
    expect(run.result).toMatchObject({ updated: 0, unchanged: 3, byEntity: { CuPublisher: { inserted: 0, updated: 1 } } });
  });

  it('a related hook throws at row 1: nothing written on either side; the typed error names the relation and the row', async () => {
    const run = await both((posts) => {
      changeAll(posts);
      ((posts[1] as CuPost).author as CuAuthor).name = 'boom!';
    });
    expect(run.ormError).toBeInstanceOf(Error);
    expect(run.error).toBeInstanceOf(BulkHookError);
    expect(run.error).toMatchObject({ index: 1, relation: { entityName: 'CuPost', property: 'author', target: 'CuAuthor' } });
    expect(await tables(run.side)).toEqual(run.before);
    expect(await tables(run.orm)).toEqual(run.before);
    expect(countOf(run.mine, 'UPDATE')).toBe(0);
  });

  it('a unique violation in the related UPDATE (row 0, author.publisher): nothing written on either side; the typed error names it; the objects keep their versions', async () => {
    const run = await both((posts) => {
      changeAll(posts);
      (((posts[0] as CuPost).author as CuAuthor).publisher as CuPublisher).name = 'taken';
    });
    expect(run.ormError).toBeInstanceOf(Error);
    expect(run.error).toBeInstanceOf(UniqueViolationError);
    expect(run.error).toMatchObject({
      index: 0,
      relation: { entityName: 'CuPost', property: 'author.publisher', target: 'CuPublisher' },
    });
    expect(await tables(run.side)).toEqual(run.before);
    expect(await tables(run.orm)).toEqual(run.before);
    expect(run.posts[0]?.author?.publisher?.version).toBe(run.ormPosts[0]?.author?.publisher?.version);
    expect(run.posts[0]?.author?.publisher?.updatedAt).toEqual(run.dates.mine[0]);
  });

  it('a stale related version: save() writes over it, cohort fails the call naming the relation (OptimisticLockError), nothing written', async () => {
    const stale = (posts: CuPost[]) => {
      changeAll(posts);
      (((posts[0] as CuPost).author as CuAuthor).publisher as CuPublisher).version = 7;
    };
    const run = await both(stale);
    expect(run.ormError).toBeUndefined();
    expect(run.error).toBeInstanceOf(OptimisticLockError);
    expect(run.error).toMatchObject({ relation: { property: 'author.publisher', target: 'CuPublisher' } });
    expect(await tables(run.side)).toEqual(run.before);
  });

  it("the rows' expressions apply to the rows only: the related entities are written with their values, as save() writes them", async () => {
    const side = pair.subject();
    const posts = await loaded(side, changeAll);
    await bulkUpdate(side.dataSource, CuPost, posts, { expressions: { title: "{current} || '+'" } });
    const [postRows, authorRows, publisherRows] = await tables(side);
    expect(postRows?.map((r) => (r as { title?: unknown }).title)).toEqual(['p0+', 'p1+', 'p2+']);
    expect(authorRows?.map((r) => (r as { name?: unknown }).name)).toEqual(['ann!', 'bob!']);
    expect(publisherRows?.map((r) => (r as { name?: unknown }).name)).toEqual(['pub!', 'taken']);
  });

  it("onInvalid: 'skip' with a changed related entity is refused by name (a skipped row's related entity would be updated), nothing written", async () => {
    const side = pair.subject();
    const posts = await loaded(side, changeAll);
    const before = await tables(side);
    const error = await bulkUpdate(side.dataSource, CuPost, posts, { onInvalid: 'skip' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'cascade update', option: "onInvalid: 'skip'", entityName: 'CuPost', index: 0 });
    expect(await tables(side)).toEqual(before);
  });

  // save() takes another object with a row's key for that row (CascadesSubjectBuilder finds its
  // subject by key): p1's copy is neither updated nor walked; cohort does the same.
  it('a changed copy of a row reached through a relation of the rows own table is not written, as save()', async () => {
    const previous = (posts: CuPost[]) => {
      const [p0, p1] = posts as [CuPost, CuPost];
      p0.previous = make(CuPost, { id: p1.id, title: 'p1 elsewhere', author: p1.author });
      p0.title = 'p0!';
    };
    const run = await both(previous, {}, bulkUpdate);
    expect(run.error).toBeUndefined();
    expect(run.ormError).toBeUndefined();
    expect(await tables(run.side)).toEqual(await tables(run.orm));
    expect(state(run.posts)).toEqual(state(run.ormPosts));
    expect(await tables(run.side)).not.toEqual(run.before);
    expect(run.mine.filter((e) => e === 'UPDATE cu_post')).toHaveLength(1);
    expect(run.ormLog.filter((e) => e === 'UPDATE cu_post')).toHaveLength(1);
  });
});
