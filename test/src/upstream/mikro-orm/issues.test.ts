// Scenarios from MikroORM's tests/issues whose subject is writing scalar data: persist()+flush(),
// em.insertMany() and em.upsert() of JSON arrays, versions, onUpdate values, hook-made keys, keys
// sharing a column with a foreign key. Each runs with the ORM's write and with cohort's.
import { randomUUID } from 'node:crypto';
import { bulkInsert, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { BigIntType, type Opt, PrimaryKeyProp, type Ref, ref } from '@mikro-orm/core';
import { BeforeCreate, Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { FullTextType } from '@mikro-orm/postgresql';
import { expect, it } from 'vitest';
import { journal, mikroOrmPair } from '../../harness/upstream-pair.js';
import { upsert, WriteRecorder, write } from './writes.js';

// GH4070: a JSON column holding an array of numbers.
@Entity({ tableName: 'umb_iss_json_ids' })
class UmbJsonIds {
  @PrimaryKey({ type: 'integer', autoincrement: false }) id!: number;
  @Property({ type: 'json' }) postIds!: number[];
}

// GH5527: a bigint version with a raw default, and an onUpdate timestamp.
@Entity({ tableName: 'umb_iss_versioned' })
class UmbVersioned {
  @PrimaryKey({ type: 'integer', autoincrement: false }) id!: number;
  @Property({ type: 'string' }) name!: string;
  @Property({ length: 0, nullable: true, onUpdate: () => new Date() }) updatedAt?: Date;
  @Property({ type: new BigIntType('number'), defaultRaw: '1', version: true }) version!: number & Opt;
}

// GH893: a string key made by a @BeforeCreate hook of an abstract base.
abstract class UmbHookKeyed {
  @PrimaryKey({ type: 'string' }) id!: string;
  @BeforeCreate() definePrimaryKey() {
    this.id = randomUUID();
  }
}

@Entity({ tableName: 'umb_iss_publisher' })
class UmbIssPublisher extends UmbHookKeyed {
  @Property({ type: 'string', nullable: true }) name?: string | null;
}

@Entity({ tableName: 'umb_iss_book' })
class UmbIssBook extends UmbHookKeyed {
  @ManyToOne(() => UmbIssPublisher, { nullable: true }) publisher?: UmbIssPublisher | null;
}

// GH1038 / GH2781: bigint keys, onUpdate timestamps, a to-one added or changed.
@Entity({ tableName: 'umb_iss_user' })
class UmbIssUser {
  @PrimaryKey({ type: 'bigint' }) id!: bigint;
  @Property({ type: 'string' }) name: string;
  @Property({ type: 'datetime', onUpdate: () => new Date() }) modifiedAt: Date = new Date();
  constructor(name: string) {
    this.name = name;
  }
}

@Entity({ tableName: 'umb_iss_bookmark' })
class UmbIssBookmark {
  @PrimaryKey({ type: 'bigint' }) id!: bigint;
  @ManyToOne(() => UmbIssUser) user: UmbIssUser;
  @Property({ type: 'string' }) label: string;
  @Property({ type: 'datetime', onUpdate: () => new Date() }) modifiedAt: Date = new Date();
  constructor(user: UmbIssUser, label: string) {
    this.user = user;
    this.label = label;
  }
}

// GH4945: a composite key whose second column is also the second column of a composite FK.
@Entity({ tableName: 'umb_iss_env_a' })
class UmbEnvA {
  @PrimaryKey({ type: 'string' }) id!: string;
  @PrimaryKey({ type: 'string', name: 'env_id' }) envID!: string;
  @Property({ defaultRaw: 'CURRENT_TIMESTAMP', nullable: true }) createdAt?: Date;
  [PrimaryKeyProp]?: ['id', 'envID'];
}

@Entity({ tableName: 'umb_iss_env_b' })
class UmbEnvB {
  @PrimaryKey({ type: 'string' }) id!: string;
  @PrimaryKey({ type: 'string', name: 'env_id', nullable: false }) envID!: string;
  @Property({ type: 'text' }) name!: string;
  @ManyToOne(() => UmbEnvA, { nullable: true, fieldNames: ['entity_a_id', 'env_id'], ref: true })
  entityA: Ref<UmbEnvA> | null = null;
  [PrimaryKeyProp]?: ['id', 'envID'];
}

// GH3696: a tsvector column written through FullTextType, kept in step by onUpdate.
@Entity({ tableName: 'umb_iss_song' })
class UmbSong {
  @PrimaryKey() id!: number;
  @Property({ type: 'string' }) title: string;
  @Property({ type: FullTextType, onUpdate: (song: UmbSong) => song.title }) searchableTitle: string;
  constructor(title: string, searchable = title) {
    this.title = title;
    this.searchableTitle = searchable;
  }
}

const pair = mikroOrmPair('umb_iss', {
  entities: [UmbSong, UmbJsonIds, UmbVersioned, UmbIssPublisher, UmbIssBook, UmbIssUser, UmbIssBookmark, UmbEnvA, UmbEnvB],
  subscribers: [new WriteRecorder()],
});

it('mikro-orm issues/GH4070: insert of entities holding an array of numbers in a JSON column', async () => {
  await pair.compare(
    async (side) => {
      const rows = [
        Object.assign(new UmbJsonIds(), { id: 1, postIds: [10, 11, 12] }),
        Object.assign(new UmbJsonIds(), { id: 2, postIds: [20, 21] }),
        Object.assign(new UmbJsonIds(), { id: 3, postIds: [] }),
      ];
      await write(side, UmbJsonIds, rows, 'insert');
      rows[1]!.postIds = [...rows[1]!.postIds, 22];
      await write(side, UmbJsonIds, rows);
      return { objects: rows };
    },
    { tables: ['umb_iss_json_ids'] },
  );
});

it('mikro-orm issues/GH4070: upsert of an array of numbers to JSON', async () => {
  await pair.compare(
    async (side) => {
      await write(side, UmbJsonIds, [Object.assign(new UmbJsonIds(), { id: 1, postIds: [1] })]);
      side.em.clear();
      const rows = [
        Object.assign(new UmbJsonIds(), { id: 1, postIds: [10, 11, 12] }),
        Object.assign(new UmbJsonIds(), { id: 2, postIds: [20, 21] }),
      ];
      const upserted = await upsert(side, UmbJsonIds, rows);
      return { objects: upserted };
    },
    // em.upsert fires no create/update events, bulkUpsert does (docs/differences.md, "Upsert hooks").
    { tables: ['umb_iss_json_ids'], ignoreJournal: true },
  );
});

it('mikro-orm issues/GH5527: a version with a raw default starts at 1 and a later update checks and moves it', async () => {
  await pair.compare(
    async (side) => {
      const [row] = await upsert(side, UmbVersioned, [Object.assign(new UmbVersioned(), { id: 1, name: 'Foo' })]);
      // em.upsert fires no afterCreate, bulkUpsert does ("Upsert hooks"): the journal compares the update.
      journal.take();
      row!.name = 'Bar';
      await write(side, UmbVersioned, [row!], 'update');
      return { objects: [row!] };
    },
    { tables: ['umb_iss_versioned'], mask: ['updatedAt', 'updated_at'] },
  );
});

it('mikro-orm issues/GH893: a string key made by a @BeforeCreate hook, then a book referencing it', async () => {
  await pair.compare(
    async (side) => {
      const publishers = [Object.assign(new UmbIssPublisher(), { name: 'p' }), new UmbIssPublisher()];
      await write(side, UmbIssPublisher, publishers);
      const books = [Object.assign(new UmbIssBook(), { publisher: publishers[0] }), new UmbIssBook()];
      await write(side, UmbIssBook, books);
      side.em.clear();
      const reloaded = await side.em.findOneOrFail(UmbIssBook, { id: books[0]!.id });
      return { objects: [...publishers, ...books], value: reloaded.publisher?.id === publishers[0]!.id };
    },
    {
      tables: [
        { table: 'umb_iss_publisher', orderBy: 'name' },
        { table: 'umb_iss_book', orderBy: 'publisher_id' },
      ],
      mask: ['id', 'publisher_id'],
    },
  );
});

it('mikro-orm issues/GH1038: writing a row that references bigint-keyed entities does not update them', async () => {
  await pair.compare(
    async (side) => {
      const users = [new UmbIssUser('user1')];
      await write(side, UmbIssUser, users);
      const before = users[0]!.modifiedAt;
      const bookmarks = [new UmbIssBookmark(users[0]!, 'first')];
      await write(side, UmbIssBookmark, bookmarks);
      const user = await side.em.findOneOrFail(UmbIssUser, { name: 'user1' });
      return { objects: [...users, ...bookmarks], value: { same: user === users[0], untouched: user.modifiedAt === before } };
    },
    { tables: ['umb_iss_user', 'umb_iss_bookmark'], mask: ['modifiedAt', 'modified_at'] },
  );
});

it('mikro-orm issues/GH2781: changing a to-one on an entity with onUpdate timestamps', async () => {
  await pair.compare(
    async (side) => {
      const users = [new UmbIssUser('a'), new UmbIssUser('b')];
      await write(side, UmbIssUser, users);
      const bookmarks = [new UmbIssBookmark(users[0]!, 'x')];
      await write(side, UmbIssBookmark, bookmarks);
      const stamp = bookmarks[0]!.modifiedAt;
      bookmarks[0]!.user = users[1]!;
      await write(side, UmbIssBookmark, bookmarks);
      return { objects: bookmarks, value: bookmarks[0]!.modifiedAt !== stamp };
    },
    { tables: ['umb_iss_user', 'umb_iss_bookmark'], mask: ['modifiedAt', 'modified_at'] },
  );
});

it('mikro-orm issues/GH4945: em.upsert() of composite keys sharing a column with a composite FK', async () => {
  await pair.compare(
    async (side) => {
      const a = () => [
        Object.assign(new UmbEnvA(), { id: 'entity-a-1', envID: 'env-1' }),
        Object.assign(new UmbEnvA(), { id: 'entity-a-2', envID: 'env-1' }),
      ];
      const b = () =>
        ['1', '2'].map((n) =>
          Object.assign(new UmbEnvB(), {
            id: `entity-b-${n}`,
            envID: 'env-1',
            name: `entity-b-${n}`,
            entityA: ref(UmbEnvA, [`entity-a-${n}`, 'env-1']),
          }),
        );
      await upsert(side, UmbEnvA, a());
      await upsert(side, UmbEnvB, b());
      side.em.clear();
      const entitiesA = await upsert(side, UmbEnvA, a());
      const entitiesB = await upsert(side, UmbEnvB, b());
      return { objects: [...entitiesA, ...entitiesB] };
    },
    // em.upsert fires no create/update events, bulkUpsert does (docs/differences.md, "Upsert hooks").
    { tables: ['umb_iss_env_a', 'umb_iss_env_b'], mask: ['createdAt', 'created_at'], ignoreJournal: true },
  );
});

// FullTextType writes SQL (`to_tsvector(?, ?)`) per value; cohort sends parameters only and
// refuses it, naming the property, before anything is written.
it('mikro-orm issues/GH3696: a FullTextType column — flush writes to_tsvector, cohort refuses it naming the property', async () => {
  const reference = pair.reference();
  reference.em.persist(new UmbSong('Anti-Hero', 'Anti--Hero'));
  await reference.em.flush();
  expect(await reference.query(`SELECT searchable_title::text AS v FROM "${reference.schema}".umb_iss_song`)).toEqual([
    { v: "'anti':1 'hero':2" },
  ]);

  const subject = pair.subject();
  const error = await bulkInsert(subject.em, UmbSong, [new UmbSong('Shake It Off'), new UmbSong('Anti-Hero')]).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject({ entityName: 'UmbSong', property: 'searchableTitle', index: 0 });
  expect(await subject.query(`SELECT count(*)::int AS n FROM "${subject.schema}".umb_iss_song`)).toEqual([{ n: 0 }]);
});
