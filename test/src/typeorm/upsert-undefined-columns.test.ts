// bulkUpsert against TypeORM's own upsert (`repository.upsert`, one entity per call: what one row's
// upsert does) on equal inputs in two schemas: rows, objects afterwards and the hook log. SPEC §8:
// an upsert never overwrites a column the input leaves undefined, per row; an entity with nothing
// to update (key-only, or keyed by its relation) is upserted, not refused by PostgreSQL.
import { createSchema } from '@cohort/pg-harness';
import { type BulkResult, bulkUpsert } from '@cohort/typeorm';
import {
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  JoinColumn,
  type ObjectLiteral,
  OneToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
  type UpdateEvent,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, expect, inject, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { normalizeRecord } from '../harness/normalize.js';

@Entity('up_member')
@Unique('up_member_email_unique', ['email'])
class Member {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 60 }) email!: string;
  @Column({ type: 'varchar', length: 40, nullable: true }) name?: string | null;
  @Column({ type: 'integer', nullable: true }) score?: number | null;
  @Column({ type: 'varchar', length: 20, default: 'new' }) status?: string;
}

/** Nothing but its key. */
@Entity('up_tag')
class Tag {
  @PrimaryColumn({ type: 'varchar', length: 40 }) name!: string;
}

@Entity('up_owner')
class Owner {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
}

/** Keyed by its relation: the join column is the primary key and the only column. */
@Entity('up_owner_flag')
class OwnerFlag {
  @PrimaryColumn({ type: 'integer' }) ownerId!: number;
  @OneToOne(() => Owner)
  @JoinColumn({ name: 'ownerId' })
  owner!: Owner;
}

const keyOf = (entity: ObjectLiteral) => String(entity.email ?? entity.name ?? entity.ownerId ?? entity.label);

/** One schema, its DataSource and what its subscriber saw (`event:key`, update events with their columns). */
interface Side {
  ds: DataSource;
  hooks: string[];
  drop: () => Promise<void>;
}

async function openSide(prefix: string): Promise<Side> {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, prefix);
  const hooks: string[] = [];
  @EventSubscriber()
  class Recorder implements EntitySubscriberInterface {
    beforeInsert(e: InsertEvent<ObjectLiteral>) {
      hooks.push(`beforeInsert:${keyOf(e.entity)}`);
    }
    afterInsert(e: InsertEvent<ObjectLiteral>) {
      hooks.push(`afterInsert:${keyOf(e.entity)}`);
    }
    afterUpdate(e: UpdateEvent<ObjectLiteral>) {
      hooks.push(`afterUpdate:${keyOf(e.entity ?? {})}:${e.updatedColumns.map((c) => c.propertyPath).join(',')}`);
    }
  }
  const ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Member, Tag, Owner, OwnerFlag],
    subscribers: [Recorder],
    synchronize: true,
  });
  await ds.initialize();
  return { ds, hooks, drop: schema.drop };
}

const strategy = forcedStrategy;
let reference: Side;
let subject: Side;

