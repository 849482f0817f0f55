// Scenarios from MikroORM's tests of em.upsert()/em.upsertMany() (tests/features/upsert: upsert.test.ts,
// upsert-managed.test.ts and issues GH3787, GH4153, GH4786, GH7344, GH7399), run once with MikroORM's
// own upsert and once with cohort's bulkUpsert on equal inputs: rows, the entities afterwards (keys,
// defaults, stored values hydrated), the identity map, and the upsert events (beforeUpsert /
// afterUpsert; the extra afterCreate/afterUpdate cohort fires are documented in docs/differences.md).
import { randomUUID } from 'node:crypto';
import { bulkUpsert, type MikroOrmUpsertOptions } from '@cohort/mikro-orm';
import { type EventArgs, type EventSubscriber, helper, type Opt, sql } from '@mikro-orm/core';
import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { expect, it } from 'vitest';
import { mikroOrmMajor } from '../../harness/mikro-orm-major.js';
import { journal, type MikroOrmSide, mikroOrmPair } from '../../harness/upstream-pair.js';

@Entity({ tableName: 'uma_up_author' })
class Author {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 60, unique: true }) email!: string;
  @Property({ type: 'integer', nullable: true }) age?: number | null;
  @Property({ type: 'string', length: 60, nullable: true }) nickname?: string | null;
}

/** Unique by a name and its author (a to-one), as upstream's FooBar. */
@Entity({ tableName: 'uma_up_foo_bar' })
@Unique({ properties: ['name', 'author'] })
class FooBar {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne({ entity: () => Author }) author!: Author;
  @Property({ type: 'string', length: 40, nullable: true }) propName?: string | null;
}

/** GH4153: a composite unique key of two scalars. */
@Entity({ tableName: 'uma_up_pairkey' })
@Unique({ properties: ['uniq1', 'uniq2'] })
class PairKey {
  @PrimaryKey({ type: 'integer' }) id?: number;
  @Property({ type: 'integer' }) uniq1!: number;
  @Property({ type: 'integer' }) uniq2!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
}

/** GH7344: a `persist: false` property is never sent. */
@Entity({ tableName: 'uma_up_virtual' })
class WithVirtual {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({ persist: false, type: 'string' }) virtualField?: string;
}

/** GH7399: key and timestamps from the constructor. */
@Entity({ tableName: 'uma_up_ctor_user' })
class CtorUser {
  @PrimaryKey({ type: 'uuid' }) id: string = randomUUID();
  @Property({ type: 'datetime', columnType: 'timestamptz' }) createdAt: Date = new Date('2024-01-02T03:04:05Z');
  @Property({ type: 'string', length: 60, unique: true }) email!: string;
  @Property({ type: 'string', length: 40 }) name: string = '';
}

/** GH7399: key and timestamps from onCreate. */
@Entity({ tableName: 'uma_up_oncreate_user' })
class OnCreateUser {
  @PrimaryKey({ type: 'uuid', onCreate: () => randomUUID() }) id!: string & Opt;
  @Property({ type: 'datetime', columnType: 'timestamptz', onCreate: () => new Date('2024-05-06T07:08:09Z') })
  createdAt!: Date & Opt;
  @Property({ type: 'string', length: 60, unique: true }) email!: string;
  @Property({ type: 'string', length: 40 }) name: string = '';
}

/** GH3787: JSON values are serialized on upsert as on insert. */
@Entity({ tableName: 'uma_up_doc' })
class Doc {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'json', nullable: true }) data?: unknown;
}

/** GH4786: every data column is in the unique key; created_at from a database default. */
@Entity({ tableName: 'uma_up_permission' })
@Unique({ properties: ['subject', 'action'] })
class Permission {
  @PrimaryKey({ type: 'integer' }) id!: number & Opt;
  @Property({ type: 'string', length: 40 }) subject!: string;
  @Property({ type: 'string', length: 40 }) action!: string;
  @Property({ type: 'datetime', columnType: 'timestamptz', default: sql.now() }) createdAt!: Date & Opt;
}

