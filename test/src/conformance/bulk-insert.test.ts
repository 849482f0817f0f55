// bulkInsert against the ORM's own save, scenario by scenario (SPEC §1, §3): the reference schema
// gets `save()` / `persist+flush`, the subject schema gets cohort's bulkInsert of equal inputs; rows,
// object state and the hook log must be identical, and cohort must send one INSERT per batch.
import {
  BulkDatabaseError,
  BulkHookError,
  type BulkResult,
  BulkValidationError,
  type InsertOptions,
  UniqueViolationError,
} from '@cohort/core';
import { expect, it } from 'vitest';
import { ARTICLE_HOOK_FAILS, type FixtureName, KitchenStatus } from '../fixtures/fixture-names.js';
import {
  countStatements,
  describeConformance,
  EVENT_NAMES,
  expectSameOutcome,
  FLUSH_EVENTS,
  type OrmUnderTest,
} from '../harness/conformance.js';

type Pair = { reference: () => OrmUnderTest; subject: () => OrmUnderTest };

/**
 * Builds equal inputs on both sides; each group is one call: `ormSave(group)` on the reference,
 * `bulkInsert(group)` on the subject.
 */
async function insertBoth(
  pair: Pair,
  build: (side: OrmUnderTest) => object[][],
  options?: InsertOptions,
  target?: FixtureName,
): Promise<{ entitiesRef: object[]; entitiesSub: object[]; results: BulkResult<object>[] }> {
  const groupsRef = build(pair.reference());
  for (const group of groupsRef) await pair.reference().ormSave(group);
  const groupsSub = build(pair.subject());
  const results: BulkResult<object>[] = [];
  for (const group of groupsSub) results.push(await pair.subject().bulkInsert(group, options, target));
  return { entitiesRef: groupsRef.flat(), entitiesSub: groupsSub.flat(), results };
}

const at = (iso: string) => new Date(iso);
const seed = (side: OrmUnderTest, i: number, label = `label ${i}`) =>
  side.create('Seed', { qty: i, label, createdAt: at(`2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`) });
const insertCount = (side: OrmUnderTest, table: string) =>
  countStatements(side.sql, new RegExp(`^((with .*)?insert into|copy) "[^"]+"\\."${table}"`, 'is'));

const fullKitchen = {
  name: 'full',
  smallInt: -32768,
  intVal: 2147483647,
  bigInt: '-9223372036854775808',
  numericVal: '99999999.99',
  realVal: -0.25,
  doubleVal: Math.PI,
  boolVal: false,
  charVal: 'xyz',
  textVal: 'tab\there, quote \' " backslash \\ newline\n unicode ✓ 😀',
  uuidVal: '9f1c2b7e-5a7d-4c1e-8f3a-0d2b6c4e8a10',
  dateVal: '2000-01-01',
  timeVal: '00:00:01',
  timestampVal: at('1999-12-31T23:59:59.999Z'),
  timestamptzVal: at('2038-01-19T03:14:07.000Z'),
  jsonVal: { deep: { list: [1, 2, { three: 'x\\y' }] }, empty: {} },
  jsonbVal: { 'quote"key': 'comma,value', n: null },
  status: KitchenStatus.Archived,
  intArray: [0, null, -5],
  textArray: ['{braces}', 'back\\slash', 'quote"d', null, ''],
  bytes: Buffer.from('héllo\u0000', 'utf8'),
};

