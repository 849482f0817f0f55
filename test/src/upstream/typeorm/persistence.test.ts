// Scenarios from TypeORM's own persistence tests (test/functional/persistence: entity-updation,
// null-and-default-behaviour, basic-functionality, save-empty-array, partial-persist,
// custom-column-names, insert/update-relation-columns-after-insertion, multi-primary-key,
// persistence-options/chunks and /transaction): the rows a save writes and the values it puts
// back on the objects, with save() as the reference and cohort's bulkSave / bulkInsert as the subject.
import { BulkUsageError, bulkInsert, bulkRemove, bulkSave, UnsupportedFeatureError } from '@cohort/typeorm';
import {
  BeforeInsert,
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { expect, it } from 'vitest';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

@Entity('uta_ps_increment')
class PostIncrement {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) text!: string;
}

@Entity('uta_ps_uuid')
class PostUuid {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar' }) text!: string;
}

@Entity('uta_ps_defaults')
class PostDefaultValues {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar', default: 'hello post' }) text!: string;
  @Column({ type: 'boolean', default: true }) isActive!: boolean;
  @Column({ type: 'timestamp', default: () => 'CURRENT_TIMESTAMP' }) addDate!: Date;
  @Column({ type: 'integer', default: 0 }) views!: number;
  @Column({ type: 'varchar', nullable: true }) description!: string;
}

@Entity('uta_ps_special')
class PostSpecialColumns {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @CreateDateColumn() createDate!: Date;
  @UpdateDateColumn() updateDate!: Date;
  @VersionColumn() version!: number;
}

@Entity('uta_ps_multi_pk')
class PostMultiplePrimaryKeys {
  @PrimaryColumn({ type: 'integer' }) firstId!: number;
  @PrimaryColumn({ type: 'integer' }) secondId!: number;
  @Column({ type: 'varchar', default: 'Hello Multi Ids' }) text!: string;
}

class PostEmbedded {
  @PrimaryColumn({ type: 'integer' }) secondId!: number;
  @CreateDateColumn() createDate!: Date;
  @UpdateDateColumn() updateDate!: Date;
  @VersionColumn() version!: number;
}

@Entity('uta_ps_complex')
class PostComplex {
  @PrimaryColumn({ type: 'integer' }) firstId!: number;
  @Column({ type: 'varchar', default: 'Hello Complexity' }) text!: string;
  @Column(() => PostEmbedded) embed!: PostEmbedded;
}

/** As null-and-default-behaviour's Post: nullable with a default. */
@Entity('uta_ps_nullable_default')
class NullableDefault {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', default: 'hello default value', nullable: true }) title?: string | null;
}

/** As basic-functionality's entities: constructed with their values. */
@Entity('uta_ps_basic_post')
class BasicPost {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar' }) title: string;
  constructor(id: number, title: string) {
    this.id = id;
    this.title = title;
  }
}

@Entity('uta_ps_basic_category')
class BasicCategory {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar' }) name: string;
  constructor(id: number, name: string) {
    this.id = id;
    this.name = name;
  }
}

/** As partial-persist's Post, without its many-to-many. */
class Counters {
  @Column({ type: 'integer' }) stars!: number;
  @Column({ type: 'integer' }) commentCount!: number;
  @Column({ type: 'varchar' }) metadata!: string;
}

@Entity('uta_ps_partial')
class PartialPost {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar' }) description!: string;
  @Column(() => Counters) counters!: Counters;
}

/** As custom-column-names' Category / Post: a many-to-one whose join column is also a property. */
@Entity('uta_ps_cc_category')
class CcCategory {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @OneToMany(
    () => CcPost,
    (post) => post.category,
  )
  posts!: CcPost[];
}

@Entity('uta_ps_cc_post')
class CcPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'int', nullable: true }) categoryId!: number | null;
  @ManyToOne(
    () => CcCategory,
    (category) => category.posts,
    { cascade: true },
  )
  @JoinColumn({ name: 'categoryId' })
  category!: CcCategory;
}

/** As update-relation-columns-after-insertion's Post: a many-to-one with a generated join column. */
@Entity('uta_ps_rel_post')
class RelPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @ManyToOne(() => CcCategory)
  category!: CcCategory;
}

