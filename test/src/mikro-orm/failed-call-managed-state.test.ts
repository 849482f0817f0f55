// Review findings on failed MikroORM calls, compared with flush: (1) a loaded entity that a failed
// bulkUpsert found (its row updated, then rolled back) stays managed with its snapshot, so a following
// flush writes its pending change and never inserts it again; (2) a stored row of the call that is the
// new target of another row's inverse one-to-one of the same class is not taken for a new related
// entity: refused by name, as before, where flush clears the old partner's reference.
import { bulkSave, bulkUpsert } from '@cohort/mikro-orm';
import { Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'member' })
class Member {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
}

@Entity({ tableName: 'person' })
class Person {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(
    () => Person,
    (p) => p.partnerOf,
    { owner: true, nullable: true },
  )
  partner?: Person | null;
  @OneToOne(
    () => Person,
    (p) => p.partner,
  )
  partnerOf?: Person | null;
}

let own: OwnMikroOrm;
beforeAll(async () => {
  own = await ownMikroOrm('failed_call_managed', { entities: [Member, Person] });
});
afterAll(async () => {
  await own?.close();
});
const fork = () => own.orm.em.fork() as EntityManager;
const rows = async (table: string) => fork().execute(`select * from "${own.schema}"."${table}" order by id`);
const make = <T extends object>(cls: new () => T, values: Partial<T>): T => Object.assign(new cls(), values);

beforeEach(async () => {
  await fork().execute(`truncate "${own.schema}"."member", "${own.schema}"."person" restart identity cascade`);
});

describe('a loaded entity found by a failed bulkUpsert', () => {
  it('stays managed with its snapshot: the next flush writes its pending change and inserts nothing', async () => {
    const seed = fork();
    seed.persist(make(Member, { id: 1, name: 'm0' }));
    await seed.flush();
    const em = fork();
    const [m0] = (await em.find(Member, {})) as [Member];
    m0.name = 'm0x';
    // The second batch is too long for its column: the call fails after the first batch found m0.
    const error = await bulkUpsert(em, Member, [m0, make(Member, { id: 5, name: 'y'.repeat(60) })], {
      batchSize: 1,
      validate: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(await rows('member')).toEqual([{ id: 1, name: 'm0' }]);
    expect(em.getUnitOfWork().getById(Member, 1)).toBe(m0);
    expect(m0.name).toBe('m0x');
    // What a flush of the same change writes: the UPDATE of the loaded row, no INSERT.
    await em.flush();
    expect(await rows('member')).toEqual([{ id: 1, name: 'm0x' }]);
    await em.flush();
    expect(await rows('member')).toEqual([{ id: 1, name: 'm0x' }]);
  });
});

describe('a stored row of the call as the new inverse one-to-one target of another row, same class', () => {
  it('flush clears the old partner; bulkSave refuses by name and writes nothing', async () => {
    const seed = fork();
    const [a, b, c] = ['a', 'b', 'c'].map((name, i) => make(Person, { id: i + 1, name })) as [Person, Person, Person];
    c.partner = a;
    seed.persist([a, b, c]);
    await seed.flush();
    const stored = await rows('person');

    const load = async (em: EntityManager) =>
      (await em.find(Person, {}, { populate: ['partner', 'partnerOf'], orderBy: { id: 'asc' } })) as Person[];
    const flushEm = fork();
    const [fa, fb] = (await load(flushEm)) as [Person, Person, Person];
    fa.partnerOf = fb;
    await flushEm.flush();
    const flushed = await rows('person');
    expect(flushed.map((r) => [r.name, r.partner_id])).toEqual([
      ['a', null],
      ['b', 1],
      ['c', null],
    ]);

    await fork().execute(`update "${own.schema}"."person" set partner_id = null`);
    await fork().execute(`update "${own.schema}"."person" set partner_id = 1 where id = 3`);
    expect(await rows('person')).toEqual(stored);
    const em = fork();
    const [pa, pb] = (await load(em)) as [Person, Person, Person];
    pa.partnerOf = pb;
    const error = (await bulkSave(em, Person, [pa, pb]).catch((e: unknown) => e)) as { name?: string; feature?: string };
    expect(error?.name).toBe('UnsupportedFeatureError');
    expect(await rows('person')).toEqual(stored);
  });
});