const keyOf = (e: object) => {
  const r = e as Record<string, unknown>;
  return String(r.email ?? r.name ?? r.subject ?? r.id);
};

/** The upsert events both paths fire. */
class UpsertRecorder implements EventSubscriber {
  beforeUpsert(args: EventArgs<object>) {
    journal.record('beforeUpsert', { entity: args.entity.constructor.name, key: keyOf(args.entity) });
  }
  afterUpsert(args: EventArgs<object>) {
    journal.record('afterUpsert', {
      entity: args.entity.constructor.name,
      key: keyOf(args.entity),
      pk: helper(args.entity).getPrimaryKey(),
    });
  }
}

const pair = mikroOrmPair('uma_up', {
  entities: [Author, FooBar, PairKey, WithVirtual, CtorUser, OnCreateUser, Doc, Permission],
  subscribers: [new UpsertRecorder()],
});

const author = (data: Partial<Author>) => Object.assign(new Author(), data);

async function upsert<E extends object>(
  side: MikroOrmSide,
  cls: new () => E,
  entities: E[],
  options: {
    onConflictFields?: string[];
    onConflictMergeFields?: string[];
    onConflictExcludeFields?: string[];
    batchSize?: number;
  } = {},
) {
  if (side.mode === 'orm') {
    const returned = await side.em.upsertMany(cls, entities, options as never);
    expect(returned).toEqual(entities);
    return;
  }
  await bulkUpsert(side.em, cls, entities, options as MikroOrmUpsertOptions);
}

const seedAuthors = (side: MikroOrmSide) =>
  side.query(`INSERT INTO "${side.schema}".uma_up_author (id, email, age, nickname) VALUES (1, 'a1', 31, 'one')`);

it('mikro-orm upsert: em.upsertMany([entities]) with PK — one row exists, two are inserted', async () => {
  await pair.compare(
    async (side) => {
      await seedAuthors(side);
      const as = [
        author({ id: 1, email: 'a1', age: 41 }),
        author({ id: 2, email: 'a2', age: 42 }),
        author({ id: 3, email: 'a3', age: 43 }),
      ];
      await upsert(side, Author, as, { onConflictFields: ['id'] });
      return { objects: as };
    },
    { tables: ['uma_up_author'] },
  );
});

it('mikro-orm upsert: em.upsertMany([entities]) with unique property — the found row gives its id', async () => {
  await pair.compare(
    async (side) => {
      await seedAuthors(side);
      const as = [author({ email: 'a1', age: 41 }), author({ email: 'a2', age: 42 }), author({ email: 'a3', age: 43 })];
      await upsert(side, Author, as);
      return { objects: as };
    },
    { tables: ['uma_up_author'] },
  );
});

it('mikro-orm upsert: em.upsert(entity) — a property the entity leaves undefined is hydrated from the row', async () => {
  const journals: Record<string, unknown[]> = {};
  await pair.compare(
    async (side) => {
      await seedAuthors(side);
      const a = author({ email: 'a1', age: 50 });
      if (side.mode === 'orm') await side.em.upsert(a);
      else await bulkUpsert(side.em, Author, [a]);
      journals[side.mode] = [...journal.entries];
      return { objects: [a] };
    },
    // MikroORM 6's em.upsert gives beforeUpsert the payload it sends (a plain object) as the
    // entity; bulkUpsert gives the entity on both majors, as 7 does (docs/differences.md, "By
    // version"): the journals are compared apart below on 6.
    { tables: ['uma_up_author'], ignoreJournal: mikroOrmMajor === 6 },
  );
  const before = (entries: unknown[] | undefined) => entries?.find((e) => Array.isArray(e) && e[0] === 'beforeUpsert');
  expect(before(journals.cohort)).toEqual(['beforeUpsert', { entity: 'Author', key: 'a1' }]);
  expect(before(journals.orm)).toEqual(['beforeUpsert', { entity: mikroOrmMajor === 6 ? 'Object' : 'Author', key: 'a1' }]);
  expect(journals.cohort?.slice(1)).toEqual(journals.orm?.slice(1));
});

