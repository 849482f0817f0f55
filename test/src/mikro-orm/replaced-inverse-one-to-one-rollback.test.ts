// A stored holder's replaced inverse one-to-one target (`holder.ticket = newTicket`, the old ticket
// loaded, its foreign key nullable): the call clears the old tickets' reference with a call of its own
// on its transaction before inserting the new ones (replaced-inverse-one-to-one-writes.test.ts).
// Here: that call of its own is the only one that joins the transaction — another cohort call on the
// same EntityManager while it runs writes in its own, and its row stays when the first call rolls
// back — and when the first call fails after it, the old tickets get back what its UPDATE put on them
// (version, onUpdate date), so that the flush after it writes to them what flush alone writes.
// Its errors are told in the call's terms (the holder's row and batch), and only cohort's own words
// are rewritten for it: a hook's message naming a batch stays as the hook wrote it, and a stale
// version's message lists the rows its `indices` hold.
// Default and COPY (`COHORT_STRATEGY=copy`).
import { BulkHookError, bulkInsert, bulkSave, OptimisticLockError } from '@cohort/mikro-orm';
import { Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'owner' })
class Owner {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(
    () => Ticket,
    (ticket) => ticket.owner,
  )
  ticket?: Ticket | null;
}

/** A nullable foreign key, a version and an onUpdate date: what the clearing UPDATE changes. */
@Entity({ tableName: 'ticket' })
class Ticket {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({ version: true, type: 'integer' }) version!: number;
  @Property({ type: 'integer', onUpdate: () => stamp.next }) stamp = 0;
  @OneToOne(() => Owner, { nullable: true, owner: true }) owner?: Owner | null;
}

@Entity({ tableName: 'other' })
class Other {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
}

// The onUpdate value (a counter rather than a date, so that two runs compare equal).
const stamp = { next: 1 };
// A failing hook (`afterCreate new2`; the old tickets' beforeUpdate with `failUpdate`), and a gate the
// old tickets' beforeUpdate waits at.
const hooks: { fail?: string; failUpdate?: string; gate?: Promise<void>; entered?: () => void } = {};
const subscriber = {
  async beforeUpdate(event: { entity: object }) {
    if (event.entity instanceof Ticket && hooks.failUpdate) throw new Error(hooks.failUpdate);
    if (event.entity instanceof Ticket && hooks.gate) {
      hooks.entered?.();
      await hooks.gate;
    }
  },
  afterCreate(event: { entity: object }) {
    if ((event.entity as { name?: string }).name === hooks.fail) throw new Error(`injected at ${hooks.fail}`);
  },
};

let own: OwnMikroOrm;
beforeAll(async () => {
  own = await ownMikroOrm('rinvrb', { entities: [Owner, Ticket, Other], subscribers: [subscriber] });
});
afterAll(async () => {
  await own?.close();
});
const fork = () => own.orm.em.fork() as EntityManager;
const table = (name: string) => `"${own.schema}"."${name}"`;
const rows = (name: string) => fork().execute(`select * from ${table(name)} order by id`);
// One old ticket: flush's batched UPDATE of two versioned ones with an onUpdate value fails in
// MikroORM itself ("multiple assignments to same column").
const OLDS = [2];
const opts = forcedStrategy ? { strategy: forcedStrategy } : {};

beforeEach(async () => {
  Object.assign(hooks, { fail: undefined, failUpdate: undefined, gate: undefined, entered: undefined });
  stamp.next = 1;
  await fork().execute(`truncate ${['owner', 'ticket', 'other'].map(table).join(', ')} restart identity cascade`);
  // Owners o0, o1, o2, o2 with an old ticket old2.
  const em = fork();
  const owners = ['o0', 'o1', 'o2'].map((name) => Object.assign(new Owner(), { name }));
  for (const at of OLDS) em.persist(Object.assign(new Ticket(), { name: `old${at}`, owner: owners[at] }));
  em.persist(owners);
  await em.flush();
});

/** The stored owners loaded with their tickets, each given a new ticket `new<i>`. */
async function replaced(em: EntityManager) {
  const owners = await em.find(Owner, {}, { populate: ['ticket'], orderBy: { id: 'asc' } });
  const olds = owners.flatMap((owner) => (owner.ticket ? [owner.ticket] : []));
  for (const [at, owner] of owners.entries()) owner.ticket = Object.assign(new Ticket(), { name: `new${at}` });
  return { owners, olds };
}

// o2, persisted first with its old ticket, has the first key: by name, its row is 2 (batch 2 of one row each).
const byName = (owners: Owner[]) => owners.sort((a, b) => a.name.localeCompare(b.name));
const oldRows = (all: unknown[]) => all.filter((row) => (row as { name: string }).name.startsWith('old'));
const objects = (olds: Ticket[]) => olds.map(({ name, version, stamp, owner }) => ({ name, version, stamp, owner }));

