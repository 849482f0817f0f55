// A stored row that changed, whose changed author (a relation that cascades updates) is updated with
// it, and whose one-to-many took a stored item and dropped one: save() fires every afterUpdate in
// subject order — the row's, the author's, the items' foreign-key updates — before any afterRemove.
// bulkUpdate and bulkSave fire the same events in the same order (listeners and subscribers).
import { bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  AfterRemove,
  AfterUpdate,
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type RemoveEvent,
  type UpdateEvent,
} from 'typeorm';
import { expect, it } from 'vitest';
import { rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

const log: string[] = [];

@Entity('cuio_author')
class CuioAuthor {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @AfterUpdate() updated() {
    log.push(`afterUpdate author ${this.name}`);
  }
}

@Entity('cuio_post')
class CuioPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => CuioAuthor, { nullable: true, cascade: true }) author?: CuioAuthor | null;
  @OneToMany(
    () => CuioComment,
    (c) => c.post,
  )
  comments?: CuioComment[];
  @AfterUpdate() updated() {
    log.push(`afterUpdate post ${this.title}`);
  }
}

@Entity('cuio_comment')
class CuioComment {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) body!: string;
  @ManyToOne(
    () => CuioPost,
    (p) => p.comments,
    { nullable: true, orphanedRowAction: 'delete' },
  )
  post?: CuioPost | null;
  @AfterUpdate() updated() {
    log.push(`afterUpdate comment ${this.body}`);
  }
  @AfterRemove() removed() {
    log.push(`afterRemove comment ${this.body}`);
  }
}

@EventSubscriber()
class CuioLog implements EntitySubscriberInterface {
  afterUpdate(event: UpdateEvent<Record<string, unknown>>) {
    log.push(
      `subscriber afterUpdate ${event.metadata.name} ${String(event.entity?.name ?? event.entity?.title ?? event.entity?.body ?? '(no entity)')}`,
    );
  }
  afterRemove(event: RemoveEvent<Record<string, unknown>>) {
    log.push(`subscriber afterRemove ${event.metadata.name} ${JSON.stringify(event.entityId)}`);
  }
}

const pair = typeormPair('cascade_update_item_order', {
  entities: [CuioAuthor, CuioPost, CuioComment],
  subscribers: [CuioLog],
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);

/** A post by ann with comments c0, c1; a free comment; loaded, then: title and author changed, c1 dropped, the free one taken. */
async function changedPost(side: TypeormSide): Promise<CuioPost> {
  const manager = side.dataSource.manager;
  const ann = await manager.save(make(CuioAuthor, { name: 'ann' }));
  await manager.save(
    make(CuioPost, { title: 'p', author: ann, comments: [make(CuioComment, { body: 'c0' }), make(CuioComment, { body: 'c1' })] }),
  );
  await manager.save(make(CuioComment, { body: 'free' }));
  const [post] = await manager.find(CuioPost, { relations: { author: true, comments: true } });
  const free = await manager.findOneByOrFail(CuioComment, { body: 'free' });
  const p = post as CuioPost;
  (p.author as CuioAuthor).name = 'ann!';
  p.title = 'p!';
  p.comments = [...(p.comments ?? []).filter((c) => c.body === 'c0'), free];
  log.length = 0;
  return p;
}

const tables = (side: TypeormSide) => Promise.all(['cuio_author', 'cuio_post', 'cuio_comment'].map((t) => rowsOf(side, t)));

for (const [name, write] of [
  ['bulkUpdate', bulkUpdate],
  ['bulkSave', bulkSave],
] as const) {
  it(`${name}: the row's, the changed author's and the items' afterUpdate events before the orphan's afterRemove, as save()`, async () => {
    const reference = pair.reference();
    await reference.dataSource.manager.save(await changedPost(reference));
    const saved = [...log];
    const subject = pair.subject();
    await write(subject.dataSource, CuioPost, [await changedPost(subject)]);
    expect(saved.some((e) => e.startsWith('afterUpdate author'))).toBe(true);
    expect(log).toEqual(saved);
    expect(await tables(subject)).toEqual(await tables(reference));
  });
}
