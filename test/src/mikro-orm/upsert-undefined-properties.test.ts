// bulkUpsert against MikroORM's own upsert (`em.upsert`, one entity per call: what one row's upsert
// does) on equal inputs in two schemas: rows, objects afterwards, the identity map and the hook log.
// SPEC §8: an upsert never overwrites a property the input leaves undefined (per row); the object
// carries what its row holds afterwards — stored values of what it left undefined, `null` for what
// an insert left empty, the stored key of a row found by another unique key; and an entity with
// nothing to update is upserted, not refused by PostgreSQL.
import { randomUUID } from 'node:crypto';
import type { BulkResult } from '@cohort/core';
import { bulkUpsert } from '@cohort/mikro-orm';
import { type EntityManager, type EventArgs, type EventSubscriber, helper, type Opt } from '@mikro-orm/core';
import { Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { mikroOrmMajor } from '../harness/mikro-orm-major.js';
import { normalizeRecord, normalizeValue } from '../harness/normalize.js';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'up_member' })
class Member {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 60, unique: true }) email!: string;
  @Property({ type: 'string', length: 40, nullable: true }) name?: string | null;
  @Property({ type: 'integer', nullable: true }) score?: number | null;
  @Property({ type: 'string', length: 20, defaultRaw: `'new'` }) status?: string & Opt;
}

/** Its key comes from `onCreate`; found by its unique serial, the stored key is what it has. */
@Entity({ tableName: 'up_device' })
class Device {
  @PrimaryKey({ type: 'uuid', onCreate: () => randomUUID() }) id!: string & Opt;
  @Property({ type: 'string', length: 40, unique: true }) serial!: string;
  @Property({ type: 'string', length: 40, nullable: true }) label?: string | null;
  @Property({ type: 'datetime', columnType: 'timestamptz', onCreate: () => new Date() }) registeredAt!: Date & Opt;
}

/** Nothing but its key. */
@Entity({ tableName: 'up_tag' })
class Tag {
  @PrimaryKey({ type: 'string', length: 40 }) name!: string;
}

@Entity({ tableName: 'up_owner' })
class Owner {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) label!: string;
}

/** Keyed by its relation: the foreign key is the primary key and the only column. */
@Entity({ tableName: 'up_owner_flag' })
class OwnerFlag {
  @OneToOne({ entity: () => Owner, primary: true, owner: true }) owner!: Owner;
}

type Any = Record<string, unknown>;
const keyOf = (entity: object) => {
  const e = entity as Any;
  // MikroORM 6's em.upsert gives beforeUpsert the payload it sends, where the relation is its key.
  return String(e.email ?? e.serial ?? e.name ?? (e.owner as Any | undefined)?.id ?? e.owner);
};

/** Records the upsert events (with the key the entity has then) and the outcome events. */
class Recorder implements EventSubscriber {
  readonly seen: string[] = [];
  private record(event: string, args: EventArgs<object>) {
    this.seen.push(`${event}:${keyOf(args.entity)}:${JSON.stringify(normalizeValue(helper(args.entity).getPrimaryKey()))}`);
  }
  beforeUpsert(args: EventArgs<object>) {
    this.seen.push(`beforeUpsert:${keyOf(args.entity)}`);
  }
  afterUpsert(args: EventArgs<object>) {
    this.record('afterUpsert', args);
  }
  afterCreate(args: EventArgs<object>) {
    this.record('afterCreate', args);
  }
  afterUpdate(args: EventArgs<object>) {
    this.record('afterUpdate', args);
  }
}

interface Side {
  own: OwnMikroOrm;
  orm: MikroORM;
  recorder: Recorder;
  em: EntityManager;
}

const strategy = forcedStrategy;
let reference: Side;
let subject: Side;

async function openSide(prefix: string): Promise<Side> {
  const recorder = new Recorder();
  const own = await ownMikroOrm(prefix, { entities: [Member, Device, Tag, Owner, OwnerFlag], subscribers: [recorder] });
  return { own, orm: own.orm, recorder, em: own.orm.em.fork() };
}

beforeAll(async () => {
  [reference, subject] = await Promise.all([openSide('mupref'), openSide('mupsub')]);
});
afterAll(async () => {
  await reference?.own.close();
  await subject?.own.close();
});
beforeEach(async () => {
  for (const side of [reference, subject]) {
    const tables = ['up_member', 'up_device', 'up_tag', 'up_owner_flag', 'up_owner'].map((t) => `"${side.own.schema}"."${t}"`);
    await side.orm.em.fork().execute(`truncate ${tables.join(', ')} restart identity cascade`);
    side.em = side.orm.em.fork();
    side.recorder.seen.length = 0;
  }
});