it('mikro-orm upsert: advanced options (onConflictMergeFields) — only the merge fields are updated', async () => {
  await pair.compare(
    async (side) => {
      await seedAuthors(side);
      const as = [author({ email: 'a1', age: 41, nickname: 'changed' }), author({ email: 'a2', age: 42, nickname: 'two' })];
      await upsert(side, Author, as, { onConflictFields: ['email'], onConflictMergeFields: ['age'] });
      return { objects: as };
    },
    { tables: ['uma_up_author'] },
  );
});

it('mikro-orm upsert: advanced options (onConflictExcludeFields) — the excluded fields keep their stored values', async () => {
  await pair.compare(
    async (side) => {
      await seedAuthors(side);
      const as = [author({ email: 'a1', age: 41, nickname: 'changed' }), author({ email: 'a3', age: 43, nickname: 'three' })];
      await upsert(side, Author, as, { onConflictFields: ['email'], onConflictExcludeFields: ['nickname'] });
      return { objects: as };
    },
    { tables: ['uma_up_author'] },
  );
});

it('mikro-orm upsert: em.upsertMany with batching — 250 rows in batches of 100', async () => {
  await pair.compare(
    async (side) => {
      await seedAuthors(side);
      const as = Array.from({ length: 250 }, (_, i) => author({ email: `a${i + 1}`, age: i }));
      await upsert(side, Author, as, { onConflictFields: ['email'], batchSize: 100 });
      // Every object carries its own row's key. Which serial value a new row draws differs: cohort cuts
      // an array of several batches in conflict-key order (no deadlock between concurrent callers,
      // docs/differences.md "Concurrent upserts and updates"), upsertMany in input order.
      const stored = await side.query<{ id: number; email: string }>(`SELECT id, email FROM "${side.schema}".uma_up_author`);
      const idOf = new Map(stored.map((r) => [r.email, r.id]));
      expect(as.map((a) => a.id)).toEqual(as.map((a) => idOf.get(a.email)));
      return { value: as.map((a) => ({ id: a.id, email: a.email, age: a.age, nickname: a.nickname })) };
    },
    { tables: [{ table: 'uma_up_author', orderBy: 'email' }], mask: ['id'], ignoreJournal: true },
  );
});

it('mikro-orm upsert: unique composite property with a to-one (update additional prop)', async () => {
  await pair.compare(
    async (side) => {
      await side.query(`INSERT INTO "${side.schema}".uma_up_author (id, email) VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')`);
      await side.query(
        `INSERT INTO "${side.schema}".uma_up_foo_bar (id, name, author_id, prop_name) VALUES (7, 'fb1', 1, 'old')`,
      );
      const authors = await side.em.find(Author, {}, { orderBy: { id: 'asc' } });
      const fbs = [1, 2, 3].map((n) =>
        Object.assign(new FooBar(), { name: `fb${n}`, author: authors[n - 1], propName: `val ${n}` }),
      );
      await upsert(side, FooBar, fbs, { onConflictFields: ['name', 'author'] });
      return { objects: fbs };
    },
    { tables: ['uma_up_author', 'uma_up_foo_bar'] },
  );
});

it('mikro-orm upsert: GH4153 mapping PKs after upsert based on unique properties, input out of key order', async () => {
  await pair.compare(
    async (side) => {
      await side.query(
        `INSERT INTO "${side.schema}".uma_up_pairkey (uniq1, uniq2, name) VALUES (1, 1, 'first'), (2, 1, 'second')`,
      );
      const e1 = Object.assign(new PairKey(), { uniq1: 1, uniq2: 1, name: 'first updated' });
      const e2 = Object.assign(new PairKey(), { uniq1: 2, uniq2: 1, name: 'second updated' });
      const e3 = Object.assign(new PairKey(), { uniq1: 3, uniq2: 1, name: 'third' });
      await upsert(side, PairKey, [e2, e3, e1], { onConflictFields: ['uniq1', 'uniq2'] });
      return { objects: [e1, e2, e3] };
    },
    { tables: ['uma_up_pairkey'] },
  );
});

