// Scenarios from TypeORM's own tests of entity listeners (test/functional/entity-listeners and the
// listeners of test/functional/persistence/persistence-options/listeners): a before-update listener
// that changes what is written, listeners of child entities saved through their parent's class,
// and which listeners a save of unchanged entities calls. save() is the reference, cohort's
// bulkSave / bulkUpdate the subject. (entity-listeners.test.ts, beside this file, covers inserts.)
import { bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  AfterInsert,
  AfterUpdate,
  BeforeInsert,
  BeforeUpdate,
  ChildEntity,
  Column,
  Entity,
  PrimaryGeneratedColumn,
  TableInheritance,
} from 'typeorm';
import { it } from 'vitest';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

/** As upstream's Post: trims its title before every update. */
@Entity('uta_el_post')
class TrimmedPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar' }) text!: string;

  @BeforeUpdate() beforeUpdate() {
    this.title = this.title.trim();
    journal.record('beforeUpdate', { id: this.id, title: this.title });
  }
  @AfterUpdate() afterUpdate() {
    journal.record('afterUpdate', { id: this.id, title: this.title, text: this.text });
  }
}

/** As upstream's Parent / ChildA / ChildB: single-table inheritance, a listener on one child only. */
@Entity('uta_el_parent')
@TableInheritance({ column: { name: 'type', type: 'varchar' } })
class Parent {
  @PrimaryGeneratedColumn() id!: number;
}

@ChildEntity()
class ChildA extends Parent {
  @Column({ type: 'integer', nullable: true }) count!: number;

  @BeforeInsert()
  @BeforeUpdate()
  beforeInsertOrUpdate() {
    this.count++;
    journal.record('ChildA.before', { id: this.id, count: this.count });
  }
  @AfterInsert() afterInsert() {
    journal.record('ChildA.afterInsert', { id: this.id });
  }
}

@ChildEntity()
class ChildB extends Parent {
  @Column({ type: 'varchar', nullable: true }) name!: string;

  @AfterUpdate() afterUpdate() {
    journal.record('ChildB.afterUpdate', { id: this.id, name: this.name });
  }
}

/** As persistence-options/listeners' Post: its beforeInsert appends to the title. */
@Entity('uta_el_exclaimed')
class Exclaimed {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar' }) description!: string;

  @BeforeInsert() beforeInsert() {
    this.title += '!';
  }
  @BeforeUpdate() beforeUpdate() {
    this.description += '?';
    journal.record('Exclaimed.beforeUpdate', { id: this.id });
  }
}

const pair = typeormPair('uta_el', { entities: [TrimmedPost, Parent, ChildA, ChildB, Exclaimed] });

const save = <E extends object>(side: TypeormSide, cls: new () => E, entities: E[]) =>
  side.mode === 'orm' ? side.dataSource.getRepository(cls).save(entities) : bulkSave(side.dataSource, cls, entities);

it('typeorm entity-listeners: beforeUpdate trims the title of a loaded entity before it is written', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new TrimmedPost(), { title: 'post title', text: 'post text' });
      await side.dataSource.manager.save(post);
      const loaded = await side.dataSource.getRepository(TrimmedPost).findOneByOrFail({ id: post.id });
      loaded.title = 'post title   ';
      await save(side, TrimmedPost, [loaded]);
      const reloaded = await side.dataSource.getRepository(TrimmedPost).findOneByOrFail({ id: post.id });
      return { objects: [loaded, reloaded] };
    },
    { tables: ['uta_el_post'] },
  );
});

it('typeorm entity-listeners: beforeUpdate trims titles of several loaded entities in one bulkUpdate', async () => {
  await pair.compare(
    async (side) => {
      const posts = ['a', 'b', 'c'].map((t) => Object.assign(new TrimmedPost(), { title: t, text: `${t} text` }));
      await side.dataSource.manager.save(posts);
      const loaded = await side.dataSource.getRepository(TrimmedPost).find({ order: { id: 'ASC' } });
      loaded[0]!.title = '  a  ';
      loaded[2]!.text = 'c changed';
      if (side.mode === 'orm') await side.dataSource.manager.save(loaded);
      else await bulkUpdate(side.dataSource, TrimmedPost, loaded);
      return { objects: loaded };
    },
    { tables: ['uta_el_post'] },
  );
});