describeConformance('bulkInsert', (pair) => {
  const { subject, reference } = pair;
  const mask = ['createdAt', 'updatedAt', 'created_at', 'updated_at'];

  it('Seed: equal to save(), keys back on the objects, one INSERT', async () => {
    const saved = await insertBoth(pair, (side) => [[0, 1, 2, 3, 4].map((i) => seed(side, i))]);
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: ['seed'],
      ...saved,
    });
    expect(saved.entitiesSub.map((e) => subject().objectState(e).id)).toEqual([1, 2, 3, 4, 5]);
    expect(saved.results[0]).toMatchObject({ inserted: 5, skipped: [], batches: 1 });
    expect(insertCount(subject(), 'seed')).toBe(1);
  });

  it("strategy 'copy': equal to save(), keys back, the COPY reported to the ORM's logger", async () => {
    const saved = await insertBoth(pair, (side) => [[0, 1, 2, 3, 4].map((i) => seed(side, i))], { strategy: 'copy' });
    await expectSameOutcome(reference(), subject(), { ignoreEvents: FLUSH_EVENTS, tables: ['seed'], ...saved });
    expect(saved.entitiesSub.map((e) => subject().objectState(e).id)).toEqual([1, 2, 3, 4, 5]);
    expect(countStatements(subject().sql, /^copy "[^"]+"\."seed"/i)).toBe(1);
    expect(countStatements(subject().sql, /^(with .*)?insert into/is)).toBe(0);
  });

  const listenerLog = () => {
    const names = EVENT_NAMES[subject().orm];
    return subject()
      .hooks.filter((h) => h.source === 'listener')
      .map((h) => `${h.event === names.beforeInsert ? 'before' : 'after'} ${h.key}`);
  };

  it('batches: one INSERT per batch; each batch runs before-hooks, INSERT, after-hooks, the next one prepared while its INSERT is in flight', async () => {
    const rows = [0, 1, 2, 3, 4].map((i) => subject().create('Article', { title: `t${i}` }));
    const result = await subject().bulkInsert(rows, { batchSize: 2 });
    expect(result).toMatchObject({ inserted: 5, batches: 3 });
    expect(insertCount(subject(), 'article')).toBe(3);
    expect((rows as { id: number }[]).map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    // Batch 2's before-hooks run while batch 1's INSERT is in flight, then batch 1's after-hooks.
    expect(listenerLog()).toEqual([
      'before t0',
      'before t1',
      'before t2',
      'before t3',
      'after t0',
      'after t1',
      'before t4',
      'after t2',
      'after t3',
      'after t4',
    ]);
  });

  it('pipeline: false: each batch finishes, after-hooks included, before the next one starts', async () => {
    const rows = [0, 1, 2, 3, 4].map((i) => subject().create('Article', { title: `t${i}` }));
    const result = await subject().bulkInsert(rows, { batchSize: 2, pipeline: false });
    expect(result).toMatchObject({ inserted: 5, batches: 3 });
    expect((rows as { id: number }[]).map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    expect(listenerLog()).toEqual([
      'before t0',
      'before t1',
      'after t0',
      'after t1',
      'before t2',
      'before t3',
      'after t2',
      'after t3',
      'before t4',
      'after t4',
    ]);
  });

  it('an async iterable runs batch by batch unless pipeline: true (a stream holds one batch at a time)', async () => {
    async function* stream(from: number) {
      for (let i = from; i < from + 3; i++) yield subject().create('Article', { title: `t${i}` });
    }
    const byDefault = await subject().bulkInsert(stream(0) as unknown as object[], { batchSize: 2 }, 'Article');
    expect(byDefault).toMatchObject({ inserted: 3, batches: 2 });
    expect(listenerLog()).toEqual(['before t0', 'before t1', 'after t0', 'after t1', 'before t2', 'after t2']);
    subject().resetLogs();
    const overlapping = await subject().bulkInsert(stream(3) as unknown as object[], { batchSize: 2, pipeline: true }, 'Article');
    expect(overlapping).toMatchObject({ inserted: 3, batches: 2 });
    expect(listenerLog()).toEqual(['before t3', 'before t4', 'before t5', 'after t3', 'after t4', 'after t5']);
  });

  it("an entity that refers to itself: a row whose parent is in the previous batch gets its key (batches never overlap; MikroORM: linked by its batch's UPDATE too, as flush)", async () => {
    const build = (side: OrmUnderTest) => {
      const roots = [0, 1].map((i) => side.create('Category', { name: `root ${i}`, parent: null }));
      const children = roots.map((parent, i) => side.create('Category', { name: `child ${i}`, parent }));
      return [[...roots, ...children]];
    };
    const saved = await insertBoth(pair, build, { batchSize: 2 }, 'Category');
    const names = EVENT_NAMES[subject().orm];
    // Rows and objects as save() leaves them. save() runs the whole call's hooks at once (cohort's
    // order is checked below), and inserts the children without parent, then updates them.
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: [...FLUSH_EVENTS, names.beforeInsert, names.afterInsert, names.beforeUpdate, names.afterUpdate],
      tables: ['category'],
      ...saved,
    });
    expect(await subject().rows('category', 'id')).toMatchObject([
      { name: 'root 0', parent_id: null },
      { name: 'root 1', parent_id: null },
      { name: 'child 0', parent_id: 1 },
      { name: 'child 1', parent_id: 2 },
    ]);
    // Batch by batch: the roots' after-hooks ran before the children's before-hooks.
    const log = subject()
      .hooks.filter((h) => h.source === 'subscriber' && h.entity === 'Category')
      .map((h) => `${h.event === names.beforeInsert ? 'before' : h.event === names.afterInsert ? 'after' : h.event} ${h.key}`);
    expect(log).toEqual([
      'before root 0',
      'before root 1',
      'after root 0',
      'after root 1',
      'before child 0',
      'before child 1',
      'after child 0',
      'after child 1',
      // MikroORM: as one flush of the input, whose extra update links every row whose parent it
      // inserts: the children's batch's UPDATE, with its update events (issue 22).
      ...(subject().orm === 'mikro-orm'
        ? ['beforeUpdate child 0', 'beforeUpdate child 1', 'afterUpdate child 0', 'afterUpdate child 1']
        : []),
    ]);
    const updates = (side: OrmUnderTest) =>
      side.hooks
        .filter((h) => h.entity === 'Category' && (h.event === names.beforeUpdate || h.event === names.afterUpdate))
        .map((h) => `${h.source} ${h.event} ${h.key}`)
        .sort();
    if (subject().orm === 'mikro-orm') expect(updates(subject())).toEqual(updates(reference()));
  });

  it('Article: hooks change fields before the write; listeners and subscribers logged as save() logs them', async () => {
    const saved = await insertBoth(pair, (side) => [
      [side.create('Article', { title: 'Hello World' }), side.create('Article', { title: 'Second Post' })],
    ]);
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: ['article'],
      ...saved,
      mask,
    });
    expect(await subject().rows('article')).toMatchObject([
      { title: 'Hello World', slug: 'hello-world', stamp: 'hooked', version: 1 },
      { title: 'Second Post', slug: 'second-post', stamp: 'hooked', version: 1 },
    ]);
    expect(insertCount(subject(), 'article')).toBe(1);
    for (const article of saved.entitiesSub as { createdAt: Date; version: number }[]) {
      expect(article.createdAt).toBeInstanceOf(Date);
      expect(article.version).toBe(1);
    }
  });

  it('Kitchen: every column kind round-trips, with values and with nulls', async () => {
    const nulls = Object.fromEntries(Object.keys(fullKitchen).map((key) => [key, null]));
    const saved = await insertBoth(pair, (side) => [
      [side.create('Kitchen', fullKitchen), side.create('Kitchen', { ...nulls, name: 'nulls' })],
    ]);
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: ['kitchen'],
      ...saved,
    });
    expect(insertCount(subject(), 'kitchen')).toBe(1);
  });

  it('Kitchen through unnest: columns with a binary form travel as binary arrays, the rest as text', async () => {
    const nulls = Object.fromEntries(Object.keys(fullKitchen).map((key) => [key, null]));
    const saved = await insertBoth(
      pair,
      (side) => [[side.create('Kitchen', fullKitchen), side.create('Kitchen', { ...nulls, name: 'nulls' })]],
      { strategy: 'unnest' },
    );
    await expectSameOutcome(reference(), subject(), { ignoreEvents: FLUSH_EVENTS, tables: ['kitchen'], ...saved });
    const [insert] = subject().sql.filter((s) => /^insert into "[^"]+"\."kitchen"/i.test(s.sql.trim()));
    const params = insert?.params ?? [];
    // name, smallint, integer, bigint, double precision, boolean, text and timestamptz as Buffers;
    // numeric, real, char(n), uuid, date, time, timestamp, json, enum, arrays and bytea as text.
    expect(params.filter((p) => Buffer.isBuffer(p))).toHaveLength(8);
    expect(params).toContainEqual([fullKitchen.numericVal, null]);
    expect(params).toContainEqual([fullKitchen.uuidVal, null]);
    expect(insert?.sql).toMatch(/\$\d+::integer\[\]/);
    expect(insert?.sql).toMatch(/\$\d+::text\[\]/);
  });

  // Documented improvement: MikroORM's flush does not quote array elements, so the string 'NULL'
  // becomes SQL NULL there; cohort stores what the array holds.
  it("a text[] element 'NULL' is stored as the string, not as NULL", async () => {
    const row = subject().create('Kitchen', { name: 'null-text', textArray: ['NULL', null, 'null'] });
    await subject().bulkInsert([row]);
    const [stored] = await subject().query<{ text_array: (string | null)[] }>(`SELECT text_array FROM kitchen`);
    expect(stored?.text_array).toEqual(['NULL', null, 'null']);
  });

  it('TypeormExtras: simple-array and simple-json', async () => {
    const saved = await insertBoth(pair, (side) => [
      [
        side.create('TypeormExtras', { name: 'x', simpleArray: ['a', 'b'], simpleJson: { n: 1 } }),
        side.create('TypeormExtras', { name: 'y', simpleArray: null, simpleJson: null }),
      ],
    ]);
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: ['typeorm_extras'],
      ...saved,
    });
  });

  it('Customer: embedded columns', async () => {
    const saved = await insertBoth(pair, (side) => [
      [
        side.create('Customer', { name: 'Ada', address: { street: '1 Loop Rd', city: 'London', zip: 'N1' } }),
        side.create('Customer', { name: 'Bob', address: { street: '2 Main St', city: 'Paris', zip: null } }),
      ],
    ]);
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: ['customer'],
      ...saved,
    });
  });

  it('Author, Profile, Book: join columns from related objects', async () => {
    const saved = await insertBoth(pair, (side) => {
      const profile = side.create('Profile', { bio: 'writes things' });
      const ada = side.create('Author', { name: 'Ada', profile });
      const bob = side.create('Author', { name: 'Bob', profile: null });
      return [
        [profile],
        [ada, bob],
        [
          side.create('Book', { title: 'Notes', author: ada }),
          side.create('Book', { title: 'Sketches', author: bob }),
          side.create('Book', { title: 'More Notes', author: ada }),
        ],
      ];
    });
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: ['profile', 'author', 'book'],
      ...saved,
    });
  });

  // Documented difference: save() sends one INSERT per child class (all cars, then all trucks);
  // cohort sends one INSERT for the mix, in input order, so generated ids follow the input.
  it('Car and Truck: single-table inheritance, one INSERT for the mix', async () => {
    const saved = await insertBoth(
      pair,
      (side) => [
        [
          side.create('Car', { name: 'mini', seats: 4 }),
          side.create('Truck', { name: 'hauler', payload: 18000 }),
          side.create('Car', { name: 'van', seats: null }),
        ],
      ],
      {},
      'Vehicle',
    );
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: [{ table: 'vehicle', orderBy: 'name' }],
      ...saved,
      mask: ['id', 'entityId'],
    });
    expect(insertCount(subject(), 'vehicle')).toBe(1);
    expect((saved.entitiesSub as { id: number }[]).map((v) => v.id)).toEqual([1, 2, 3]);
  });

  it('Money: transformers / custom types in both directions', async () => {
    const saved = await insertBoth(pair, (side) => [
      [
        side.create('Money', { label: 'coffee', amount: 3.5, tags: ['food', 'daily'] }),
        side.create('Money', { label: 'none', amount: 0, tags: null }),
      ],
    ]);
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: ['money'],
      ...saved,
    });
  });

  it('Defaults: undefined columns get the database default, also when other rows set them', async () => {
    const saved = await insertBoth(pair, (side) => [
      [
        side.create('Defaults', { label: 'all defaults' }),
        side.create('Defaults', {
          label: 'explicit',
          status: 'old',
          score: 1,
          flag: false,
          createdOn: at('2020-01-01T00:00:00Z'),
        }),
        side.create('Defaults', { label: 'some', score: 3 }),
      ],
    ]);
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: ['defaults_fixture'],
      ...saved,
      mask: ['created_on', 'createdOn'],
    });
    expect(insertCount(subject(), 'defaults_fixture')).toBe(1);
  });

  it('UuidThing and IdentityThing: generated keys come back onto the right objects', async () => {
    const saved = await insertBoth(pair, (side) => [
      ['one', 'two', 'three'].map((name) => side.create('UuidThing', { name })),
      ['one', 'two', 'three'].map((name) => side.create('IdentityThing', { name })),
    ]);
    await expectSameOutcome(reference(), subject(), {
      ignoreEvents: FLUSH_EVENTS,
      tables: [{ table: 'uuid_thing', orderBy: 'name' }, 'identity_thing'],
      ...saved,
      mask: ['id', 'entityId'],
    });
    const uuids = await subject().query<{ id: string; name: string }>('SELECT id, name FROM uuid_thing');
    for (const entity of saved.entitiesSub.slice(0, 3) as { id: string; name: string }[]) {
      expect(uuids.find((r) => r.name === entity.name)?.id).toBe(entity.id);
    }
    expect((saved.entitiesSub.slice(3) as { id: number }[]).map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('an empty input sends no statement and calls no hook', async () => {
    const result = await subject().bulkInsert([], {}, 'Seed');
    expect(result).toMatchObject({ inserted: 0, batches: 0, statements: 0 });
    expect(subject().sql).toEqual([]);
    expect(subject().hooks).toEqual([]);
  });

  it('a before-hook throwing at row k writes nothing and names row k', async () => {
    const articles = ['a', 'b', ARTICLE_HOOK_FAILS, 'd'].map((title) => subject().create('Article', { title }));
    const error = await subject()
      .bulkInsert(articles)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkHookError);
    expect(error).toMatchObject({ index: 2, entity: articles[2] });
    expect(await subject().rows('article')).toEqual([]);
    expect(insertCount(subject(), 'article')).toBe(0);
  });

  it('an invalid row k writes nothing; the error lists every failure with row and property', async () => {
    const rows = [seed(subject(), 1), seed(subject(), 2, 'x'.repeat(256)), seed(subject(), 3)];
    (rows[2] as { qty: unknown }).qty = 'three';
    const error = await subject()
      .bulkInsert(rows)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    const failures = (error as BulkValidationError).failures;
    expect(failures.map(({ index, property, constraint }) => ({ index, property, constraint }))).toEqual([
      { index: 1, property: 'label', constraint: 'maxLength' },
      { index: 2, property: 'qty', constraint: 'type' },
    ]);
    expect(failures[0]?.entity).toBe(rows[1]);
    expect(await subject().rows('seed')).toEqual([]);
    expect(insertCount(subject(), 'seed')).toBe(0);
  });

  it("onInvalid: 'skip' writes the valid rows and reports the others", async () => {
    const rows = [seed(subject(), 1), seed(subject(), 2, 'x'.repeat(300)), seed(subject(), 3)];
    const result = await subject().bulkInsert(rows, { onInvalid: 'skip' });
    expect(result.inserted).toBe(2);
    expect(result.skipped).toEqual([expect.objectContaining({ index: 1, reason: 'invalid', entity: rows[1] })]);
    expect((await subject().rows('seed')).map((r) => r.qty)).toEqual([1, 3]);
  });

  it("strategy 'copy' with onInvalid: 'skip': the keys drawn ahead land on the valid rows, in order", async () => {
    const rows = [1, 2, 3, 4, 5].map((i) => seed(subject(), i, i % 2 === 0 ? 'x'.repeat(300) : `s${i}`));
    const result = await subject().bulkInsert(rows, { onInvalid: 'skip', strategy: 'copy' });
    expect(result.inserted).toBe(3);
    expect(result.skipped.map((s) => s.index)).toEqual([1, 3]);
    const stored = await subject().rows('seed');
    const kept = [rows[0], rows[2], rows[4]].map((r) => subject().objectState(r as object));
    // Each object carries the key of the row holding its values; keys ascend in input order.
    expect(kept.map((o) => [o.id, o.qty])).toEqual(stored.map((r) => [r.id, r.qty]));
    expect(stored.map((r) => r.qty)).toEqual([1, 3, 5]);
    expect([...kept.map((o) => o.id as number)].sort((a, b) => a - b)).toEqual(kept.map((o) => o.id));
    expect(countStatements(subject().sql, /^copy "[^"]+"\."seed"/i)).toBe(1);
    // Five keys were drawn for the batch before validation refused two rows: those two are a gap.
    const next = seed(subject(), 6);
    await subject().bulkInsert([next], { strategy: 'copy' });
    expect(subject().objectState(next).id).toBe(6);
  });

  it('a key draw that fails (sequence exhausted) is a typed error for the batch, and nothing is written', async () => {
    await subject().bulkInsert([seed(subject(), 1)], { strategy: 'copy' });
    await subject().query('ALTER SEQUENCE seed_id_seq MAXVALUE 3');
    try {
      const rows = [2, 3, 4, 5].map((i) => seed(subject(), i));
      const error = await subject()
        .bulkInsert(rows, { strategy: 'copy' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkDatabaseError);
      expect(error).toMatchObject({ code: '2200H', batch: 0 });
      expect((error as Error).message).toMatch(/maximum value of sequence/);
      expect((await subject().rows('seed')).map((r) => r.qty)).toEqual([1]);
    } finally {
      await subject().query('ALTER SEQUENCE seed_id_seq NO MAXVALUE');
    }
  });

  it('a unique violation at row k leaves the table as it was and names row k and the constraint', async () => {
    await subject().bulkInsert([subject().create('Unique', { email: 'taken@example.com', name: 'first' })]);
    const before = await subject().rows('unique_fixture');
    const rows = ['a@example.com', 'b@example.com', 'taken@example.com', 'c@example.com'].map((email) =>
      subject().create('Unique', { email, name: 'n' }),
    );
    const error = await subject()
      .bulkInsert(rows)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ index: 2, entity: rows[2], constraint: 'unique_fixture_email_unique', code: '23505' });
    expect((error as Error).message).toMatch(/row 2/);
    expect((error as Error).cause).toMatchObject({ code: '23505' });
    expect(await subject().rows('unique_fixture')).toEqual(before);
  });

  it('batches overlapping: a unique violation in batch 0 is the error even when batch 1 was prepared meanwhile', async () => {
    await subject().bulkInsert([subject().create('Unique', { email: 'taken@example.com', name: 'first' })]);
    const before = await subject().rows('unique_fixture');
    // Batch 1 also holds an invalid row: the earlier batch's failure is reported, as batch by batch.
    const rows = ['a@example.com', 'taken@example.com', 'c@example.com', `${'x'.repeat(300)}@example.com`].map((email) =>
      subject().create('Unique', { email, name: 'n' }),
    );
    const error = await subject()
      .bulkInsert(rows, { batchSize: 2 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ batch: 0, index: 1, entity: rows[1] });
    expect(await subject().rows('unique_fixture')).toEqual(before);
  });

  it('batches overlapping: an invalid row in batch 1 fails the call after batch 0 was written, and nothing stays', async () => {
    const rows = [seed(subject(), 1), seed(subject(), 2), seed(subject(), 3, 'x'.repeat(256)), seed(subject(), 4)];
    const error = await subject()
      .bulkInsert(rows, { batchSize: 2 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    expect(error).toMatchObject({ batch: 1 });
    expect((error as BulkValidationError).failures.map((f) => [f.index, f.property])).toEqual([[2, 'label']]);
    expect(insertCount(subject(), 'seed')).toBe(1);
    expect(await subject().rows('seed')).toEqual([]);
  });

  it("batches overlapping, onInvalid: 'skip': results and progress count batch by batch, skipped rows in input order", async () => {
    const rows = [0, 1, 2, 3, 4].map((i) => seed(subject(), i, i % 2 ? 'x'.repeat(300) : `label ${i}`));
    const progress: { batch: number; processed: number; pending: number; skipped: number }[] = [];
    const result = await subject().bulkInsert(rows, {
      batchSize: 2,
      onInvalid: 'skip',
      onProgress: ({ batch, processed, pending, skipped }) => progress.push({ batch, processed, pending, skipped }),
    });
    expect(result).toMatchObject({ inserted: 3, batches: 3 });
    expect(result.skipped.map((s) => [s.index, s.reason])).toEqual([
      [1, 'invalid'],
      [3, 'invalid'],
    ]);
    expect(progress).toEqual([
      { batch: 1, processed: 2, pending: 1, skipped: 1 },
      { batch: 2, processed: 4, pending: 2, skipped: 2 },
      { batch: 3, processed: 5, pending: 3, skipped: 2 },
      { batch: 3, processed: 5, pending: 0, skipped: 2 },
    ]);
    expect((await subject().rows('seed')).map((r) => r.qty)).toEqual([0, 2, 4]);
  });

  it('two rows of one batch with the same unique key: the error names the second', async () => {
    const rows = ['a@example.com', 'dup@example.com', 'dup@example.com'].map((email) => subject().create('Unique', { email }));
    await expect(subject().bulkInsert(rows)).rejects.toMatchObject({ name: 'UniqueViolationError', index: 2 });
    expect(await subject().rows('unique_fixture')).toEqual([]);
  });

  it('100,000 entities insert in one call, keys on every object', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => seed(subject(), i));
    const result = await subject().bulkInsert(rows, { batchSize: 100_000 });
    expect(result).toMatchObject({ inserted: 100_000, batches: 1 });
    expect((rows as { id: number }[]).every((r, i) => r.id === i + 1)).toBe(true);
    const [count] = await subject().query<{ n: string }>('SELECT count(*) AS n FROM seed');
    expect(count?.n).toBe('100000');
    expect(insertCount(subject(), 'seed')).toBe(1);
  });

  it('hook log shape: every before-hook runs before the statement, after-hooks after it', async () => {
    await subject().bulkInsert(['x', 'y'].map((title) => subject().create('Article', { title })));
    const names = EVENT_NAMES[subject().orm];
    const events = subject()
      .hooks.filter((h) => h.source === 'listener')
      .map((h) => `${h.event}:${h.key}`);
    expect(events).toEqual([
      `${names.beforeInsert}:x`,
      `${names.beforeInsert}:y`,
      `${names.afterInsert}:x`,
      `${names.afterInsert}:y`,
    ]);
  });
});
