// Scenarios from TypeORM's own repository tests (test/functional/repository/basic-methods), their
// save and insert paths: which entities count as having an id (hasId), save() of a loaded entity
// with a transformed column, a column with `update: false`, columns named differently from their
// properties, create()/preload()/merge() then save, and insert(). The repository's save()/insert()
// is the reference, cohort's bulkSave / bulkInsert the subject.
import { bulkInsert, bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  AfterInsert,
  BeforeInsert,
  Column,
  CreateDateColumn,
  Entity,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { expect, it } from 'vitest';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

/** As upstream's Post: differing column names, a read-only column, a transformed date, dates. */
@Entity('uta_rb_post')
class RbPost {
  @PrimaryGeneratedColumn() id!: number | undefined | null;
  @Column({ type: 'varchar', nullable: true, unique: true, name: 'eXtErNal___id' }) externalId?: string;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar', nullable: true }) subTitle!: string;
  @Column({ type: 'varchar', nullable: true, update: false }) readonlyField!: string | null;
  @Column({
    nullable: true,
    type: 'date',
    transformer: {
      from: (value: string | null) => (value == null ? value : new Date(value)),
      to: (value?: Date | null) => (value == null ? value : value.toISOString()),
    },
  })
  dateAdded?: Date;
  @CreateDateColumn() createdAt!: Date;
  @UpdateDateColumn({ name: 'uPdAtEd___At' }) updatedAt!: Date;

  @BeforeInsert() beforeInsert() {
    journal.record('beforeInsert', { title: this.title });
  }
  @AfterInsert() afterInsert() {
    journal.record('afterInsert', { id: this.id, title: this.title });
  }
}

/** A key the caller gives: hasId() counts 0 as an id. */
@Entity('uta_rb_keyed')
class Keyed {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar' }) title!: string;
}

/** As upstream's Blog, without its many-to-many: a class-field default. */
@Entity('uta_rb_blog')
class Blog {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar' }) text!: string;
  @Column({ type: 'integer' }) counter: number = 0;
}

const pair = typeormPair('uta_rb', { entities: [RbPost, Keyed, Blog] });

const dates = ['createdAt', 'updatedAt', 'uPdAtEd___At'];

const save = <E extends object>(side: TypeormSide, cls: new (...args: any[]) => E, entities: E[]) =>
  side.mode === 'orm' ? side.dataSource.getRepository(cls).save(entities) : bulkSave(side.dataSource, cls, entities);

it('typeorm repository basic-methods: hasId — a key of 0 is an id: the second save updates the row', async () => {
  await pair.compare(
    async (side) => {
      const items = [Object.assign(new Keyed(), { id: 0, title: 'zero' }), Object.assign(new Keyed(), { id: 1, title: 'one' })];
      await save(side, Keyed, items);
      items[0]!.title = 'zero again';
      const again = [items[0]!, Object.assign(new Keyed(), { id: 2, title: 'two' })];
      await save(side, Keyed, again);
      return { objects: [...items, ...again] };
    },
    { tables: ['uta_rb_keyed'] },
  );
});

it('typeorm repository basic-methods: hasId — a generated key that is undefined or null is a new entity', async () => {
  await pair.compare(
    async (side) => {
      const items = [
        Object.assign(new RbPost(), { title: 'no id' }),
        Object.assign(new RbPost(), { id: undefined, title: 'undefined id' }),
        Object.assign(new RbPost(), { id: null, title: 'null id' }),
      ];
      await save(side, RbPost, items);
      return { objects: items };
    },
    { tables: ['uta_rb_post'], mask: dates },
  );
});

it('typeorm repository basic-methods: save should update an existing entity using transformers', async () => {
  await pair.compare(
    async (side) => {
      const date = new Date('2018-01-01T00:00:00.000Z');
      const post = Object.assign(new RbPost(), { id: 1, title: 'Post title', dateAdded: date });
      await save(side, RbPost, [post]);
      const dbPost = await side.dataSource.getRepository(RbPost).findOneByOrFail({ id: post.id! });
      dbPost.title = 'New title';
      await save(side, RbPost, [dbPost]);
      const reloaded = await side.dataSource.getRepository(RbPost).findOneByOrFail({ id: post.id! });
      return { objects: [post, dbPost, reloaded], value: dbPost.dateAdded?.getTime() === date.getTime() };
    },
    { tables: ['uta_rb_post'], mask: dates },
  );
});

it('typeorm repository basic-methods: a column with update: false keeps its stored value on save', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new RbPost(), { title: 'Post', readonlyField: 'first', externalId: 'ext-1' });
      await side.dataSource.manager.save(post);
      const loaded = await side.dataSource.getRepository(RbPost).findOneByOrFail({ id: post.id! });
      loaded.readonlyField = 'second';
      loaded.subTitle = 'sub';
      if (side.mode === 'orm') await side.dataSource.manager.save(loaded);
      else await bulkUpdate(side.dataSource, RbPost, [loaded]);
      return { objects: [loaded] };
    },
    { tables: ['uta_rb_post'], mask: dates },
  );
});

