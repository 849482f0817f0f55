// A cascade update (changed stored related entities updated with the rows) that fails in a later
// related class — after an earlier class was prepared (looked up, diffed, its before-update hooks
// run) — and is then retried with the same objects once the fault is gone. Differential: save() and
// bulkUpdate on equal inputs, both times; with trackEntityChanges on cohort's side (the snapshots an
// earlier class's write marks, which the failed call must leave as they were), with and without
// `reload`. The retry writes every change, with the same rows, objects and events as save()'s retry.
import { BulkHookError, bulkUpdate, trackEntityChanges } from '@cohort/typeorm';
import {
  BeforeUpdate,
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  ManyToOne,
  PrimaryGeneratedColumn,
  type UpdateEvent,
  VersionColumn,
} from 'typeorm';
import { describe, expect, it } from 'vitest';
import { normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

const log: string[] = [];
const nameOf = (entity: unknown) => {
  const e = entity as { constructor: { name: string }; title?: string; name?: string } | undefined;
  return e ? `${e.constructor.name} ${e.title ?? e.name}` : 'none';
};

@Entity('cr_publisher')
class CrPublisher {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @VersionColumn() version!: number;
  @BeforeUpdate() check() {
    if (this.name === 'boom!') throw new Error('no boom');
  }
}

@Entity('cr_author')
class CrAuthor {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @VersionColumn() version!: number;
  @ManyToOne(() => CrPublisher, { nullable: true, cascade: ['update'] }) publisher?: CrPublisher | null;
}

@Entity('cr_post')
class CrPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => CrAuthor, { nullable: true, cascade: ['update'] }) author?: CrAuthor | null;
}

@EventSubscriber()
class CrLog implements EntitySubscriberInterface {
  beforeUpdate(event: UpdateEvent<unknown>) {
    log.push(`beforeUpdate ${nameOf(event.entity)} [${event.updatedColumns.map((c) => c.propertyName).join(',')}]`);
  }
  afterUpdate(event: UpdateEvent<unknown>) {
    log.push(`afterUpdate ${nameOf(event.entity)}`);
  }
}

const pair = typeormPair('cascade_update_retry', { entities: [CrPublisher, CrAuthor, CrPost], subscribers: [CrLog] });
const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const TABLES = ['cr_post', 'cr_author', 'cr_publisher'] as const;

/** Two posts by ann (publisher pub) and bob (publisher ink), loaded back with their relations. */
async function loaded(side: TypeormSide): Promise<CrPost[]> {
  const [pub, ink] = [make(CrPublisher, { name: 'pub' }), make(CrPublisher, { name: 'ink' })];
  const ann = make(CrAuthor, { name: 'ann', publisher: pub });
  const bob = make(CrAuthor, { name: 'bob', publisher: ink });
  await side.dataSource.manager.save([pub, ink, ann, bob]);
  await side.dataSource.manager.save([make(CrPost, { title: 'p0', author: ann }), make(CrPost, { title: 'p1', author: bob })]);
  return side.dataSource.getRepository(CrPost).find({ relations: { author: { publisher: true } }, order: { id: 'ASC' } });
}

/** Every post's title and author's name changed; ann's publisher changed to the failing name. */
function changed(posts: CrPost[]): CrPost[] {
  for (const post of posts) {
    post.title = `${post.title}!`;
    (post.author as CrAuthor).name = `${(post.author as CrAuthor).name}!`;
  }
  (((posts[0] as CrPost).author as CrAuthor).publisher as CrPublisher).name = 'boom!';
  return posts;
}

const fixed = (posts: CrPost[]) => {
  (((posts[0] as CrPost).author as CrAuthor).publisher as CrPublisher).name = 'pub!';
};

const tables = (side: TypeormSide) => Promise.all(TABLES.map((t) => rowsOf(side, t)));
const graph = (posts: CrPost[]) =>
  posts.map((p) => normalizeState({ ...p, author: { ...p.author, publisher: { ...p.author?.publisher } } }));

/** save() on the reference side, bulkUpdate on the subject: the failing call, then the retry. */
async function failThenRetry(side: TypeormSide, write: (posts: CrPost[]) => Promise<unknown>) {
  const posts = changed(await loaded(side));
  const before = await tables(side);
  log.length = 0;
  const error = await write(posts).then(
    () => undefined,
    (e: unknown) => e,
  );
  const afterFailure = await tables(side);
  fixed(posts);
  log.length = 0;
  await write(posts);
  return { before, error, afterFailure, retry: [...log], rows: await tables(side), objects: graph(posts) };
}

describe('a cascade update that fails in a later related class, then is retried with the same objects', () => {
  for (const reload of [true, false]) {
    it(`trackEntityChanges reload: ${reload}: nothing written by the failure; the retry writes every change with save()'s rows, objects and events`, async () => {
      const orm = await failThenRetry(pair.reference(), (posts) => pair.reference().dataSource.manager.save(posts));
      const side = pair.subject();
      trackEntityChanges(side.dataSource, { reload });
      const mine = await failThenRetry(side, (posts) => bulkUpdate(side.dataSource, CrPost, posts));
      expect(orm.error).toBeInstanceOf(Error);
      expect(mine.error).toBeInstanceOf(BulkHookError);
      expect(mine.error).toMatchObject({ index: 0, relation: { property: 'author.publisher', target: 'CrPublisher' } });
      expect(mine.afterFailure).toEqual(mine.before);
      expect(orm.afterFailure).toEqual(orm.before);
      expect(mine.rows).toEqual(orm.rows);
      expect(mine.rows[1]?.map((r) => [r.name, r.version])).toEqual([
        ['ann!', 2],
        ['bob!', 2],
      ]);
      expect(mine.objects).toEqual(orm.objects);
      // The same events, each once (cohort's order is per class: docs/differences.md).
      expect([...mine.retry].sort()).toEqual([...orm.retry].sort());
      expect(mine.retry).toHaveLength(10);
    });
  }
});
