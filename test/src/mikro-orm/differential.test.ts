// bulkInsert vs em.persist() + em.flush(): same rows, same objects, same hook/subscriber log.
import { bulkInsert } from '@cohort/mikro-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { FixtureName } from '../fixtures/fixture-names.js';
import { mikroOrmFixtures } from '../fixtures/mikro-orm/index.js';
import { at, fullKitchen, nullKitchen } from '../fixtures/sample-data.js';
import { countStatements, expectSameOutcome, FLUSH_EVENTS, type SameOutcomeOptions } from '../harness/conformance.js';
import { type ManagedOrmUnderTest, openOrmUnderTest } from '../harness/orm-under-test.js';

// onCreate (new Date()) and gen_random_uuid() differ between two runs; compared by shape.
const MASK = ['createdAt', 'created_at', 'updatedAt', 'updated_at', 'createdOn', 'created_on', 'id'];

let reference: ManagedOrmUnderTest;
let subject: ManagedOrmUnderTest;

beforeAll(async () => {
  const url = inject('databaseUrl');
  [reference, subject] = await Promise.all([
    openOrmUnderTest('mikro-orm', url, 'mdiff_ref'),
    openOrmUnderTest('mikro-orm', url, 'mdiff_sub'),
  ]);
});
beforeEach(async () => {
  await Promise.all([reference.reset(), subject.reset()]);
});
afterAll(async () => {
  await Promise.all([reference?.close(), subject?.close()]);
});

type Row = [FixtureName, Record<string, unknown>];

/**
 * Builds the same entities on both sides; the reference saves them with persist + flush, the
 * subject with bulkInsert (one class per call, in the order given), then everything is compared.
 */
async function compare(
  tables: SameOutcomeOptions['tables'],
  build: (side: ManagedOrmUnderTest) => Row[],
  mask: readonly string[] = MASK,
) {
  const make = (side: ManagedOrmUnderTest) => build(side).map(([fixture, data]) => side.create(fixture, data) as object);
  const entitiesRef = make(reference);
  await reference.ormSave(entitiesRef);
  const entitiesSub = make(subject);
  const em = subject.native.em!;
  const groups = new Map<Function, object[]>();
  // One call per table, as flush groups STI subclasses with their root.
  for (const e of entitiesSub) {
    const root = em.getMetadata().get(e.constructor).root.class;
    groups.set(root, [...(groups.get(root) ?? []), e]);
  }
  for (const [cls, list] of groups) await bulkInsert(em, cls as new () => object, list);
  await expectSameOutcome(reference, subject, { tables, entitiesRef, entitiesSub, ignoreEvents: FLUSH_EVENTS, mask });
  return { entitiesRef, entitiesSub };
}

describe('bulkInsert matches persist + flush', () => {
  it('Kitchen: every column kind, values and nulls', async () => {
    await compare(['kitchen'], () => [
      ['Kitchen', fullKitchen],
      ['Kitchen', nullKitchen],
      ['Kitchen', { name: 'sparse', intVal: 7 }],
    ]);
    expect(countStatements(subject.sql, /^(insert|with)/i)).toBe(1);
  });

  it('Article: entity hooks that change fields, subscribers, onCreate dates and the version', async () => {
    const { entitiesSub } = await compare(['article'], () => [
      ['Article', { title: 'Hello World' }],
      ['Article', { title: 'Bulk Writes: Done Right' }],
    ]);
    expect(entitiesSub.map((a) => (a as { slug: string }).slug)).toEqual(['hello-world', 'bulk-writes-done-right']);
  });

  it('Customer: an inline embeddable', async () => {
    await compare(['customer'], () => [
      ['Customer', { name: 'c1', address: { street: 'Main 1', city: 'Oslo', zip: '0150' } }],
      ['Customer', { name: 'c2', address: { street: 'Side 2', city: 'Rome', zip: null } }],
    ]);
  });

  it('Author/Book: owning one-to-one and many-to-one join columns', async () => {
    for (const side of [reference, subject]) {
      const profiles = ['p1', 'p2'].map((bio) => side.create('Profile', { bio }));
      await side.ormSave(profiles);
      const authors = [
        side.create('Author', { name: 'a1', profile: profiles[0] }),
        side.create('Author', { name: 'a2', profile: null }),
      ];
      await side.ormSave(authors);
      side.resetLogs();
    }
    const authorsOf = async (side: ManagedOrmUnderTest) =>
      side.native.em!.find(mikroOrmFixtures.Author, {}, { orderBy: { name: 'asc' } });
    const [refAuthors, subAuthors] = await Promise.all([authorsOf(reference), authorsOf(subject)]);
    reference.resetLogs();
    subject.resetLogs();
    const authors = new Map([
      [reference, refAuthors],
      [subject, subAuthors],
    ]);
    await compare(['author', 'book'], (side) => [
      ['Book', { title: 'b1', author: authors.get(side)![0] }],
      ['Book', { title: 'b2', author: authors.get(side)![1] }],
      ['Book', { title: 'b3', author: authors.get(side)![0] }],
    ]);
  });

  it('Vehicle: single-table inheritance (discriminator from the class)', async () => {
    await compare(['vehicle'], () => [
      ['Car', { name: 'car1', seats: 4 }],
      ['Car', { name: 'car2', seats: null }],
      ['Truck', { name: 'truck1', payload: 1000 }],
    ]);
  });

  it('Money: custom types (euros as cents, comma-joined tags)', async () => {
    await compare(['money'], () => [
      ['Money', { label: 'm1', amount: 12.34, tags: ['a', 'b'] }],
      ['Money', { label: 'm2', amount: 0.1, tags: null }],
    ]);
  });

  it('TypeormExtras: custom types (text array and JSON text)', async () => {
    await compare(['typeorm_extras'], () => [
      ['TypeormExtras', { name: 'x1', simpleArray: ['p', 'q'], simpleJson: { k: [1, 2] } }],
      ['TypeormExtras', { name: 'x2', simpleArray: null, simpleJson: null }],
    ]);
  });

  it('Defaults: JS defaults and database defaults', async () => {
    await compare(['defaults_fixture'], () => [
      ['Defaults', { label: 'all defaults' }],
      ['Defaults', { label: 'explicit', status: 'old', score: 1, flag: false, createdOn: at('2020-01-01T00:00:00Z') }],
    ]);
  });

  it('UuidThing: a gen_random_uuid() primary key', async () => {
    const { entitiesSub } = await compare(
      [{ table: 'uuid_thing', orderBy: 'name' }],
      () => [
        ['UuidThing', { name: 'u1' }],
        ['UuidThing', { name: 'u2' }],
      ],
      [...MASK, 'entityId'],
    );
    expect((entitiesSub[0] as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('IdentityThing: an identity primary key', async () => {
    const { entitiesSub } = await compare(['identity_thing'], () => [
      ['IdentityThing', { name: 'i1' }],
      ['IdentityThing', { name: 'i2' }],
    ]);
    expect(entitiesSub.map((e) => (e as { id: number }).id)).toEqual([1, 2]);
  });

  it('Seed: explicit values keep their ids order; one INSERT for the batch', async () => {
    await compare(
      ['seed'],
      () =>
        ['a', 'b', 'c', 'd'].map((label, i): Row => ['Seed', { qty: i, label, createdAt: at(`2024-01-0${i + 1}T00:00:00Z`) }]),
      [],
    );
    expect(countStatements(subject.sql, /^(insert|with)/i)).toBe(1);
  });
});
