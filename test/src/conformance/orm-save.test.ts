// The harness proving itself: the ORM's own save run in the reference AND the subject schema
// must give identical outcomes, and the recorders must see what the fixtures promise.
import { describe, expect, inject, it } from 'vitest';
import { at, fullKitchen, nullKitchen } from '../fixtures/sample-data.js';
import {
  countStatements,
  describeConformance,
  EVENT_NAMES,
  expectSameOutcome,
  type OrmUnderTest,
  statements,
} from '../harness/conformance.js';
import { openOrmUnderTest } from '../harness/orm-under-test.js';

/** Builds equal inputs on both sides and saves them with the ORM's own save, reference first. */
async function ormSaveBoth(
  pair: { reference: () => OrmUnderTest; subject: () => OrmUnderTest },
  build: (side: OrmUnderTest) => object[],
): Promise<{ entitiesRef: object[]; entitiesSub: object[] }> {
  const entitiesRef = build(pair.reference());
  await pair.reference().ormSave(entitiesRef);
  const entitiesSub = build(pair.subject());
  await pair.subject().ormSave(entitiesSub);
  return { entitiesRef, entitiesSub };
}

describeConformance('orm save', (pair) => {
  const { subject, reference } = pair;

  it('Seed: plain columns', async () => {
    const saved = await ormSaveBoth(pair, (side) =>
      ['a', 'b', 'c'].map((label, i) => side.create('Seed', { qty: i + 1, label, createdAt: at(`2024-01-0${i + 1}T00:00:00Z`) })),
    );
    await expectSameOutcome(reference(), subject(), { tables: ['seed'], ...saved });

    expect(await subject().rows('seed')).toEqual([
      { id: 1, qty: 1, label: 'a', created_at: '2024-01-01T00:00:00.000Z' },
      { id: 2, qty: 2, label: 'b', created_at: '2024-01-02T00:00:00.000Z' },
      { id: 3, qty: 3, label: 'c', created_at: '2024-01-03T00:00:00.000Z' },
    ]);
    expect(saved.entitiesSub.map((e) => subject().objectState(e).id)).toEqual([1, 2, 3]);
    const inserts = statements(subject().sql, /^insert/i);
    expect(inserts.length).toBeGreaterThanOrEqual(1);
    expect(inserts.every((s) => /"seed"/.test(s.sql))).toBe(true);
    expect(inserts.flatMap((s) => s.params ?? [])).toEqual(expect.arrayContaining([1, 'a', 2, 'b', 3, 'c']));
  });

  it('Article: listener hooks change fields, subscribers and listenTo are recorded', async () => {
    const saved = await ormSaveBoth(pair, (side) => [
      side.create('Article', { title: 'Hello World' }),
      side.create('Seed', { qty: 9, label: 'between', createdAt: at('2024-01-01T00:00:00Z') }),
      side.create('Article', { title: 'Bulk Writes: Done Right' }),
    ]);
    const mask = ['createdAt', 'updatedAt', 'created_at', 'updated_at'];
    await expectSameOutcome(reference(), subject(), { tables: ['article', 'seed'], ...saved, mask });

    const orm = subject().orm;
    const names = EVENT_NAMES[orm];
    const rows = await subject().rows('article');
    expect(rows.map(({ title, slug, stamp, version }) => ({ title, slug, stamp, version }))).toEqual([
      { title: 'Hello World', slug: 'hello-world', stamp: 'hooked', version: 1 },
      { title: 'Bulk Writes: Done Right', slug: 'bulk-writes-done-right', stamp: 'hooked', version: 1 },
    ]);
    for (const row of rows) {
      expect(row.created_at).toMatch(/^\d{4}-/);
      expect(row.updated_at).toMatch(/^\d{4}-/);
    }

    const hooks = subject().hooks;
    const listener = hooks.filter((h) => h.source === 'listener');
    expect(listener.filter((h) => h.event === names.beforeInsert).map((h) => h.key)).toEqual([
      'Hello World',
      'Bulk Writes: Done Right',
    ]);
    expect(listener.filter((h) => h.event === names.afterInsert)).toEqual([
      expect.objectContaining({ key: 'Hello World', detail: { slug: 'hello-world', stamp: 'hooked', version: 1 } }),
      expect.objectContaining({
        key: 'Bulk Writes: Done Right',
        detail: { slug: 'bulk-writes-done-right', stamp: 'hooked', version: 1 },
      }),
    ]);
    // The listener runs before the subscribers, per entity.
    const firstArticle = hooks.filter((h) => h.key === 'Hello World' && h.event === names.beforeInsert);
    expect(firstArticle.map((h) => h.source)).toEqual(['listener', 'subscriber', 'article-subscriber']);

    const filtered = hooks.filter((h) => h.source === 'article-subscriber');
    expect(filtered.length).toBeGreaterThanOrEqual(4);
    expect(new Set(filtered.map((h) => h.entity))).toEqual(new Set(['Article']));
    const everything = hooks.filter((h) => h.source === 'subscriber');
    // Insert order across tables is the ORM's own (MikroORM's commit order puts Seed first).
    expect(
      everything
        .filter((h) => h.event === names.beforeInsert)
        .map((h) => h.entity)
        .sort(),
    ).toEqual(['Article', 'Article', 'Seed']);
    expect(everything.some((h) => h.entity === null && /Commit$/.test(h.event))).toBe(true);
    expect(countStatements(subject().sql, /^insert into "[^"]+"\."article"/i)).toBeGreaterThanOrEqual(1);
  });

  it('Article: update runs the before-update hook and bumps the version', async () => {
    for (const side of [reference(), subject()]) {
      const article = side.create('Article', { title: 'Draft' });
      await side.ormSave([article]);
      side.resetLogs();
      article.title = 'Final';
      await side.ormSave([article]);
    }
    const mask = ['createdAt', 'updatedAt', 'created_at', 'updated_at'];
    await expectSameOutcome(reference(), subject(), { tables: ['article'], mask, ignoreEvents: ['afterLoad', 'onLoad'] });
    expect(await subject().rows('article')).toMatchObject([{ title: 'Final', slug: 'draft', stamp: 'updated', version: 2 }]);
    const names = EVENT_NAMES[subject().orm];
    expect(
      subject()
        .hooks.filter((h) => h.source === 'listener')
        .map((h) => h.event),
    ).toEqual([names.beforeUpdate, names.afterUpdate]);
    expect(countStatements(subject().sql, /^update/i)).toBe(1);
  });

  it('Kitchen: every column kind, with values and with nulls', async () => {
    const saved = await ormSaveBoth(pair, (side) => [side.create('Kitchen', fullKitchen), side.create('Kitchen', nullKitchen)]);
    await expectSameOutcome(reference(), subject(), { tables: ['kitchen'], ...saved });
    const [full, nulls] = await subject().rows('kitchen');
    expect(full).toEqual({
      id: 1,
      name: 'full',
      small_int: 32000,
      int_val: -2147483648,
      big_int: '9007199254740993',
      numeric_val: '12345678.90',
      real_val: 1.5,
      double_val: fullKitchen.doubleVal,
      bool_val: true,
      char_val: 'abc',
      text_val: fullKitchen.textVal,
      uuid_val: fullKitchen.uuidVal,
      date_val: expect.anything(),
      time_val: '13:45:30',
      timestamp_val: expect.anything(),
      timestamptz_val: '2024-06-30T23:59:59.999Z',
      json_val: fullKitchen.jsonVal,
      jsonb_val: fullKitchen.jsonbVal,
      status: 'published',
      int_array: [1, -2, 3],
      text_array: fullKitchen.textArray,
      bytes: '\\x00017fff',
    });
    const [text] = await subject().query<{ date_val: string; timestamp_val: string }>(
      `SELECT date_val::text, timestamp_val::text FROM kitchen WHERE name = 'full'`,
    );
    expect(text).toEqual({ date_val: '2024-02-29', timestamp_val: expect.stringMatching(/^2024-01-0[12] \d\d:04:05.678$/) });
    expect(Object.entries(nulls as object).filter(([key, value]) => value !== null && key !== 'id' && key !== 'name')).toEqual(
      [],
    );
  });

  it('TypeormExtras: simple-array and simple-json (text columns)', async () => {
    const saved = await ormSaveBoth(pair, (side) => [
      side.create('TypeormExtras', { name: 'x', simpleArray: ['a', 'b'], simpleJson: { n: 1, s: 'two' } }),
      side.create('TypeormExtras', { name: 'y', simpleArray: null, simpleJson: null }),
    ]);
    await expectSameOutcome(reference(), subject(), { tables: ['typeorm_extras'], ...saved });
    expect(await subject().rows('typeorm_extras')).toEqual([
      { id: 1, name: 'x', simple_array: 'a,b', simple_json: '{"n":1,"s":"two"}' },
      { id: 2, name: 'y', simple_array: null, simple_json: null },
    ]);
  });

  it('Customer: embedded address columns', async () => {
    const saved = await ormSaveBoth(pair, (side) => [
      side.create('Customer', { name: 'Ada', address: { street: '1 Loop Rd', city: 'London', zip: 'N1' } }),
      side.create('Customer', { name: 'Bob', address: { street: '2 Main St', city: 'Paris', zip: null } }),
    ]);
    await expectSameOutcome(reference(), subject(), { tables: ['customer'], ...saved });
    expect(await subject().rows('customer')).toEqual([
      { id: 1, name: 'Ada', address_street: '1 Loop Rd', address_city: 'London', address_zip: 'N1' },
      { id: 2, name: 'Bob', address_street: '2 Main St', address_city: 'Paris', address_zip: null },
    ]);
    expect(subject().objectState(saved.entitiesSub[0] as object)).toMatchObject({
      address: { street: '1 Loop Rd', city: 'London', zip: 'N1' },
    });
  });

  it('Author, Profile, Book: many-to-one and one-to-one foreign keys', async () => {
    const saved = await ormSaveBoth(pair, (side) => {
      const profile = side.create('Profile', { bio: 'writes things' });
      const ada = side.create('Author', { name: 'Ada', profile });
      const bob = side.create('Author', { name: 'Bob', profile: null });
      return [
        side.create('Book', { title: 'Notes', author: ada }),
        side.create('Book', { title: 'Sketches', author: bob }),
        side.create('Book', { title: 'More Notes', author: ada }),
        ada,
        bob,
        profile,
      ];
    });
    await expectSameOutcome(reference(), subject(), { tables: ['profile', 'author', 'book'], ...saved });
    expect(await subject().query('SELECT name, profile_id IS NOT NULL AS has_profile FROM author ORDER BY name')).toEqual([
      { name: 'Ada', has_profile: true },
      { name: 'Bob', has_profile: false },
    ]);
    const books = await subject().query<{ title: string; author: string }>(
      'SELECT b.title, a.name AS author FROM book b JOIN author a ON a.id = b.author_id ORDER BY b.title',
    );
    expect(books).toEqual([
      { title: 'More Notes', author: 'Ada' },
      { title: 'Notes', author: 'Ada' },
      { title: 'Sketches', author: 'Bob' },
    ]);
    const [adaRow] = await subject().query<{ bio: string }>(
      'SELECT p.bio FROM author a JOIN profile p ON p.id = a.profile_id WHERE a.name = $1',
      ['Ada'],
    );
    expect(adaRow).toEqual({ bio: 'writes things' });
    expect(subject().objectState(saved.entitiesSub[0] as object)).toMatchObject({ title: 'Notes', author: expect.any(Number) });
  });

  it('Car and Truck: single-table inheritance', async () => {
    const saved = await ormSaveBoth(pair, (side) => [
      side.create('Car', { name: 'mini', seats: 4 }),
      side.create('Truck', { name: 'hauler', payload: 18000 }),
      side.create('Car', { name: 'van', seats: null }),
    ]);
    await expectSameOutcome(reference(), subject(), { tables: ['vehicle'], ...saved });
    const rows = await subject().query('SELECT name, kind, seats, payload FROM vehicle ORDER BY name');
    expect(rows).toEqual([
      { name: 'hauler', kind: 'truck', seats: null, payload: 18000 },
      { name: 'mini', kind: 'car', seats: 4, payload: null },
      { name: 'van', kind: 'car', seats: null, payload: null },
    ]);
  });

  it('Money: transformers / custom types', async () => {
    const saved = await ormSaveBoth(pair, (side) => [
      side.create('Money', { label: 'coffee', amount: 3.5, tags: ['food', 'daily'] }),
      side.create('Money', { label: 'rounding', amount: 0.1 + 0.2, tags: [] }),
      side.create('Money', { label: 'none', amount: 0, tags: null }),
    ]);
    await expectSameOutcome(reference(), subject(), { tables: ['money'], ...saved });
    expect(await subject().rows('money')).toEqual([
      { id: 1, label: 'coffee', amount_cents: 350, tags: 'food,daily' },
      { id: 2, label: 'rounding', amount_cents: 30, tags: '' },
      { id: 3, label: 'none', amount_cents: 0, tags: null },
    ]);
  });

  it('Defaults: the database fills undefined columns', async () => {
    const saved = await ormSaveBoth(pair, (side) => [
      side.create('Defaults', { label: 'all defaults' }),
      side.create('Defaults', { label: 'explicit', status: 'old', score: 1, flag: false, createdOn: at('2020-01-01T00:00:00Z') }),
    ]);
    await expectSameOutcome(reference(), subject(), {
      tables: ['defaults_fixture'],
      ...saved,
      mask: ['created_on', 'createdOn'],
    });
    const rows = await subject().rows('defaults_fixture');
    expect(rows).toEqual([
      { id: 1, label: 'all defaults', status: 'new', score: 7, created_on: expect.stringMatching(/^\d{4}-/), flag: true },
      { id: 2, label: 'explicit', status: 'old', score: 1, created_on: '2020-01-01T00:00:00.000Z', flag: false },
    ]);
  });

  it('UuidThing: database-generated uuid keys come back onto the objects', async () => {
    const saved = await ormSaveBoth(pair, (side) => ['one', 'two'].map((name) => side.create('UuidThing', { name })));
    await expectSameOutcome(reference(), subject(), {
      tables: [{ table: 'uuid_thing', orderBy: 'name' }],
      ...saved,
      mask: ['id', 'entityId'],
    });
    const rows = await subject().rows('uuid_thing', 'name');
    expect(saved.entitiesSub.map((e) => subject().objectState(e).id)).toEqual(rows.map((r) => r.id));
    expect(rows.every((r) => typeof r.id === 'string' && r.id.length === 36)).toBe(true);
  });

  it('IdentityThing: identity keys come back onto the objects', async () => {
    const saved = await ormSaveBoth(pair, (side) =>
      ['one', 'two', 'three'].map((name) => side.create('IdentityThing', { name })),
    );
    await expectSameOutcome(reference(), subject(), { tables: ['identity_thing'], ...saved });
    expect(saved.entitiesSub.map((e) => subject().objectState(e).id)).toEqual([1, 2, 3]);
  });

  it('Unique: plain insert; the unique constraint is enforced', async () => {
    const saved = await ormSaveBoth(pair, (side) => [
      side.create('Unique', { email: 'a@example.com', name: 'A', version: 1 }),
      side.create('Unique', { email: 'b@example.com', name: null, version: null }),
    ]);
    await expectSameOutcome(reference(), subject(), { tables: ['unique_fixture'], ...saved });
    await expect(subject().query(`INSERT INTO unique_fixture (email) VALUES ('a@example.com')`)).rejects.toThrow(
      /unique_fixture_email_unique/,
    );
  });

  it('the differential oracle notices a different row, object state or hook log', async () => {
    const seed = (side: OrmUnderTest, label: string) =>
      side.create('Seed', { qty: 1, label, createdAt: at('2024-01-01T00:00:00Z') });
    const ref = seed(reference(), 'same');
    await reference().ormSave([ref]);
    const sub = seed(subject(), 'other');
    await subject().ormSave([sub]);
    await expect(expectSameOutcome(reference(), subject(), { tables: ['seed'] })).rejects.toThrow(/rows of seed/);
    await expect(
      expectSameOutcome(reference(), subject(), { tables: [], entitiesRef: [ref], entitiesSub: [sub] }),
    ).rejects.toThrow(/object state/);
    await expect(expectSameOutcome(reference(), subject(), { tables: [] })).rejects.toThrow(/hook log/);
    reference().resetLogs();
    subject().resetLogs();
    subject().hooks.push({ orm: subject().orm, source: 'subscriber', event: 'beforeTransactionStart', entity: null });
    await expectSameOutcome(reference(), subject(), { tables: [], ignoreTransactionEvents: true });
  });

  it('tables are truncated and identities restarted before each test', async () => {
    for (const side of [reference(), subject()]) {
      expect(await side.rows('seed')).toEqual([]);
      expect(side.hooks).toEqual([]);
      expect(side.sql).toEqual([]);
      expect(side.schema).not.toBe(side === subject() ? reference().schema : subject().schema);
    }
  });
});

// The two entity sets must describe the same tables, or the adapters are not tested on equal terms.
describe('twin fixtures map identical tables', () => {
  it('typeorm and mikro-orm create the same columns and enum types', async () => {
    const url = inject('databaseUrl');
    const [typeorm, mikro] = await Promise.all([
      openOrmUnderTest('typeorm', url, 'ddl_t'),
      openOrmUnderTest('mikro-orm', url, 'ddl_m'),
    ]);
    try {
      const describeSchema = async (side: OrmUnderTest) => ({
        columns: await side.query(
          `SELECT table_name, column_name, data_type, udt_name, character_maximum_length AS length,
                  numeric_precision, numeric_scale, datetime_precision, is_nullable, is_identity, identity_generation,
                  replace(column_default, $1, '') AS column_default
             FROM information_schema.columns WHERE table_schema = $2 ORDER BY table_name, column_name`,
          [`${side.schema}.`, side.schema],
        ),
        enums: await side.query(
          `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text AS labels
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 GROUP BY t.typname`,
          [side.schema],
        ),
        primaryKeys: await side.query(
          `SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
             JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
            WHERE tc.table_schema = $1 AND tc.constraint_type = 'PRIMARY KEY' ORDER BY 1, 2`,
          [side.schema],
        ),
      });
      const [t, m] = await Promise.all([describeSchema(typeorm), describeSchema(mikro)]);
      expect(m.columns).toEqual(t.columns);
      expect(m.enums).toEqual(t.enums);
      expect(m.primaryKeys).toEqual(t.primaryKeys);
      expect(t.enums).toEqual([{ typname: 'kitchen_status_enum', labels: '{draft,published,archived}' }]);
    } finally {
      await Promise.all([typeorm.close(), mikro.close()]);
    }
  });
});
