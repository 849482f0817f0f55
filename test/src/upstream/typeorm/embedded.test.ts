// Scenarios from TypeORM's own tests of embedded entities (test/functional/embedded: basic
// functionality, prefixes, listeners on embeddeds, optional embeddeds, special columns inside
// embeddeds, multiple primary columns), run once with save() and once with cohort's bulk calls.
import { bulkInsert, bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  BeforeInsert,
  BeforeUpdate,
  Column,
  CreateDateColumn,
  Entity,
  type EntityTarget,
  type ObjectLiteral,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { it } from 'vitest';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

// basic-functionality / prefix: nested embeddeds, with and without prefixes.
class Counters {
  @Column({ type: 'integer' }) likes!: number;
  @Column({ type: 'integer' }) comments!: number;
  @Column({ type: 'integer', nullable: true }) favorites?: number | null;
}

class Info {
  @Column({ type: 'varchar' }) description!: string;
  @Column(() => Counters, { prefix: 'cnt' }) counters!: Counters;
}

@Entity('utb_emb_post')
class Post {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column(() => Counters) counters!: Counters;
  @Column(() => Info, { prefix: false }) info!: Info;
}

// embedded-listeners / optional-embedded-listeners: listeners declared in the embedded classes.
class ListenedCounter {
  @Column({ type: 'integer', nullable: true }) likes!: number;
  @Column({ type: 'integer', nullable: true }) favorites!: number;
  @BeforeInsert() start() {
    this.likes = 0;
    this.favorites = 0;
    journal.record('counter beforeInsert');
  }
  @BeforeUpdate() bump() {
    this.likes++;
    this.favorites++;
    journal.record('counter beforeUpdate', { likes: this.likes });
  }
}

class ListenedInfo {
  @Column({ type: 'varchar', nullable: true }) description?: string;
  @Column(() => ListenedCounter, { prefix: 'counters' }) counters?: ListenedCounter;
  @BeforeInsert() describe() {
    this.description = 'default post description';
    journal.record('info beforeInsert');
  }
}

@Entity('utb_emb_listened')
class ListenedPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar' }) text!: string;
  @Column(() => ListenedInfo, { prefix: 'info' }) information?: ListenedInfo;
}

// embedded-with-special-columns: dates and a version inside (nested) embeddeds.
class Subcounters {
  @VersionColumn() version!: number;
  @Column({ type: 'integer' }) watches!: number;
}

class SpecialCounters {
  @Column({ type: 'integer' }) likes!: number;
  @Column(() => Subcounters, { prefix: 'subcnt' }) subcounters!: Subcounters;
  @CreateDateColumn({ type: 'timestamptz' }) createdDate!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedDate!: Date;
}

@Entity('utb_emb_special')
class SpecialPost {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column(() => SpecialCounters) counters!: SpecialCounters;
}

// multiple-primary-columns / outer-primary-column: a composite key, one part inside an embedded.
class Code {
  @PrimaryColumn({ type: 'varchar' }) code!: string;
  @Column({ type: 'varchar' }) label!: string;
}

@Entity('utb_emb_composite')
class Composite {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column(() => Code) code!: Code;
  @Column({ type: 'varchar' }) note!: string;
}

const pair = typeormPair('utb_embedded', { entities: [Post, ListenedPost, SpecialPost, Composite] });

type Op = 'save' | 'insert' | 'update';
async function write<E extends ObjectLiteral>(side: TypeormSide, op: Op, target: EntityTarget<E>, rows: E[]) {
  if (side.mode === 'orm') return void (await side.dataSource.manager.save(target, rows));
  if (op === 'save') return void (await bulkSave(side.dataSource, target, rows));
  if (op === 'insert') return void (await bulkInsert(side.dataSource, target, rows));
  return void (await bulkUpdate(side.dataSource, target, rows));
}

const make = <E extends object>(cls: new () => E, data: Partial<E>): E => Object.assign(new cls(), data);
const counters = (likes: number, comments: number, favorites?: number) => make(Counters, { likes, comments, favorites });

it('typeorm embedded/basic-functionality: nested embeddeds are inserted and updated, prefixes as declared', async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        make(Post, {
          title: 'a',
          counters: counters(1, 2, 3),
          info: make(Info, { description: 'd1', counters: counters(4, 5) }),
        }),
        make(Post, {
          title: 'b',
          counters: counters(0, 0),
          info: make(Info, { description: 'd2', counters: counters(7, 8, 9) }),
        }),
      ];
      await write(side, 'insert', Post, posts);
      (posts[0] as Post).counters.likes = 10;
      (posts[1] as Post).info.counters.favorites = null;
      (posts[1] as Post).info.description = 'd2 changed';
      await write(side, 'update', Post, posts);
      const loaded = await side.dataSource.getRepository(Post).find({ order: { id: 'ASC' } });
      return { objects: [...posts, ...loaded] };
    },
    { tables: ['utb_emb_post'] },
  );
});