describe('Owner.ticket (nullable foreign key, versioned old tickets)', () => {
  it('the call fails after the old tickets were cleared: they are as before it, and the flush after it writes what flush alone writes', async () => {
    // Flush alone.
    const alone = fork();
    const ref = await replaced(alone);
    stamp.next = 7;
    alone.persist(ref.owners);
    await alone.flush();
    const flushed = { tickets: oldRows(await rows('ticket')), olds: objects(ref.olds) };
    await fork().execute(`truncate ${['owner', 'ticket'].map(table).join(', ')} restart identity cascade`);
    const seed = fork();
    const owners = ['o0', 'o1', 'o2'].map((name) => Object.assign(new Owner(), { name }));
    for (const at of OLDS) seed.persist(Object.assign(new Ticket(), { name: `old${at}`, owner: owners[at] }));
    seed.persist(owners);
    await seed.flush();

    const em = fork();
    const { owners: loaded, olds } = await replaced(em);
    const before = { tickets: await rows('ticket'), olds: objects(olds) };
    hooks.fail = 'new2';
    stamp.next = 5;
    const error = await bulkSave(em, Owner, loaded, opts).catch((e: unknown) => e);
    hooks.fail = undefined;
    expect(error).toBeInstanceOf(BulkHookError);
    expect(await rows('ticket')).toEqual(before.tickets);
    // Version 1 and the stamp as loaded (the UPDATE's 2 and 5 put back), the reference cleared as assigning left it.
    expect(objects(olds)).toEqual(before.olds);
    expect(olds.map((old) => old.version)).toEqual([1]);
    stamp.next = 7;
    em.persist(loaded);
    await em.flush();
    // The old ticket's row as flush alone leaves it: version 2, the stamp of this flush, no owner.
    expect(oldRows(await rows('ticket'))).toEqual(flushed.tickets);
    expect(objects(olds)).toEqual(flushed.olds);
  });

  it("another call on the same EntityManager while the old tickets' UPDATE runs writes in its own transaction: its row stays when the first call rolls back", async () => {
    const em = fork();
    const { owners } = await replaced(em);
    let open!: () => void;
    const inside = new Promise<void>((resolve) => {
      hooks.entered = () => {
        hooks.entered = undefined;
        resolve();
      };
    });
    hooks.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    hooks.fail = 'new2';
    const first = bulkSave(em, Owner, owners, opts).catch((e: unknown) => e);
    await inside;
    hooks.gate = undefined;
    // Started while the first call's nested UPDATE waits in its beforeUpdate hook.
    const second = bulkInsert(em, Other, [Object.assign(new Other(), { name: 'unrelated' })], opts);
    const secondResult = await second;
    open();
    const error = await first;
    hooks.fail = undefined;
    expect(error).toBeInstanceOf(BulkHookError);
    expect(secondResult.inserted).toBe(1);
    expect(await rows('other')).toEqual([{ id: 1, name: 'unrelated' }]);
    // The first call left nothing.
    expect((await rows('ticket')).map((row) => (row as { name: string }).name)).toEqual(['old2']);
  });

  it("one owner per batch, the old ticket's beforeUpdate failing with a message that names batches: told at o2's row and batch, the hook's words as it wrote them", async () => {
    const em = fork();
    const owners = byName((await replaced(em)).owners);
    const before = await rows('ticket');
    hooks.failUpdate = 'not in batch 0 or batch 1';
    const error = await bulkSave(em, Owner, owners, { ...opts, batchSize: 1 }).catch((e: unknown) => e);
    hooks.failUpdate = undefined;
    expect(error).toBeInstanceOf(BulkHookError);
    expect(error).toMatchObject({ index: 2, batch: 2, relation: { entityName: 'Owner', property: 'ticket', target: 'Ticket' } });
    expect((error as Error).message).toBe(
      'Ticket reached through Owner.ticket (updated with the row): beforeUpdate hook failed at row 2: not in batch 0 or batch 1',
    );
    expect(await rows('ticket')).toEqual(before);
  });

  it("one owner per batch, the old ticket's version moved on since it was loaded: OptimisticLockError at o2's row and batch, its message listing the rows of its indices", async () => {
    const em = fork();
    const { owners, olds } = await replaced(em);
    byName(owners);
    const viaFlush = fork();
    const ref = await replaced(viaFlush);
    await fork().execute(`update ${table('ticket')} set version = version + 1`);
    const before = await rows('ticket');
    // flush refuses it too: MikroORM's own OptimisticLockError, nothing written.
    viaFlush.persist(ref.owners);
    await expect(viaFlush.flush()).rejects.toThrow(/optimistic lock/i);
    expect(await rows('ticket')).toEqual(before);

    const error = await bulkSave(em, Owner, owners, { ...opts, batchSize: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptimisticLockError);
    expect(error).toMatchObject({ index: 2, batch: 2, indices: [2], entities: olds });
    expect((error as Error).message).toMatch(/\(stale version\): rows 2$/);
    expect(await rows('ticket')).toEqual(before);
  });
});
