// Scenarios from TypeORM's own null/undefined tests (test/functional/null-undefined-handling) and
// their saves: a nullable column and a nullable many-to-one given null, left undefined, or set to
// null later, on entity class instances. save() is the reference, cohort's bulkSave / bulkUpdate
// the subject.
import { bulkSave, bulkUpdate } from '@cohort/typeorm';
import { Column, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { it } from 'vitest';
import { type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

@Entity('uta_nu_category')
class NuCategory {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @Column({ nullable: true, type: String }) slug!: string | null;
  @OneToMany(
    () => NuPost,
    (post) => post.category,
  )
  posts!: NuPost[];
}

@Entity('uta_nu_post')
class NuPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ nullable: true, type: String }) text!: string | null;
  @ManyToOne(() => NuCategory, { nullable: true })
  @JoinColumn()
  category!: NuCategory | null;
}

const pair = typeormPair('uta_nu', { entities: [NuCategory, NuPost] });

const save = <E extends object>(side: TypeormSide, cls: new () => E, entities: E[]) =>
  side.mode === 'orm' ? side.dataSource.getRepository(cls).save(entities) : bulkSave(side.dataSource, cls, entities);

const tables = ['uta_nu_post', 'uta_nu_category'];

const category = async (side: TypeormSide, name: string, slug: string | null = null) => {
  const c = Object.assign(new NuCategory(), { name, slug });
  await side.dataSource.manager.save(c);
  return c;
};

it('typeorm null-undefined-handling: entity instances with null, undefined and set values are saved as given', async () => {
  await pair.compare(
    async (side) => {
      const cat = await category(side, 'Category', 'cat');
      const posts = [
        Object.assign(new NuPost(), { title: 'With Text', text: 'hello', category: cat }),
        Object.assign(new NuPost(), { title: 'With Null', text: null, category: null }),
        Object.assign(new NuPost(), { title: 'Left undefined' }),
      ];
      await save(side, NuPost, posts);
      return { objects: posts };
    },
    { tables },
  );
});

it('typeorm null-undefined-handling: a nullable column and relation set to null on update are written NULL', async () => {
  await pair.compare(
    async (side) => {
      const cat = await category(side, 'Category');
      const posts: NuPost[] = [
        Object.assign(new NuPost(), { title: 'a', text: 'x', category: cat }),
        Object.assign(new NuPost(), { title: 'b', text: 'y', category: cat }),
      ];
      await side.dataSource.manager.save(posts);
      posts[0]!.text = null;
      posts[1]!.category = null;
      await save(side, NuPost, posts);
      const loaded = await side.dataSource.manager.find(NuPost, { relations: { category: true }, order: { id: 'ASC' } });
      return { objects: posts, value: loaded };
    },
    { tables },
  );
});

it('typeorm null-undefined-handling: undefined on update leaves the stored value, also for a loaded entity', async () => {
  await pair.compare(
    async (side) => {
      const cat = await category(side, 'Category');
      await side.dataSource.manager.save([
        Object.assign(new NuPost(), { title: 'a', text: 'kept', category: cat }),
        Object.assign(new NuPost(), { title: 'b', text: 'kept too', category: cat }),
      ]);
      const loaded = await side.dataSource.manager.find(NuPost, { order: { id: 'ASC' } });
      // Loaded without its relation: category is undefined, so save() leaves the foreign key.
      (loaded[0] as { text?: string | null }).text = undefined;
      loaded[0]!.title = 'a2';
      loaded[1]!.title = 'b2';
      if (side.mode === 'orm') await side.dataSource.manager.save(loaded);
      else await bulkUpdate(side.dataSource, NuPost, loaded);
      return { objects: loaded };
    },
    { tables },
  );
});

it('typeorm null-undefined-handling: a relation given as a reference with only its key writes the foreign key', async () => {
  await pair.compare(
    async (side) => {
      const cat = await category(side, 'Category');
      const posts: NuPost[] = [Object.assign(new NuPost(), { title: 'ref', category: { id: cat.id } as NuCategory })];
      await save(side, NuPost, posts);
      posts[0]!.category = null;
      await save(side, NuPost, posts);
      posts[0]!.category = { id: cat.id } as NuCategory;
      await save(side, NuPost, posts);
      return { objects: posts };
    },
    { tables },
  );
});

it('typeorm null-undefined-handling: nullable columns of the category left undefined read null afterwards', async () => {
  await pair.compare(
    async (side) => {
      const categories = [
        Object.assign(new NuCategory(), { name: 'no slug' }),
        Object.assign(new NuCategory(), { name: 'slug', slug: 's' }),
      ];
      await save(side, NuCategory, categories);
      categories[1]!.slug = null;
      await save(side, NuCategory, categories);
      return { objects: categories };
    },
    { tables },
  );
});
