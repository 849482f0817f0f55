// A failed bulkRemove puts a removed entity back in the identity map under every key it was filed
// under, not only its primary key: MikroORM 7 also files a reference made by a non-key property
// (`em.getReference(User, email, { key: 'email' })`, what a `targetKey` relation's reference is)
// under that property's value, and unsetIdentity takes that entry out with the entity. Compared with
// em.remove() + flush failing at the same point, which leaves the entity out of the identity map
// (docs/differences.md, "Objects after a failed remove"). MikroORM 6 files entities by primary key
// only: there the reference is one by key, and the same comparison holds.
import { BulkHookError, bulkRemove } from '@cohort/mikro-orm';
import { AfterDelete, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mikroOrmMajor } from '../harness/mikro-orm-major.js';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

const failing = { on: false };

@Entity({ tableName: 'member' })
class Member {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40, unique: true }) email!: string;
  @Property({ type: 'string', length: 40 }) name!: string;
  @AfterDelete() failing() {
    if (failing.on) throw new Error('injected');
  }
}

let own: OwnMikroOrm;
beforeAll(async () => {
  own = await ownMikroOrm('failed_remove_alt', { entities: [Member] });
});
afterAll(async () => {
  await own?.close();
});
const fork = () => own.orm.em.fork() as EntityManager;
const rows = () => fork().execute(`select * from "${own.schema}".member order by id`);

beforeEach(async () => {
  failing.on = false;
  const em = fork();
  await em.execute(`truncate "${own.schema}".member`);
  em.create(Member, { id: 1, email: 'a@x', name: 'a' });
  await em.flush();
});

// The reference by email, given its id (a reference by key lacks it), as the call needs. MikroORM
// 7 gives such a reference no snapshot: a flush takes it for a new entity and fails on its missing
// name (MikroORM 6's reference by primary key is not written).
function reference(em: EntityManager): Member {
  const member: Member = mikroOrmMajor >= 7 ? byEmail(em) : em.getReference(Member, 1);
  member.id = 1;
  return member;
}

// MikroORM 7's reference by a non-key property (its option, unknown to 6's types).
const byEmail = (em: EntityManager): Member =>
  em.getReference(Member, 'a@x' as never, { key: 'email' } as never) as unknown as Member;

// Where the identity map files the entity: every key of its class's store that holds it.
function filed(em: EntityManager, member: Member): string[] {
  const map = em.getUnitOfWork().getIdentityMap();
  return map.keys().filter((key) => map.get(key) === member || key.includes('[email]'));
}

function withReference(): EntityManager {
  const em = fork();
  reference(em);
  return em;
}

const pendingFlush = (em: EntityManager) =>
  em.flush().then(
    () => 'written',
    (e: unknown) => String(e),
  );

describe('objects after a failed remove: alternate identity map keys', () => {
  it('a reference by email: flush leaves it out of the identity map, bulkRemove files it as before the call', async () => {
    const stored = await rows();
    // What a flush does with such a reference, without any call.
    const withoutCall = await pendingFlush(withReference());
    if (mikroOrmMajor >= 7) expect(withoutCall).toMatch(/Member.name is required/);
    else expect(withoutCall).toBe('written');

    // em.remove() + flush, failing after its DELETE: the reference is no longer filed under its email,
    // a reference by that email is a new object.
    const viaFlush = fork();
    const flushed = reference(viaFlush);
    const beforeFlush = filed(viaFlush, flushed);
    failing.on = true;
    viaFlush.remove(flushed);
    await expect(viaFlush.flush()).rejects.toThrow('injected');
    failing.on = false;
    expect(await rows()).toEqual(stored);
    expect(filed(viaFlush, flushed)).not.toEqual(beforeFlush);
    if (mikroOrmMajor >= 7) expect(byEmail(viaFlush)).not.toBe(flushed);

    // bulkRemove, failing at the same point: filed as before, under its email too.
    const em = fork();
    const member = reference(em);
    const before = filed(em, member);
    expect(before).toEqual(beforeFlush);
    if (mikroOrmMajor >= 7) expect(before.some((key) => key.endsWith('[email]a@x'))).toBe(true);
    failing.on = true;
    const error = await bulkRemove(em, Member, [member]).catch((e: unknown) => e);
    failing.on = false;
    expect(error).toBeInstanceOf(BulkHookError);
    expect(await rows()).toEqual(stored);
    expect(filed(em, member)).toEqual(before);
    if (mikroOrmMajor >= 7) expect(byEmail(em)).toBe(member);
    // The next flush does what it would have done without the call.
    expect(await pendingFlush(em)).toEqual(withoutCall);
    expect(await rows()).toEqual(stored);
  });
});