/** As multi-primary-key's Post: a composite key and a many-to-one. */
@Entity('uta_ps_mpk_post')
class MpkPost {
  @PrimaryColumn({ type: 'integer' }) firstId!: number;
  @PrimaryColumn({ type: 'integer' }) secondId!: number;
  @Column({ type: 'varchar' }) title!: string;
  @ManyToOne(() => CcCategory, { nullable: true })
  category!: CcCategory | null;
}

/** As persistence-options/chunks' Post, with a listener to see the chunks' hooks. */
@Entity('uta_ps_chunked')
class Chunked {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar' }) description!: string;
  @BeforeInsert() numbered() {
    this.description = `${this.description}#`;
  }
}

const pair = typeormPair('uta_ps', {
  entities: [
    PostIncrement,
    PostUuid,
    PostDefaultValues,
    PostSpecialColumns,
    PostMultiplePrimaryKeys,
    PostComplex,
    NullableDefault,
    BasicPost,
    BasicCategory,
    PartialPost,
    CcCategory,
    CcPost,
    RelPost,
    MpkPost,
    Chunked,
  ],
});

type Cls = new (...args: any[]) => object;
const save = <E extends object>(side: TypeormSide, cls: Cls, entities: E[]) =>
  side.mode === 'orm' ? side.dataSource.getRepository(cls).save(entities) : bulkSave(side.dataSource, cls, entities);
const insert = <E extends object>(side: TypeormSide, cls: Cls, entities: E[]) =>
  side.mode === 'orm' ? side.dataSource.getRepository(cls).save(entities) : bulkInsert(side.dataSource, cls, entities);

const dates = ['addDate', 'createDate', 'updateDate'];

// ─── entity-updation ──────────────────────────────────────────────────────────────────────────

it('typeorm persistence entity-updation: should update generated auto-increment id after saving', async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        Object.assign(new PostIncrement(), { text: 'Hello Post' }),
        Object.assign(new PostIncrement(), { text: 'Two' }),
      ];
      await insert(side, PostIncrement, posts);
      expect(posts[0]!.id).toBe(1);
      return { objects: posts };
    },
    { tables: ['uta_ps_increment'] },
  );
});

it('typeorm persistence entity-updation: should update generated uuid after saving', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new PostUuid(), { text: 'Hello Post' });
      await save(side, PostUuid, [post]);
      const loaded = await side.dataSource.manager.findOneByOrFail(PostUuid, { id: post.id });
      return { objects: [post], value: loaded.id === post.id };
    },
    { tables: [{ table: 'uta_ps_uuid', orderBy: 'text' }], mask: ['id'] },
  );
});

it('typeorm persistence entity-updation: should update default values after saving', async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        Object.assign(new PostDefaultValues(), { title: 'Post #1' }),
        Object.assign(new PostDefaultValues(), { title: 'Post #2', views: 7, description: 'given' }),
      ];
      await save(side, PostDefaultValues, posts);
      expect(posts[0]!.addDate).toBeInstanceOf(Date);
      expect(posts[0]!.description).toBeNull();
      return { objects: posts };
    },
    { tables: ['uta_ps_defaults'], mask: dates },
  );
});

it('typeorm persistence entity-updation: should update special columns after saving', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new PostSpecialColumns(), { title: 'Post #1' });
      await save(side, PostSpecialColumns, [post]);
      expect(post.createDate).toBeInstanceOf(Date);
      expect(post.updateDate).toBeInstanceOf(Date);
      const inserted = { version: post.version, sameDates: post.createDate.getTime() === post.updateDate.getTime() };
      post.title = 'Post #1 changed';
      const before = post.updateDate.getTime();
      await save(side, PostSpecialColumns, [post]);
      return { objects: [post], value: { inserted, bumped: post.updateDate.getTime() >= before } };
    },
    { tables: ['uta_ps_special'], mask: dates },
  );
});

it('typeorm persistence entity-updation: should update even when multiple primary keys are used', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new PostMultiplePrimaryKeys(), { firstId: 1, secondId: 3 });
      await save(side, PostMultiplePrimaryKeys, [post]);
      post.text = 'changed';
      await save(side, PostMultiplePrimaryKeys, [post]);
      return { objects: [post] };
    },
    { tables: ['uta_ps_multi_pk'] },
  );
});