const rows = (side: Side, table: string) =>
  side.orm.em.fork().execute(`select * from "${side.own.schema}"."${table}" order by 1`) as Promise<Any[]>;

/** The ORM's own path: `em.upsert` of each entity, in input order. */
async function ormUpsert<E extends object>(side: Side, entityName: new () => E, entities: E[], target: string[]) {
  for (const entity of entities) await side.em.upsert(entityName, entity, { onConflictFields: target as never });
}

/** Both sides hold what their rows hold, and a flush right after has nothing to send. */
function expectNothingToFlush(side: Side) {
  const uow = side.em.getUnitOfWork();
  uow.computeChangeSets();
  expect(uow.getChangeSets()).toEqual([]);
}

/**
 * The same rows and objects on both sides and the same upsert events (cohort runs the outcome's
 * events too: afterCreate for inserted rows, afterUpdate for updated ones, neither for unchanged).
 */
async function expectSameOutcome<E extends object>(
  table: string,
  refEntities: E[],
  subEntities: E[],
  result: BulkResult<E>,
  mask: (rowOrObject: Any) => Any = (x) => x,
): Promise<void> {
  expect((await rows(subject, table)).map(mask)).toEqual((await rows(reference, table)).map(mask));
  const state = (e: E) => mask(normalizeRecord(e));
  expect(subEntities.map(state)).toEqual(refEntities.map(state));
  // Keys onCreate made (random uuids) compare by shape; the fixed ones of the seed by value.
  const upsertEvents = (seen: string[]) =>
    seen
      .filter((s) => s.includes('Upsert:'))
      .map((s) => s.replace(/(?!00000000)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>'))
      .sort();
  expect(upsertEvents(subject.recorder.seen)).toEqual(upsertEvents(reference.recorder.seen));
  const outcomeEvents = subject.recorder.seen.filter((s) => !s.includes('Upsert:'));
  const expected = subEntities.flatMap((e, i) => {
    const outcome = result.outcomes[i];
    if (outcome === 'unchanged') return [];
    const id = JSON.stringify(normalizeValue(helper(e).getPrimaryKey()));
    return [`${outcome === 'inserted' ? 'afterCreate' : 'afterUpdate'}:${keyOf(e)}:${id}`];
  });
  expect(outcomeEvents.sort()).toEqual(expected.sort());
  expectNothingToFlush(reference);
  expectNothingToFlush(subject);
}

it('bulkUpsert never overwrites a property the input leaves undefined, and reads the stored value back onto the object', async () => {
  for (const side of [reference, subject]) {
    await side.orm.em.fork().insertMany(Member, [
      { email: 'a@x', name: 'A', score: 1, status: 'old' },
      { email: 'b@x', name: 'B', score: 2, status: 'old' },
      { email: 'e@x', name: 'E', score: 5, status: 'old' },
    ]);
  }
  // Row by row: a gives score only, b name only, e nothing but its key; c and d are new.
  const input = () => [
    Object.assign(new Member(), { email: 'a@x', score: 10 }),
    Object.assign(new Member(), { email: 'b@x', name: 'B2' }),
    Object.assign(new Member(), { email: 'c@x', name: 'C' }),
    Object.assign(new Member(), { email: 'd@x' }),
    Object.assign(new Member(), { email: 'e@x' }),
  ];
  const [refEntities, subEntities] = [input(), input()];
  await ormUpsert(reference, Member, refEntities, ['email']);
  const result = await bulkUpsert(subject.em, Member, subEntities, { target: ['email'], strategy });

  expect(result.outcomes).toEqual(['updated', 'updated', 'inserted', 'inserted', 'unchanged']);
  expect(await rows(subject, 'up_member')).toEqual([
    { id: 1, email: 'a@x', name: 'A', score: 10, status: 'old' },
    { id: 2, email: 'b@x', name: 'B2', score: 2, status: 'old' },
    { id: 3, email: 'e@x', name: 'E', score: 5, status: 'old' },
    { id: 6, email: 'c@x', name: 'C', score: null, status: 'new' },
    { id: 7, email: 'd@x', name: null, score: null, status: 'new' },
  ]);
  // What the rows hold is on the objects: stored values for what they left undefined.
  expect(subEntities.map((e) => normalizeRecord(e))).toEqual([
    { id: 1, email: 'a@x', name: 'A', score: 10, status: 'old' },
    { id: 2, email: 'b@x', name: 'B2', score: 2, status: 'old' },
    { id: 6, email: 'c@x', name: 'C', score: null, status: 'new' },
    { id: 7, email: 'd@x', name: null, score: null, status: 'new' },
    { id: 3, email: 'e@x', name: 'E', score: 5, status: 'old' },
  ]);
  await expectSameOutcome('up_member', refEntities, subEntities, result);
});

it('bulkUpsert hydrates the nullable properties an insert left unset as null, as em.upsert does', async () => {
  const input = () => [Object.assign(new Member(), { email: 'n@x', score: 3 }), Object.assign(new Member(), { email: 'm@x' })];
  const [refEntities, subEntities] = [input(), input()];
  await ormUpsert(reference, Member, refEntities, ['email']);
  const result = await bulkUpsert(subject.em, Member, subEntities, { target: ['email'], strategy });
  expect(result.outcomes).toEqual(['inserted', 'inserted']);
  expect(subEntities.map((e) => [e.name, e.score])).toEqual([
    [null, 3],
    [null, null],
  ]);
  await expectSameOutcome('up_member', refEntities, subEntities, result);
});

it('bulkUpsert with an update list reads what it did not write back onto a found row’s object, as em.upsert with onConflictMergeFields', async () => {
  for (const side of [reference, subject]) {
    await side.orm.em.fork().insertMany(Member, [{ email: 'a@x', name: 'A', score: 1, status: 'old' }]);
  }
  const input = () => [
    Object.assign(new Member(), { email: 'a@x', name: 'ignored', score: 10 }),
    Object.assign(new Member(), { email: 'b@x', name: 'B', score: 2 }),
  ];
  const [refEntities, subEntities] = [input(), input()];
  for (const entity of refEntities) {
    await reference.em.upsert(Member, entity, { onConflictFields: ['email'], onConflictMergeFields: ['score'] });
  }
  const result = await bulkUpsert(subject.em, Member, subEntities, { target: ['email'], update: ['score'], strategy });
  expect(result.outcomes).toEqual(['updated', 'inserted']);
  expect(subEntities[0]).toMatchObject({ name: 'A', score: 10, status: 'old' });
  await expectSameOutcome('up_member', refEntities, subEntities, result);
});

const ID1 = '00000000-0000-4000-8000-000000000001';
const ID3 = '00000000-0000-4000-8000-000000000003';
const T0 = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

/**
 * MikroORM 6's em.upsert runs no onCreate: for a Device it sends neither the key nor the date onCreate
 * makes, and PostgreSQL refuses the row (not-null). cohort runs onCreate on both majors, as 7's
 * em.upsert does: on 6 the subject is held to the outcome 7's em.upsert gives, without a reference.
 */
const withReference = mikroOrmMajor >= 7;

async function ormUpsertDevices(entities: Device[], missing: string) {
  if (withReference) await ormUpsert(reference, Device, entities, ['serial']);
  else await expect(ormUpsert(reference, Device, entities, ['serial'])).rejects.toThrow(`null value in column "${missing}"`);
}

async function seedDevice() {
  for (const side of [reference, subject]) {
    await side.orm.em.fork().insert(Device, { id: ID1, serial: 's1', label: 'L1', registeredAt: T0 });
  }
}

it('bulkUpsert on a unique key puts the found row’s stored key on an object whose key onCreate made, and a later flush updates that row', async () => {
  await seedDevice();
  const input = () => [
    Object.assign(new Device(), { serial: 's1', label: 'L2' }),
    Object.assign(new Device(), { serial: 's2', label: 'N' }),
  ];
  const [refEntities, subEntities] = [input(), input()];
  await ormUpsertDevices(refEntities, 'id');
  const result = await bulkUpsert(subject.em, Device, subEntities, { target: ['serial'], strategy });
  expect(result.outcomes).toEqual(['updated', 'inserted']);
  const pairs: [Side, Device[]][] = [[subject, subEntities]];
  if (withReference) pairs.unshift([reference, refEntities]);

  for (const [side, entities] of pairs) {
    const [found, created] = entities as [Device, Device];
    // The found row keeps its key and its onCreate value; the object carries both.
    expect(found.id).toBe(ID1);
    expect(found.registeredAt).toEqual(T0);
    // Managed under the key it carries.
    const managed = side.em.getUnitOfWork().getIdentityMap().values();
    expect(managed.map((e) => [e, helper(e).getSerializedPrimaryKey()])).toEqual([
      [found, ID1],
      [created, created.id],
    ]);
    const stored = await rows(side, 'up_device');
    expect(stored.map((r) => [r.id, r.serial, r.label])).toEqual([
      [ID1, 's1', 'L2'],
      [created.id, 's2', 'N'],
    ]);
  }
  // The new row's key and date are made per side: compared by shape.
  const mask = (x: Any) => (x.serial === 's2' ? { ...x, id: typeof x.id, registered_at: 'now', registeredAt: 'now' } : x);
  if (withReference) await expectSameOutcome('up_device', refEntities, subEntities, result, mask);
  else expectNothingToFlush(subject);

  for (const [side, entities] of pairs) {
    (entities[0] as Device).label = 'L3';
    await side.em.flush();
  }
  for (const [side] of pairs) expect((await rows(side, 'up_device')).map((r) => r.label)).toEqual(['L3', 'N']);
});

it('bulkUpsert on a unique key with an explicit, different key rewrites the found row’s key, as em.upsert does', async () => {
  await seedDevice();
  const input = () => [Object.assign(new Device(), { id: ID3, serial: 's1', label: 'L2' })];
  const [refEntities, subEntities] = [input(), input()];
  await ormUpsertDevices(refEntities, 'registered_at');
  const result = await bulkUpsert(subject.em, Device, subEntities, { target: ['serial'], strategy });
  expect(result.outcomes).toEqual(['updated']);
  expect((await rows(subject, 'up_device')).map((r) => [r.id, r.label])).toEqual([[ID3, 'L2']]);
  expect(subEntities[0]?.id).toBe(ID3);
  expect(subEntities[0]?.registeredAt).toEqual(T0);
  if (withReference) await expectSameOutcome('up_device', refEntities, subEntities, result);
  else expectNothingToFlush(subject);
});

it('bulkUpsert of a key-only entity inserts the new rows and leaves the found ones unchanged', async () => {
  const tags = (...names: string[]) => names.map((name) => Object.assign(new Tag(), { name }));
  // On an empty table first, then again with one row found.
  for (const names of [
    ['a', 'b'],
    ['b', 'c'],
  ]) {
    for (const side of [reference, subject]) {
      side.em = side.orm.em.fork();
      side.recorder.seen.length = 0;
    }
    const [refEntities, subEntities] = [tags(...names), tags(...names)];
    await ormUpsert(reference, Tag, refEntities, ['name']);
    const result = await bulkUpsert(subject.em, Tag, subEntities, { strategy });
    expect(result.outcomes).toEqual(names[0] === 'a' ? ['inserted', 'inserted'] : ['unchanged', 'inserted']);
    await expectSameOutcome('up_tag', refEntities, subEntities, result);
  }
  expect(await rows(subject, 'up_tag')).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
});

it('bulkUpsert of an entity whose primary key is its relation inserts the new rows and leaves the found ones unchanged', async () => {
  for (const side of [reference, subject]) {
    await side.orm.em.fork().insertMany(Owner, [{ label: 'o1' }, { label: 'o2' }, { label: 'o3' }]);
  }
  for (const ids of [
    [1, 2],
    [2, 3],
  ]) {
    const flags = (side: Side) => ids.map((id) => Object.assign(new OwnerFlag(), { owner: side.em.getReference(Owner, id) }));
    for (const side of [reference, subject]) {
      side.em = side.orm.em.fork();
      side.recorder.seen.length = 0;
    }
    const [refEntities, subEntities] = [flags(reference), flags(subject)];
    await ormUpsert(reference, OwnerFlag, refEntities, ['owner']);
    const result = await bulkUpsert(subject.em, OwnerFlag, subEntities, { strategy });
    expect(result.outcomes).toEqual(ids[0] === 1 ? ['inserted', 'inserted'] : ['unchanged', 'inserted']);
    await expectSameOutcome('up_owner_flag', refEntities, subEntities, result);
  }
  expect(await rows(subject, 'up_owner_flag')).toEqual([{ owner_id: 1 }, { owner_id: 2 }, { owner_id: 3 }]);
});