it('typeorm entity-listeners: a before-update listener whose change is the only change is not called', async () => {
  // save() decides which entities it updates before it calls beforeUpdate: an entity saved as it
  // was loaded calls no update listener, even one that would change it.
  await pair.compare(
    async (side) => {
      const post = Object.assign(new TrimmedPost(), { title: 'same', text: 'same' });
      await side.dataSource.manager.save(post);
      const loaded = await side.dataSource.getRepository(TrimmedPost).findOneByOrFail({ id: post.id });
      await save(side, TrimmedPost, [loaded]);
      return { objects: [loaded] };
    },
    { tables: ['uta_el_post'] },
  );
});

it('typeorm entity-listeners: should call correct listeners when using inheritance — a child saved through the parent', async () => {
  await pair.compare(
    async (side) => {
      const childA = Object.assign(new ChildA(), { count: 0 });
      await save(side, Parent, [childA]);
      const loadedA = await side.dataSource.getRepository(ChildA).findOneByOrFail({ id: childA.id });
      const childB = Object.assign(new ChildB(), { name: 'childB' });
      await save(side, Parent, [childB]);
      childB.name = 'childBB';
      await save(side, Parent, [childB]);
      const loadedB = await side.dataSource.getRepository(ChildB).findOneByOrFail({ id: childB.id });
      return { objects: [childA, loadedA, childB, loadedB] };
    },
    { tables: ['uta_el_parent'] },
  );
});

it('typeorm entity-listeners: inheritance — children of both classes in one save, then updated together', async () => {
  // save() inserts all ChildA rows, then all ChildB rows; cohort inserts the mix in input order
  // (docs/differences.md, "Single-table inheritance"): keys are compared by shape, rows by content.
  await pair.compare(
    async (side) => {
      const items: Parent[] = [
        Object.assign(new ChildA(), { count: 10 }),
        Object.assign(new ChildB(), { name: 'b1' }),
        Object.assign(new ChildA(), { count: 20 }),
      ];
      await save(side, Parent, items);
      (items[1] as ChildB).name = 'b1 renamed';
      // ChildA's before-update listener changes count only if the entity is updated: unchanged here.
      await save(side, Parent, items);
      return { objects: items };
    },
    { tables: [{ table: 'uta_el_parent', orderBy: 'type, count, name' }], mask: ['id'] },
  );
});

it('typeorm entity-listeners: inheritance — a changed ChildA is counted up once more by its beforeUpdate', async () => {
  await pair.compare(
    async (side) => {
      const a = Object.assign(new ChildA(), { count: 0 });
      await side.dataSource.getRepository(Parent).save(a);
      const loaded = await side.dataSource.getRepository(ChildA).findOneByOrFail({ id: a.id });
      loaded.count = 5;
      await save(side, ChildA, [loaded]);
      return { objects: [loaded] };
    },
    { tables: ['uta_el_parent'] },
  );
});

it('typeorm persistence-options listeners: save listeners work by default — beforeInsert changes the written title', async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        Object.assign(new Exclaimed(), { title: 'Bakhrom', description: 'Hello' }),
        Object.assign(new Exclaimed(), { title: 'Umed', description: 'Hi' }),
      ];
      await save(side, Exclaimed, posts);
      posts[0]!.title = 'Bakhrom again';
      await save(side, Exclaimed, posts);
      return { objects: posts };
    },
    { tables: ['uta_el_exclaimed'] },
  );
});

it('typeorm persistence-options listeners: save listeners are disabled with listeners: false', async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        Object.assign(new Exclaimed(), { title: 'Bakhrom', description: 'Hello' }),
        Object.assign(new Exclaimed(), { title: 'Umed', description: 'Hi' }),
      ];
      if (side.mode === 'orm') await side.dataSource.manager.save(posts, { listeners: false });
      else await bulkSave(side.dataSource, Exclaimed, posts, { listeners: false });
      posts[1]!.title = 'Umed again';
      if (side.mode === 'orm') await side.dataSource.manager.save(posts, { listeners: false });
      else await bulkSave(side.dataSource, Exclaimed, posts, { listeners: false });
      return { objects: posts };
    },
    { tables: ['uta_el_exclaimed'] },
  );
});