it('typeorm persistence multi-primary-key: remove() of entities with a composite key (bulkRemove): rows gone, both key properties unset', async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        [1, 3],
        [1, 4],
        [2, 3],
      ].map(([firstId, secondId]) =>
        Object.assign(new PostMultiplePrimaryKeys(), { firstId, secondId, text: `${firstId}.${secondId}` }),
      );
      await save(side, PostMultiplePrimaryKeys, posts);
      const gone = [posts[2] as PostMultiplePrimaryKeys, posts[0] as PostMultiplePrimaryKeys];
      if (side.mode === 'orm') await side.dataSource.getRepository(PostMultiplePrimaryKeys).remove(gone);
      else expect((await bulkRemove(side.dataSource, PostMultiplePrimaryKeys, gone)).removed).toBe(2);
      return { objects: posts };
    },
    { tables: [{ table: 'uta_ps_multi_pk', orderBy: '"firstId", "secondId"' }] },
  );
});

it('typeorm persistence entity-updation: should update even with embeddeds', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new PostComplex(), { firstId: 1, embed: Object.assign(new PostEmbedded(), { secondId: 3 }) });
      await save(side, PostComplex, [post]);
      expect(post.embed.createDate).toBeInstanceOf(Date);
      const loaded = await side.dataSource.manager.findOneByOrFail(PostComplex, { firstId: 1, embed: { secondId: 3 } });
      return { objects: [post, loaded] };
    },
    { tables: ['uta_ps_complex'], mask: [...dates, 'embedCreatedate', 'embedUpdatedate'] },
  );
});

// ─── null-and-default-behaviour ───────────────────────────────────────────────────────────────

const nd = (id: number, title?: string | null) => {
  const post = new NullableDefault();
  post.id = id;
  if (title !== undefined) post.title = title;
  return post;
};

it('typeorm persistence null-and-default: should insert value if it is set', async () => {
  await pair.compare(
    async (side) => {
      const posts = [nd(1, 'Category saved!')];
      await insert(side, NullableDefault, posts);
      return { objects: posts };
    },
    { tables: ['uta_ps_nullable_default'] },
  );
});

it('typeorm persistence null-and-default: should insert default when title is undefined, NULL when null', async () => {
  await pair.compare(
    async (side) => {
      const posts = [nd(1), nd(2, null), nd(3, 'set')];
      await save(side, NullableDefault, posts);
      return { objects: posts };
    },
    { tables: ['uta_ps_nullable_default'] },
  );
});

it('typeorm persistence null-and-default: should update nothing when title is undefined', async () => {
  await pair.compare(
    async (side) => {
      const posts = [nd(1, 'Category saved!'), nd(2, 'Second')];
      await save(side, NullableDefault, posts);
      posts[0]!.title = undefined;
      await save(side, NullableDefault, posts);
      const loaded = await side.dataSource.manager.findBy(NullableDefault, {});
      return { objects: [...posts, ...loaded] };
    },
    { tables: ['uta_ps_nullable_default'] },
  );
});

it('typeorm persistence null-and-default: should update to null when title is null', async () => {
  await pair.compare(
    async (side) => {
      const posts = [nd(1, 'Category saved!'), nd(2, 'Second')];
      await save(side, NullableDefault, posts);
      posts[0]!.title = null;
      await save(side, NullableDefault, posts);
      return { objects: posts };
    },
    { tables: ['uta_ps_nullable_default'] },
  );
});

// ─── basic-functionality, save-empty-array ───────────────────────────────────────────────────

it('typeorm persistence basic-functionality: should save an entity built by its constructor', async () => {
  await pair.compare(
    async (side) => {
      const posts = [new BasicPost(1, 'Hello Post'), new BasicPost(2, 'Second')];
      await save(side, BasicPost, posts);
      return { objects: posts };
    },
    { tables: ['uta_ps_basic_post'] },
  );
});