it('mikro-orm upsert: GH7344 a persist:false property is not written, on insert or update', async () => {
  await pair.compare(
    async (side) => {
      const es = [
        Object.assign(new WithVirtual(), { id: 10, name: 'first', virtualField: 'nope' }),
        Object.assign(new WithVirtual(), { id: 11, name: 'second', virtualField: 'nope' }),
      ];
      await upsert(side, WithVirtual, es);
      const again = [Object.assign(new WithVirtual(), { id: 10, name: 'updated', virtualField: 'still nope' })];
      await upsert(side, WithVirtual, again);
      return { objects: [...es, ...again] };
    },
    { tables: ['uma_up_virtual'] },
  );
});

it('mikro-orm upsert: GH7399 an entity with constructor defaults (key, timestamp) inserts them', async () => {
  await pair.compare(
    async (side) => {
      const u = Object.assign(new CtorUser(), { email: 'foo@bar.com', name: 'test' });
      await upsert(side, CtorUser, [u], { onConflictFields: ['email'] });
      return { objects: [u] };
    },
    { tables: ['uma_up_ctor_user'], mask: ['id', 'pk'] },
  );
});

/**
 * MikroORM 6's em.upsert()/upsertMany() run no `onCreate` (7 does, GH7399): an entity whose key and a
 * not-null column come from it is refused by PostgreSQL there. bulkUpsert runs `onCreate` on both
 * majors (docs/differences.md, "By version"); on 6 its outcome is checked on its own.
 */
async function onCreateOn6(run: (side: MikroOrmSide) => Promise<OnCreateUser[]>, stored: Record<string, unknown>[]) {
  const refError = await run(pair.reference()).catch((e: unknown) => e);
  expect(String(refError)).toMatch(/null value in column "id"/);
  const users = await run(pair.subject());
  for (const u of users) expect(u.id).toMatch(/^[0-9a-f-]{36}$/);
  const rows = await pair
    .subject()
    .query(`SELECT id, email, name, created_at FROM "${pair.subject().schema}".uma_up_oncreate_user ORDER BY email`);
  expect(rows).toEqual(stored.map((row, i) => ({ id: users[i]?.id ?? expect.any(String), ...row })));
}

it('mikro-orm upsert: GH7399 an entity whose key and timestamp come from onCreate gets them', async () => {
  if (mikroOrmMajor === 6) {
    const run = async (side: MikroOrmSide) => {
      const us = [
        Object.assign(new OnCreateUser(), { email: 'bar@bar.com', name: 'test' }),
        Object.assign(new OnCreateUser(), { email: 'baz@bar.com', name: 'test 2' }),
      ];
      await upsert(side, OnCreateUser, us, { onConflictFields: ['email'] });
      return us;
    };
    const at = new Date('2024-05-06T07:08:09Z');
    await onCreateOn6(run, [
      { email: 'bar@bar.com', name: 'test', created_at: at },
      { email: 'baz@bar.com', name: 'test 2', created_at: at },
    ]);
    return;
  }
  await pair.compare(
    async (side) => {
      const us = [
        Object.assign(new OnCreateUser(), { email: 'bar@bar.com', name: 'test' }),
        Object.assign(new OnCreateUser(), { email: 'baz@bar.com', name: 'test 2' }),
      ];
      await upsert(side, OnCreateUser, us, { onConflictFields: ['email'] });
      for (const u of us) expect(u.id).toMatch(/^[0-9a-f-]{36}$/);
      return { objects: us };
    },
    { tables: [{ table: 'uma_up_oncreate_user', orderBy: 'email' }], mask: ['id', 'pk'] },
  );
});

