// Scenarios from MikroORM's tests of em.assign() (tests/features/entity-assigner): an entity changed
// through assign() — scalars, JSON merged or replaced, embeddables, undefined ignored, a to-one set
// by key — then written with persist()+flush() and with cohort's bulkSave / bulkUpdate.
import { Embeddable, Embedded, Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { it } from 'vitest';
import { mikroOrmPair } from '../../harness/upstream-pair.js';
import { WriteRecorder, write } from './writes.js';

@Entity({ tableName: 'umb_asg_publisher' })
class UmbPublisher {
  @PrimaryKey() id!: number;
  @Property({ type: 'string' }) name!: string;
}

@Embeddable()
class UmbIdentity {
  @Property({ type: 'string', nullable: true }) handle?: string | null;
  @Property({ type: 'string', nullable: true }) site?: string | null;
}

@Entity({ tableName: 'umb_asg_author' })
class UmbAuthor {
  @PrimaryKey() id!: number;
  @Property({ type: 'string' }) name!: string;
  @Property({ type: 'string' }) email!: string;
  @Property({ type: 'integer', nullable: true }) age?: number | null;
  @Property({ type: 'json', nullable: true }) methods?: { method1?: string; method2?: string } | null;
  @Property({ type: 'blob', nullable: true }) avatar?: Buffer | null;
  @Embedded(() => UmbIdentity, { object: true, nullable: true }) identity?: UmbIdentity | null;
  @ManyToOne(() => UmbPublisher, { nullable: true }) publisher?: UmbPublisher | null;
}

const pair = mikroOrmPair('umb_asg', {
  entities: [UmbPublisher, UmbAuthor],
  subscribers: [new WriteRecorder()],
});

const author = (name: string) =>
  Object.assign(new UmbAuthor(), { name, email: `${name}@x.test`, age: 30, methods: { method1: '1', method2: '1' } });

it('mikro-orm entity-assigner: assign() should update entity values', async () => {
  await pair.compare(
    async (side) => {
      const authors = [author('jon'), author('ann')];
      await write(side, UmbAuthor, authors);
      side.em.assign(authors[0]!, { name: 'Jon Snow', email: 'snow@wall.st', age: 25 });
      side.em.assign(authors[1]!, { age: null });
      await write(side, UmbAuthor, authors, 'update');
      return { objects: authors };
    },
    { tables: ['umb_asg_author'] },
  );
});

it('mikro-orm entity-assigner/GH5158: should update json properties with assign() (mergeObjectProperties)', async () => {
  await pair.compare(
    async (side) => {
      await write(side, UmbAuthor, [author('jon')]);
      side.em.clear();
      const [loaded] = await side.em.find(UmbAuthor, {});
      side.em.assign(loaded!, { methods: { method2: '3' } }, { mergeObjectProperties: true });
      await write(side, UmbAuthor, [loaded!]);
      side.em.clear();
      const [again] = await side.em.find(UmbAuthor, {});
      side.em.assign(again!, { methods: { method1: 'x' } });
      await write(side, UmbAuthor, [again!]);
      return { objects: [loaded!, again!] };
    },
    { tables: ['umb_asg_author'] },
  );
});

it('mikro-orm entity-assigner/GH6338: should ignore undefined properties when using assign() with ignoreUndefined', async () => {
  await pair.compare(
    async (side) => {
      const authors = [author('jon')];
      await write(side, UmbAuthor, authors);
      side.em.assign(authors[0]!, { name: 'renamed', email: undefined, age: undefined }, { ignoreUndefined: true });
      await write(side, UmbAuthor, authors);
      return { objects: authors };
    },
    { tables: ['umb_asg_author'] },
  );
});

it('mikro-orm entity-assigner: assign() allows deep merging of object properties (embeddable and JSON)', async () => {
  await pair.compare(
    async (side) => {
      const authors = [
        Object.assign(author('jon'), { identity: Object.assign(new UmbIdentity(), { handle: 'jon', site: 'a.test' }) }),
      ];
      await write(side, UmbAuthor, authors);
      side.em.assign(authors[0]!, { identity: { site: 'b.test' }, methods: { method1: 'm' } }, { mergeObjectProperties: true });
      await write(side, UmbAuthor, authors, 'update');
      return { objects: authors };
    },
    { tables: ['umb_asg_author'] },
  );
});

it('mikro-orm entity-assigner: assign() should update m:1 by primary key and by entity', async () => {
  await pair.compare(
    async (side) => {
      const publishers = [Object.assign(new UmbPublisher(), { name: 'p1' }), Object.assign(new UmbPublisher(), { name: 'p2' })];
      await write(side, UmbPublisher, publishers);
      const authors = [author('jon'), author('ann')];
      await write(side, UmbAuthor, authors);
      side.em.assign(authors[0]!, { publisher: publishers[1]!.id });
      side.em.assign(authors[1]!, { publisher: publishers[0] });
      await write(side, UmbAuthor, authors, 'update');
      side.em.clear();
      const loaded = await side.em.find(UmbAuthor, {}, { orderBy: { id: 'asc' } });
      return { objects: [...authors, ...loaded] };
    },
    { tables: ['umb_asg_publisher', 'umb_asg_author'] },
  );
});

it('mikro-orm entity-assigner: assigning blobs (GH issue #1406)', async () => {
  await pair.compare(
    async (side) => {
      const authors = [author('jon')];
      await write(side, UmbAuthor, authors);
      side.em.assign(authors[0]!, { avatar: Buffer.from([1, 2, 3, 255]) });
      await write(side, UmbAuthor, authors);
      side.em.clear();
      const loaded = await side.em.find(UmbAuthor, {});
      return { objects: [...authors, ...loaded] };
    },
    { tables: ['umb_asg_author'] },
  );
});

it('mikro-orm entity-assigner/GH3571: assign on a not managed entity, then bulkSave vs persist', async () => {
  await pair.compare(
    async (side) => {
      const publishers = [Object.assign(new UmbPublisher(), { name: 'p1' })];
      await write(side, UmbPublisher, publishers);
      const fresh = side.em.assign(
        new UmbAuthor(),
        { name: 'new', email: 'new@x.test', publisher: publishers[0]!.id },
        { em: side.em },
      );
      await write(side, UmbAuthor, [fresh]);
      return { objects: [fresh] };
    },
    { tables: ['umb_asg_author'] },
  );
});