it('typeorm persistence basic-functionality: should be able to save entities of different types', async () => {
  // save() takes a mix of classes; cohort takes one class per call: the same rows, call by call.
  await pair.compare(
    async (side) => {
      const post = new BasicPost(1, 'Hello Post');
      const category = new BasicCategory(1, 'Hello Category');
      if (side.mode === 'orm') await side.dataSource.manager.save([post, category]);
      else {
        await bulkSave(side.dataSource, BasicPost, [post]);
        await bulkSave(side.dataSource, BasicCategory, [category]);
      }
      const loaded = [
        await side.dataSource.manager.findOneBy(BasicPost, { id: 1 }),
        await side.dataSource.manager.findOneBy(BasicCategory, { id: 1 }),
      ];
      return { objects: [post, category], value: loaded };
    },
    { tables: ['uta_ps_basic_post', 'uta_ps_basic_category'] },
  );
});

it('typeorm persistence basic-functionality: a value that is not an entity is refused', async () => {
  // save(undefined) / save(null) / save(123) reject ("given value must be an entity"); cohort
  // refuses every such item with a BulkUsageError, before any statement.
  const side = pair.subject();
  for (const bad of [undefined, null, 123]) {
    const error = await bulkSave(side.dataSource, BasicPost, [bad as unknown as BasicPost]).catch((e: unknown) => e);
    expect(error, String(bad)).toBeInstanceOf(BulkUsageError);
  }
  expect(await side.query(`SELECT * FROM "${side.schema}"."uta_ps_basic_post"`)).toEqual([]);
  const reference = pair.reference();
  for (const bad of [undefined, null, 123]) {
    await expect(reference.dataSource.manager.save(bad as unknown as BasicPost)).rejects.toThrow('must be an entity');
  }
});

it('typeorm persistence save-empty-array: should not fail if an empty array is given', async () => {
  await pair.compare(
    async (side) => {
      journal.take();
      const posts: BasicPost[] = [];
      if (side.mode === 'orm') {
        const returned = await side.dataSource.manager.save(posts);
        return { value: { same: returned === posts, written: 0 } };
      }
      const result = await bulkSave(side.dataSource, BasicPost, posts);
      return { value: { same: true, written: result.inserted + result.updated } };
    },
    { tables: ['uta_ps_basic_post'] },
  );
});

it('typeorm persistence save-empty-array: should persist and leave the values on the given object', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new PostIncrement(), { text: 'Hello Post #1' });
      const given = [post];
      await save(side, PostIncrement, given);
      return { objects: given, value: given[0] === post };
    },
    { tables: ['uta_ps_increment'] },
  );
});

// ─── partial-persist ─────────────────────────────────────────────────────────────────────────

it('typeorm persistence partial-persist: should persist partial entities without data loss', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new PartialPost(), {
        id: 1,
        title: 'All about animals',
        description: 'Description of the post about animals',
        counters: Object.assign(new Counters(), { stars: 5, commentCount: 2, metadata: 'Animals Metadata' }),
      });
      await save(side, PartialPost, [post]);
      // A plain partial object: only the title…
      const titleOnly = { id: 1, title: 'All about bears' } as PartialPost;
      await save(side, PartialPost, [titleOnly]);
      // …then only one column of the embedded.
      const starsOnly = { id: 1, counters: { stars: 10 } } as PartialPost;
      await save(side, PartialPost, [starsOnly]);
      const loaded = await side.dataSource.manager.findOneByOrFail(PartialPost, { id: 1 });
      return { objects: [post, titleOnly, starsOnly, loaded] };
    },
    { tables: ['uta_ps_partial'] },
  );
});

// ─── custom-column-names, update-relation-columns-after-insertion, multi-primary-key ────────

it('typeorm persistence custom-column-names: should attach an existing entity to an existing one (many-to-one)', async () => {
  await pair.compare(
    async (side) => {
      const category = Object.assign(new CcCategory(), { name: 'Animals' });
      await side.dataSource.manager.save(category);
      const post = Object.assign(new CcPost(), { title: 'All about animals' });
      await save(side, CcPost, [post]);
      post.category = category;
      await save(side, CcPost, [post]);
      const loaded = await side.dataSource.manager.findOneOrFail(CcPost, { where: { id: 1 }, relations: { category: true } });
      return { objects: [post, loaded], value: loaded.category };
    },
    { tables: ['uta_ps_cc_post', 'uta_ps_cc_category'] },
  );
});