it('mikro-orm upsert: GH7399 an existing row found by its unique property keeps its stored key', async () => {
  if (mikroOrmMajor === 6) {
    const run = async (side: MikroOrmSide) => {
      await side.query(
        `INSERT INTO "${side.schema}".uma_up_oncreate_user (id, created_at, email, name) VALUES ('00000000-0000-4000-8000-000000000001', '2020-01-01', 'bar@bar.com', 'old')`,
      );
      const u = Object.assign(new OnCreateUser(), { email: 'bar@bar.com', name: 'new' });
      await upsert(side, OnCreateUser, [u], { onConflictFields: ['email'] });
      return [u];
    };
    await onCreateOn6(run, [{ email: 'bar@bar.com', name: 'new', created_at: new Date('2020-01-01T00:00:00Z') }]);
    expect(
      (await pair.subject().query<{ id: string }>(`SELECT id FROM "${pair.subject().schema}".uma_up_oncreate_user`))[0]?.id,
    ).toBe('00000000-0000-4000-8000-000000000001');
    return;
  }
  await pair.compare(
    async (side) => {
      await side.query(
        `INSERT INTO "${side.schema}".uma_up_oncreate_user (id, created_at, email, name) VALUES ('00000000-0000-4000-8000-000000000001', '2020-01-01', 'bar@bar.com', 'old')`,
      );
      const u = Object.assign(new OnCreateUser(), { email: 'bar@bar.com', name: 'new' });
      await upsert(side, OnCreateUser, [u], { onConflictFields: ['email'] });
      return { objects: [u] };
    },
    { tables: ['uma_up_oncreate_user'] },
  );
});

it('mikro-orm upsert: GH3787 JSON values (object, array, string) are serialized as on insert', async () => {
  await pair.compare(
    async (side) => {
      const ds = [
        Object.assign(new Doc(), { id: 1, data: { foo: 'bar', n: [1, 2] } }),
        Object.assign(new Doc(), { id: 2, data: ['a', { b: 1 }] }),
        Object.assign(new Doc(), { id: 3, data: 'plain' }),
      ];
      await upsert(side, Doc, ds);
      const again = [Object.assign(new Doc(), { id: 1, data: { foo: 'baz' } })];
      await upsert(side, Doc, again);
      return { objects: [...ds, ...again] };
    },
    { tables: ['uma_up_doc'] },
  );
});

it('mikro-orm upsert: GH4786 every column in the key — inserted once, found the second time, key and default returned', async () => {
  await pair.compare(
    async (side) => {
      const first = Object.assign(new Permission(), { subject: 'User', action: 'read' });
      await upsert(side, Permission, [first], { onConflictFields: ['subject', 'action'] });
      const second = Object.assign(new Permission(), { subject: 'User', action: 'read' });
      await upsert(side, Permission, [second], { onConflictFields: ['subject', 'action'] });
      const [stored] = await side.query<{ created_at: Date }>(`SELECT created_at FROM "${side.schema}".uma_up_permission`);
      expect(first.createdAt).toEqual(stored?.created_at);
      // docs/differences.md: em.upsert() of a found key-only row gives it its key but not the
      // row's database default; cohort's object carries what its row holds.
      if (side.mode === 'orm') expect(second.createdAt).toBeUndefined();
      else expect(second.createdAt).toEqual(stored?.created_at);
      return { objects: [first, { id: second.id, subject: second.subject, action: second.action }] };
    },
    { tables: ['uma_up_permission'], mask: ['createdAt', 'created_at'] },
  );
});

it('mikro-orm upsert: upsert-managed — upserting a managed entity updates it in place', async () => {
  await pair.compare(
    async (side) => {
      const user1 = author({ id: 1, email: 'foo', age: 1 });
      side.em.persist(user1);
      await side.em.flush();
      user1.email = 'bar';
      user1.age = 2;
      await upsert(side, Author, [user1], { onConflictFields: ['id'] });
      journal.record('flush after');
      await side.em.flush();
      const found = await side.em.findOneOrFail(Author, 1);
      return { objects: [user1], value: { same: found === user1 } };
    },
    { tables: ['uma_up_author'] },
  );
});