it('typeorm embedded/basic-functionality: a whole embedded replaced by a new object is updated column by column', async () => {
  await pair.compare(
    async (side) => {
      const post = make(Post, {
        title: 'a',
        counters: counters(1, 2, 3),
        info: make(Info, { description: 'd', counters: counters(4, 5, 6) }),
      });
      await write(side, 'insert', Post, [post]);
      const loaded = await side.dataSource.getRepository(Post).findOneByOrFail({ id: post.id });
      loaded.counters = counters(1, 20, 3);
      await write(side, 'save', Post, [loaded]);
      return { objects: [loaded] };
    },
    { tables: ['utb_emb_post'] },
  );
});

it("typeorm embedded/embedded-listeners: an embedded's listeners run on insert and on update", async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        make(ListenedPost, {
          title: 'Super title',
          text: 'About this post',
          information: make(ListenedInfo, { counters: new ListenedCounter() }),
        }),
        make(ListenedPost, { title: 'Second', text: 'x', information: make(ListenedInfo, { counters: new ListenedCounter() }) }),
      ];
      await write(side, 'insert', ListenedPost, posts);
      (posts[0] as ListenedPost).title = 'Super title 2';
      await write(side, 'update', ListenedPost, posts);
      return { objects: posts };
    },
    { tables: ['utb_emb_listened'] },
  );
});

it('typeorm embedded/optional-embedded-listeners: entities with no embedded, an empty one, and a full one', async () => {
  await pair.compare(
    async (side) => {
      const posts = [
        make(ListenedPost, { title: 'First title', text: 'About this post' }),
        make(ListenedPost, { title: 'Second title', text: 'About this post', information: new ListenedInfo() }),
        make(ListenedPost, {
          title: 'Third title',
          text: 'About this post',
          information: make(ListenedInfo, { counters: new ListenedCounter() }),
        }),
      ];
      await write(side, 'save', ListenedPost, posts);
      const loaded = await side.dataSource.getRepository(ListenedPost).find({ order: { id: 'ASC' } });
      return { objects: [...posts, ...loaded] };
    },
    { tables: ['utb_emb_listened'] },
  );
});

it('typeorm embedded/embedded-with-special-columns: dates and a version inside embeddeds are set on insert and moved on update', async () => {
  await pair.compare(
    async (side) => {
      const posts = [1, 2].map((id) =>
        make(SpecialPost, {
          id,
          title: `p${id}`,
          counters: make(SpecialCounters, { likes: id, subcounters: make(Subcounters, { watches: id * 10 }) }),
        }),
      );
      await write(side, 'insert', SpecialPost, posts);
      const inserted = posts.map((p) => p.counters.subcounters.version);
      (posts[0] as SpecialPost).counters.likes = 100;
      (posts[1] as SpecialPost).counters.subcounters.watches = 200;
      await write(side, 'update', SpecialPost, posts);
      const loaded = await side.dataSource.getRepository(SpecialPost).find({ order: { id: 'ASC' } });
      return {
        objects: [...posts, ...loaded],
        value: {
          inserted,
          datesSet: posts.map((p) => p.counters.createdDate instanceof Date && p.counters.updatedDate >= p.counters.createdDate),
        },
      };
    },
    { tables: ['utb_emb_special'], mask: ['createdDate', 'updatedDate', 'countersCreateddate', 'countersUpdateddate'] },
  );
});

it('typeorm embedded/multiple-primary-columns: a composite key with a part inside an embedded, inserted then updated', async () => {
  await pair.compare(
    async (side) => {
      const rows = [
        make(Composite, { id: 1, code: make(Code, { code: 'a', label: 'A' }), note: 'n1' }),
        make(Composite, { id: 1, code: make(Code, { code: 'b', label: 'B' }), note: 'n2' }),
        make(Composite, { id: 2, code: make(Code, { code: 'a', label: 'C' }), note: 'n3' }),
      ];
      await write(side, 'insert', Composite, rows);
      (rows[1] as Composite).note = 'n2 changed';
      (rows[2] as Composite).code.label = 'C changed';
      const fresh = make(Composite, { id: 3, code: make(Code, { code: 'z', label: 'Z' }), note: 'new' });
      await write(side, 'save', Composite, [...rows, fresh]);
      return { objects: [...rows, fresh] };
    },
    { tables: [{ table: 'utb_emb_composite', orderBy: 'id, "codeCode"' }] },
  );
});