it('typeorm persistence custom-column-names: should attach a new entity to an existing one (many-to-one)', async () => {
  await pair.compare(
    async (side) => {
      const category = Object.assign(new CcCategory(), { name: 'Animals' });
      await side.dataSource.manager.save(category);
      const posts = [
        Object.assign(new CcPost(), { title: 'All about animals', category }),
        Object.assign(new CcPost(), { title: 'No category' }),
      ];
      await insert(side, CcPost, posts);
      return { objects: posts };
    },
    { tables: ['uta_ps_cc_post', 'uta_ps_cc_category'] },
  );
});

it('typeorm persistence custom-column-names: a new entity attached to a new one by cascade is inserted first, as save() does', async () => {
  // save() inserts the new category by cascade, then the post: so does bulkSave (cascade inserts).
  await pair.compare(
    async (side) => {
      const post = Object.assign(new CcPost(), {
        title: 'All about animals',
        category: Object.assign(new CcCategory(), { name: 'New' }),
      });
      await save(side, CcPost, [post]);
      const loaded = await side.dataSource.manager.find(CcPost, { relations: { category: true } });
      return { objects: [post], value: loaded };
    },
    { tables: ['uta_ps_cc_post', 'uta_ps_cc_category'] },
  );
});

it('typeorm persistence insert: update-relation-columns-after-insertion — the join column of a saved many-to-one', async () => {
  await pair.compare(
    async (side) => {
      const category = Object.assign(new CcCategory(), { name: 'Category saved by cascades #1' });
      await side.dataSource.manager.save(category);
      const posts = [Object.assign(new RelPost(), { title: 'Hello Post #1', category })];
      await save(side, RelPost, posts);
      const loaded = await side.dataSource.manager.find(RelPost, { relations: { category: true } });
      return { objects: posts, value: loaded };
    },
    { tables: ['uta_ps_rel_post'] },
  );
});

it('typeorm persistence multi-primary-key: should insert entity when there are multi column primary keys', async () => {
  await pair.compare(
    async (side) => {
      const category = Object.assign(new CcCategory(), { name: 'cat' });
      await side.dataSource.manager.save(category);
      const posts = [
        Object.assign(new MpkPost(), { firstId: 1, secondId: 2, title: 'Hello Post #1' }),
        Object.assign(new MpkPost(), { firstId: 1, secondId: 3, title: 'Hello Post #2', category }),
      ];
      await save(side, MpkPost, posts);
      posts[0]!.category = category;
      posts[1]!.title = 'renamed';
      await save(side, MpkPost, posts);
      const loaded = await side.dataSource.manager.find(MpkPost, { relations: { category: true }, order: { secondId: 'ASC' } });
      return { objects: posts, value: loaded };
    },
    { tables: [{ table: 'uta_ps_mpk_post', orderBy: '"firstId", "secondId"' }] },
  );
});

// ─── persistence-options: chunks, transaction ────────────────────────────────────────────────

it('typeorm persistence-options chunks: should save objects in chunks', async () => {
  await pair.compare(
    async (side) => {
      const posts = Array.from({ length: 2500 }, (_, i) =>
        Object.assign(new Chunked(), { title: `Bakhrom ${i}`, description: `Hello${i}` }),
      );
      if (side.mode === 'orm') await side.dataSource.manager.save(posts, { chunk: 500 });
      else await bulkSave(side.dataSource, Chunked, posts, { chunk: 500 });
      return { objects: posts };
    },
    { tables: ['uta_ps_chunked'] },
  );
});

it('typeorm persistence-options transaction: transaction: false on a query runner with no transaction is refused', async () => {
  // save(…, { transaction: false }) there runs each statement on its own; cohort always writes in
  // one transaction, and refuses the option by name (docs: TypeORM option names).
  const side = pair.subject();
  const queryRunner = side.dataSource.createQueryRunner();
  try {
    const post = Object.assign(new PostIncrement(), { text: 'Bakhrom' });
    const error = await bulkSave(side.dataSource.createEntityManager(queryRunner), PostIncrement, [post], {
      transaction: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect((error as Error).message).toContain('transaction');
    expect(post.id).toBeUndefined();
    expect(await side.query(`SELECT * FROM "${side.schema}"."uta_ps_increment"`)).toEqual([]);
  } finally {
    await queryRunner.release();
  }
});