it('typeorm repository basic-methods: columns named differently from their properties are written and read back', async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        Object.assign(new RbPost(), { title: 'a', externalId: 'ext-a' }),
        Object.assign(new RbPost(), { title: 'b', externalId: 'ext-b' }),
      ];
      await save(side, RbPost, posts);
      posts[1]!.externalId = 'ext-b2';
      await save(side, RbPost, posts);
      return { objects: posts, value: posts[1]!.updatedAt >= posts[1]!.createdAt };
    },
    { tables: ['uta_rb_post'], mask: dates },
  );
});

it('typeorm repository basic-methods: create — an entity created from a plain object, then saved', async () => {
  await pair.compare(
    async (side) => {
      const repository = side.dataSource.getRepository(Blog);
      const blogs = repository.create([
        { title: 'About people', text: 'Blog about good people' },
        { title: 'About animals', text: 'Blog about animals', counter: 3 },
      ]);
      await save(side, Blog, blogs);
      return { objects: blogs };
    },
    { tables: ['uta_rb_blog'] },
  );
});

it('typeorm repository basic-methods: preload merges a plain object into the stored entity, then saved', async () => {
  await pair.compare(
    async (side) => {
      const repository = side.dataSource.getRepository(Blog);
      await repository.save(Object.assign(new Blog(), { title: 'About people', text: 'Blog about good people' }));
      const preloaded = await repository.preload({ id: 1, title: 'changed title about people' });
      if (!preloaded) throw new Error('preload found nothing');
      await save(side, Blog, [preloaded]);
      return { objects: [preloaded] };
    },
    { tables: ['uta_rb_blog'] },
  );
});

it('typeorm repository basic-methods: merge of several entities, then saved', async () => {
  await pair.compare(
    async (side) => {
      const repository = side.dataSource.getRepository(Blog);
      const stored = Object.assign(new Blog(), { title: 'stored', text: 'text' });
      await repository.save(stored);
      const merged = repository.merge(stored, { title: 'merged' }, { text: 'merged text', counter: 7 });
      await save(side, Blog, [merged]);
      return { objects: [merged, stored] };
    },
    { tables: ['uta_rb_blog'] },
  );
});

it('typeorm repository basic-methods: insert — generated key and dates back on the objects, listeners called', async () => {
  // repository.insert() runs the insert listeners and puts the generated values back, as bulkInsert;
  // save() (which bulkInsert follows) also sets nullable columns left undefined to null, insert()
  // does not: such columns are given here, so both paths leave the same objects.
  await pair.compare(
    async (side) => {
      const posts = [
        Object.assign(new RbPost(), { title: 'a', subTitle: null, readonlyField: 'r', externalId: null, dateAdded: null }),
        Object.assign(new RbPost(), { title: 'b', subTitle: 's', readonlyField: null, externalId: 'x', dateAdded: null }),
      ];
      if (side.mode === 'orm') await side.dataSource.getRepository(RbPost).insert(posts);
      else await bulkInsert(side.dataSource, RbPost, posts);
      return { objects: posts };
    },
    { tables: ['uta_rb_post'], mask: dates },
  );
});

it('typeorm repository basic-methods: insert — bulkInsert leaves nullable columns it did not get null, as save()', async () => {
  // insert() leaves them undefined on the object; bulkInsert is save()'s insert of new entities and
  // sets them to null (the row is the same either way) — docs/differences.md, "insert()".
  await pair.compare(
    async (side) => {
      const posts = [Object.assign(new RbPost(), { title: 'a' }), Object.assign(new RbPost(), { title: 'b', subTitle: 's' })];
      if (side.mode === 'orm') {
        const viaInsert = Object.assign(new RbPost(), { title: 'via insert()' });
        await side.dataSource.getRepository(RbPost).insert(viaInsert);
        expect(viaInsert.subTitle).toBeUndefined();
        await side.dataSource.getRepository(RbPost).delete({ id: viaInsert.id! });
        await side.query(`ALTER SEQUENCE "${side.schema}"."uta_rb_post_id_seq" RESTART`);
        journal.take();
        await side.dataSource.getRepository(RbPost).save(posts);
      } else {
        await bulkInsert(side.dataSource, RbPost, posts);
      }
      expect(posts[0]!.subTitle).toBeNull();
      return { objects: posts };
    },
    { tables: ['uta_rb_post'], mask: dates },
  );
});

@Entity('uta_rb_coded')
class Coded {
  @PrimaryColumn({ type: 'varchar' }) code!: string;
  @Column({ type: 'varchar' }) title!: string;
}
const coded = typeormPair('uta_rb2', { entities: [Coded] });

it('typeorm repository basic-methods: hasId — an empty-string key of a varchar primary column, saved twice', async () => {
  // hasId() says "" is no id; save() still finds the row by it and updates it, and so does bulkSave.
  await coded.compare(
    async (side) => {
      const items = [Object.assign(new Coded(), { code: '', title: 'empty' })];
      await save(side, Coded, items);
      items[0]!.title = 'again';
      const second = await save(side, Coded, items).then(
        () => 'saved',
        (e: Error) => `${e.name}: ${e.message}`,
      );
      return { objects: items, value: second };
    },
    { tables: ['uta_rb_coded'] },
  );
});