beforeAll(async () => {
  [reference, subject] = await Promise.all([openSide('uupref'), openSide('uupsub')]);
});
afterAll(async () => {
  for (const side of [reference, subject]) {
    await side?.ds.destroy();
    await side?.drop();
  }
});
beforeEach(async () => {
  for (const side of [reference, subject]) {
    const tables = ['up_member', 'up_tag', 'up_owner_flag', 'up_owner'].map((t) => `"${side.ds.driver.schema}"."${t}"`);
    await side.ds.query(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
    side.hooks.length = 0;
  }
});

const rows = (side: Side, table: string) =>
  side.ds.query(`SELECT * FROM "${side.ds.driver.schema}"."${table}" ORDER BY 1`) as Promise<Record<string, unknown>[]>;

/** The ORM's own path: `repository.upsert` of each entity, in input order. */
async function ormUpsert<E extends ObjectLiteral>(side: Side, target: new () => E, entities: E[], conflictPaths: string[]) {
  for (const entity of entities) await side.ds.getRepository(target).upsert(entity, { conflictPaths });
}

/** The same rows and objects on both sides, the same before-hooks; after-hooks per outcome (typeorm#8811). */
async function expectSameOutcome<E extends ObjectLiteral>(
  table: string,
  refEntities: E[],
  subEntities: E[],
  result: BulkResult<E>,
): Promise<void> {
  expect(await rows(subject, table)).toEqual(await rows(reference, table));
  expect(subEntities.map((e) => normalizeRecord(e))).toEqual(refEntities.map((e) => normalizeRecord(e)));
  const before = (hooks: string[]) => hooks.filter((h) => h.startsWith('before'));
  expect(before(subject.hooks)).toEqual(before(reference.hooks));
  // TypeORM's upsert fires afterInsert for every row; cohort the event of what happened, none for an unchanged row.
  expect(reference.hooks.filter((h) => h.startsWith('after'))).toEqual(refEntities.map((e) => `afterInsert:${keyOf(e)}`));
  const expected = subEntities.flatMap((e, i) => (result.outcomes[i] === 'inserted' ? [`afterInsert:${keyOf(e)}`] : []));
  expect(subject.hooks.filter((h) => h.startsWith('afterInsert'))).toEqual(expected);
}

it('bulkUpsert never overwrites a column the input leaves undefined', async () => {
  const seed = (side: Side) =>
    side.ds.getRepository(Member).insert([
      { email: 'a@x', name: 'A', score: 1, status: 'old' },
      { email: 'b@x', name: 'B', score: 2, status: 'old' },
    ]);
  await Promise.all([seed(reference), seed(subject)]);
  for (const side of [reference, subject]) side.hooks.length = 0;
  // Row by row: a gives score only, b name only, c is new with score undefined (its default), d is
  // new with nothing but its key.
  const input = () => [
    Object.assign(new Member(), { email: 'a@x', score: 10 }),
    Object.assign(new Member(), { email: 'b@x', name: 'B2' }),
    Object.assign(new Member(), { email: 'c@x', name: 'C' }),
    Object.assign(new Member(), { email: 'd@x' }),
  ];
  const [refEntities, subEntities] = [input(), input()];
  await ormUpsert(reference, Member, refEntities, ['email']);
  const result = await bulkUpsert(subject.ds, Member, subEntities, { strategy });

  expect(result.outcomes).toEqual(['updated', 'updated', 'inserted', 'inserted']);
  expect(await rows(subject, 'up_member')).toEqual([
    { id: 1, email: 'a@x', name: 'A', score: 10, status: 'old' },
    { id: 2, email: 'b@x', name: 'B2', score: 2, status: 'old' },
    { id: 5, email: 'c@x', name: 'C', score: null, status: 'new' },
    { id: 6, email: 'd@x', name: null, score: null, status: 'new' },
  ]);
  await expectSameOutcome('up_member', refEntities, subEntities, result);
  // Each updated row's event lists what it wrote.
  expect(subject.hooks.filter((h) => h.startsWith('afterUpdate'))).toEqual(['afterUpdate:a@x:score', 'afterUpdate:b@x:name']);
});

it('bulkUpsert never overwrites a column the input leaves undefined: a found row giving nothing to update is unchanged', async () => {
  const seed = (side: Side) => side.ds.getRepository(Member).insert([{ email: 'a@x', name: 'A', score: 1 }]);
  await Promise.all([seed(reference), seed(subject)]);
  for (const side of [reference, subject]) side.hooks.length = 0;
  const input = () => [Object.assign(new Member(), { email: 'a@x' }), Object.assign(new Member(), { email: 'n@x' })];
  const [refEntities, subEntities] = [input(), input()];
  await ormUpsert(reference, Member, refEntities, ['email']);
  const result = await bulkUpsert(subject.ds, Member, subEntities, { strategy });

  expect(result).toMatchObject({ inserted: 1, updated: 0, unchanged: 1, outcomes: ['unchanged', 'inserted'] });
  expect(await rows(subject, 'up_member')).toMatchObject([
    { email: 'a@x', name: 'A', score: 1, status: 'new' },
    { email: 'n@x' },
  ]);
  await expectSameOutcome('up_member', refEntities, subEntities, result);
  expect(subject.hooks.filter((h) => h.startsWith('afterUpdate'))).toEqual([]);
});

it('bulkUpsert of a key-only entity inserts the new rows and leaves the found ones unchanged', async () => {
  const tags = (...names: string[]) => names.map((name) => Object.assign(new Tag(), { name }));
  // On an empty table first, then again with one row found.
  for (const names of [
    ['a', 'b'],
    ['b', 'c'],
  ]) {
    for (const side of [reference, subject]) side.hooks.length = 0;
    const [refEntities, subEntities] = [tags(...names), tags(...names)];
    await ormUpsert(reference, Tag, refEntities, ['name']);
    const result = await bulkUpsert(subject.ds, Tag, subEntities, { strategy });
    expect(result.outcomes).toEqual(names[0] === 'a' ? ['inserted', 'inserted'] : ['unchanged', 'inserted']);
    await expectSameOutcome('up_tag', refEntities, subEntities, result);
  }
  expect(await rows(subject, 'up_tag')).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
});

it('bulkUpsert of an entity whose primary key is its relation id inserts the new rows and leaves the found ones unchanged', async () => {
  for (const side of [reference, subject]) {
    await side.ds.getRepository(Owner).insert([{ label: 'o1' }, { label: 'o2' }, { label: 'o3' }]);
  }
  const flags = (...ids: number[]) =>
    ids.map((id) => Object.assign(new OwnerFlag(), { ownerId: id, owner: Object.assign(new Owner(), { id }) }));
  for (const ids of [
    [1, 2],
    [2, 3],
  ]) {
    for (const side of [reference, subject]) side.hooks.length = 0;
    const [refEntities, subEntities] = [flags(...ids), flags(...ids)];
    await ormUpsert(reference, OwnerFlag, refEntities, ['ownerId']);
    const result = await bulkUpsert(subject.ds, OwnerFlag, subEntities, { strategy });
    expect(result.outcomes).toEqual(ids[0] === 1 ? ['inserted', 'inserted'] : ['unchanged', 'inserted']);
    await expectSameOutcome('up_owner_flag', refEntities, subEntities, result);
  }
  expect(await rows(subject, 'up_owner_flag')).toEqual([{ ownerId: 1 }, { ownerId: 2 }, { ownerId: 3 }]);
});

it('bulkUpsert never overwrites a column the input leaves undefined, nor counts it as changed with skipUpdateIfNoValuesChanged', async () => {
  const seed = (side: Side) => side.ds.getRepository(Member).insert([{ email: 'a@x', name: 'A', score: 1 }]);
  await Promise.all([seed(reference), seed(subject)]);
  for (const side of [reference, subject]) side.hooks.length = 0;
  // a gives its stored score and leaves name undefined: nothing it gives differs, so it is not rewritten.
  const input = () => [Object.assign(new Member(), { email: 'a@x', score: 1 }), Object.assign(new Member(), { email: 'n@x' })];
  const [refEntities, subEntities] = [input(), input()];
  for (const entity of refEntities) {
    await reference.ds.getRepository(Member).upsert(entity, { conflictPaths: ['email'], skipUpdateIfNoValuesChanged: true });
  }
  const result = await bulkUpsert(subject.ds, Member, subEntities, { skipUpdateIfNoValuesChanged: true, strategy });
  expect(result.outcomes).toEqual(['unchanged', 'inserted']);
  expect(await rows(subject, 'up_member')).toEqual(await rows(reference, 'up_member'));
  expect(subEntities.map((e) => normalizeRecord(e))).toEqual(refEntities.map((e) => normalizeRecord(e)));
  expect(subject.hooks.filter((h) => h.startsWith('afterUpdate'))).toEqual([]);
});
