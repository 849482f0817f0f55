// What TypeORM's save() does for stored rows that reach CHANGED stored related entities through
// relations that cascade updates (`cascade: true` / `['update']`): the events it fires and the
// statements it sends, in order — pinned here as the reference cohort would have to match before it
// writes them instead of refusing the row (`cascade update`, docs/guide.md "Changed related
// entities"). cohort's refusal is checked on the same input.
import { bulkUpdate, UnsupportedFeatureError } from '@cohort/typeorm';
import {
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type Logger,
  ManyToOne,
  PrimaryGeneratedColumn,
  type UpdateEvent,
} from 'typeorm';
import { expect, it } from 'vitest';
import { rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

@Entity('cu_publisher')
class CuPublisher {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
}

@Entity('cu_author')
class CuAuthor {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => CuPublisher, { nullable: true, cascade: ['update'] }) publisher?: CuPublisher | null;
}

@Entity('cu_post')
class CuPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => CuAuthor, { nullable: true, cascade: true }) author?: CuAuthor | null;
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
    log.push(`beforeUpdate ${keyed(event.entity)} [${event.updatedColumns.map((c) => c.propertyName).join(',')}]`);
  }
  afterUpdate(event: UpdateEvent<unknown>) {
    log.push(`afterUpdate ${keyed(event.entity)}`);
  }
}

const statements: Logger = {
  logQuery(query: string) {
    const write = /^\s*update\s+"[^"]+"\."(\w+)"/i.exec(query);
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
  subscribers: [CuLog],
  logger: statements,
  logging: ['query'],
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);

/** Two posts by two authors, the first author with a publisher; loaded back with their relations, then changed. */
async function changedPosts(side: TypeormSide): Promise<CuPost[]> {
  const pub = make(CuPublisher, { name: 'pub' });
  const ann = make(CuAuthor, { name: 'ann', publisher: pub });
  const bob = make(CuAuthor, { name: 'bob', publisher: null });
  await side.dataSource.manager.save([pub, ann, bob]);
  await side.dataSource.manager.save([make(CuPost, { title: 'p0', author: ann }), make(CuPost, { title: 'p1', author: bob })]);
  const posts = await side.dataSource
    .getRepository(CuPost)
    .find({ relations: { author: { publisher: true } }, order: { id: 'ASC' } });
  const [p0, p1] = posts as [CuPost, CuPost];
  p0.title = 'p0!';
  p1.title = 'p1!';
  (p0.author as CuAuthor).name = 'ann!';
  ((p0.author as CuAuthor).publisher as CuPublisher).name = 'pub!';
  (p1.author as CuAuthor).name = 'bob!';
  log.length = 0;
  return posts;
}

it('save(): every before-update in subject order (the rows, then what each reached, depth first), one UPDATE per entity in that order, then every after-update; cohort refuses the row', async () => {
  const orm = pair.reference();
  const posts = await changedPosts(orm);
  await orm.dataSource.manager.save(posts);
  expect(log).toEqual([
    'beforeUpdate CuPost p0! [title]',
    'beforeUpdate CuPost p1! [title]',
    'beforeUpdate CuAuthor ann! [name]',
    'beforeUpdate CuPublisher pub! [name]',
    'beforeUpdate CuAuthor bob! [name]',
    'UPDATE cu_post',
    'UPDATE cu_post',
    'UPDATE cu_author',
    'UPDATE cu_publisher',
    'UPDATE cu_author',
    'afterUpdate CuPost p0!',
    'afterUpdate CuPost p1!',
    'afterUpdate CuAuthor ann!',
    'afterUpdate CuPublisher pub!',
    'afterUpdate CuAuthor bob!',
  ]);
  expect((await rowsOf(orm, 'cu_author')).map((r) => r.name)).toEqual(['ann!', 'bob!']);
  expect((await rowsOf(orm, 'cu_publisher')).map((r) => r.name)).toEqual(['pub!']);

  // cohort refuses the first row, naming the relation, and writes nothing.
  const side = pair.subject();
  const mine = await changedPosts(side);
  const before = await Promise.all(['cu_post', 'cu_author', 'cu_publisher'].map((t) => rowsOf(side, t)));
  const error = await bulkUpdate(side.dataSource, CuPost, mine).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject({ feature: 'cascade update', entityName: 'CuPost', index: 0 });
  expect(await Promise.all(['cu_post', 'cu_author', 'cu_publisher'].map((t) => rowsOf(side, t)))).toEqual(before);
  expect(log.filter((entry) => entry.startsWith('UPDATE'))).toEqual([]);
});
