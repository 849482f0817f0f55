// A stored row whose inverse one-to-one target is replaced by a new one while it had a stored target
// (`holder.card = newCard`, the old card loaded): what persist + flush does, measured. Flush first
// writes the old targets, in an early step of its own: with a nullable foreign key it clears each
// old target's reference (one UPDATE per old target, between that target's beforeUpdate and
// afterUpdate), with orphanRemoval it deletes them (their beforeDelete events, one DELETE, their
// afterDelete events), and with a NOT NULL foreign key its UPDATE fails and the flush rolls back;
// then it inserts the new targets with the rows' keys. Cohort's calls are compared with it in
// replaced-inverse-one-to-one-writes.test.ts; here, the NOT NULL case, which cohort refuses by name
// (`cascade insert`, Holder.pass) before anything is written, and the way round its message gives.
import { bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { Badge, Card, Holder, type Holders, holdersOrm, log, make, managed, Pass, replaced, seed } from './one-to-one-holders.js';

let h: Holders;
beforeAll(async () => {
  h = await holdersOrm('rinv');
});
afterAll(async () => {
  await h?.own.close();
});
beforeEach(async () => {
  await h.truncate();
});
const opts = (batchSize?: number) => ({
  ...(forcedStrategy ? { strategy: forcedStrategy } : {}),
  ...(batchSize ? { batchSize } : {}),
});

describe('a stored row given a new inverse one-to-one target while it had one: persist + flush, measured', () => {
  it("nullable foreign key: flush first clears each old target's reference (its UPDATE between its update events), then inserts the new ones", async () => {
    await seed(h.fork(), 'card', Card);
    const em = h.fork();
    const { holders, olds } = await replaced(em, 'card', Card);
    // Assigning the new target cleared the old one's reference on the object (MikroORM's propagation).
    expect(olds.map((o) => o.holder)).toEqual([null, null]);
    log.length = 0;
    em.persist(holders);
    await em.flush();
    expect(log).toEqual([
      'beforeUpdate Card old0',
      'update card',
      'afterUpdate Card old0',
      'beforeUpdate Card old2',
      'update card',
      'afterUpdate Card old2',
      'beforeCreate Card new0',
      'beforeCreate Card new1',
      'beforeCreate Card new2',
      'insert card',
      'afterCreate Card new0',
      'afterCreate Card new1',
      'afterCreate Card new2',
    ]);
    expect((await h.tables()).card).toEqual([
      { id: 1, name: 'old0', holder_id: null },
      { id: 2, name: 'old2', holder_id: null },
      { id: 3, name: 'new0', holder_id: 1 },
      { id: 4, name: 'new1', holder_id: 2 },
      { id: 5, name: 'new2', holder_id: 3 },
    ]);
    // The old targets stay managed, their reference cleared; a following flush sends nothing.
    expect(olds.map((o) => managed(em, o))).toEqual([true, true]);
    log.length = 0;
    await em.flush();
    expect(log).toEqual([]);
  });

  it('orphanRemoval: flush first deletes the old targets (their delete events, one DELETE), then inserts the new ones', async () => {
    await seed(h.fork(), 'badge', Badge);
    const em = h.fork();
    const { holders, olds } = await replaced(em, 'badge', Badge);
    log.length = 0;
    em.persist(holders);
    await em.flush();
    expect(log).toEqual([
      'beforeDelete Badge old0',
      'beforeDelete Badge old2',
      'delete badge',
      'afterDelete Badge old0',
      'afterDelete Badge old2',
      'beforeCreate Badge new0',
      'beforeCreate Badge new1',
      'beforeCreate Badge new2',
      'insert badge',
      'afterCreate Badge new0',
      'afterCreate Badge new1',
      'afterCreate Badge new2',
    ]);
    expect((await h.tables()).badge.map((r) => (r as { name: string }).name)).toEqual(['new0', 'new1', 'new2']);
    // The old targets are out of the identity map; a following flush sends nothing.
    expect(olds.map((o) => managed(em, o))).toEqual([false, false]);
    log.length = 0;
    await em.flush();
    expect(log).toEqual([]);
  });

  it('NOT NULL foreign key: flush fails on the first clearing UPDATE and rolls back, every table unchanged', async () => {
    await seed(h.fork(), 'pass', Pass);
    const em = h.fork();
    const { holders } = await replaced(em, 'pass', Pass);
    const before = await h.tables();
    log.length = 0;
    em.persist(holders);
    await expect(em.flush()).rejects.toThrow(/null value in column "holder_id"/);
    expect(log).toEqual(['beforeUpdate Pass old0', 'update pass']);
    expect(await h.tables()).toEqual(before);
  });

  for (const [method, batchSize] of [
    ['bulkSave', undefined],
    ['bulkSave', 1],
    ['bulkUpdate', undefined],
    ['bulkUpdate', 1],
  ] as const) {
    it(`NOT NULL foreign key, ${method}${batchSize ? ', one holder per batch' : ''}: refused by name at the first holder that had one (cascade insert, Holder.pass), every table unchanged`, async () => {
      await seed(h.fork(), 'pass', Pass);
      const em = h.fork();
      const { holders, olds } = await replaced(em, 'pass', Pass);
      // h1 (no old target) first: with one holder per batch, its batch is written before h0's is refused.
      const input = [holders[1], holders[0], holders[2]];
      const before = await h.tables();
      log.length = 0;
      const call = method === 'bulkSave' ? bulkSave : bulkUpdate;
      const error = await call(em, Holder, input as Holder[], opts(batchSize)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'cascade insert', entityName: 'Holder', property: 'pass', index: 1 });
      expect((error as Error).message).toMatch(
        /had another Pass \(pass\): flush first clears that one's reference, which fails on its NOT NULL column \(holder_id\)/,
      );
      // h1's batch (one holder per batch) rolled back with the rest; no statement for the refused batch.
      expect(await h.tables()).toEqual(before);
      expect(log.filter((entry) => /^(update|delete) /.test(entry))).toEqual([]);
      expect(olds.map((o) => managed(em, o))).toEqual([true, true]);
    });
  }

  it('an old card given to another holder (its reference not cleared): refused by name (cascade insert, Holder.card), every table unchanged', async () => {
    await seed(h.fork(), 'card', Card);
    const em = h.fork();
    const { holders, olds } = await replaced(em, 'card', Card);
    // h1 takes h0's old card: its reference is h1 now, not cleared.
    (holders[1] as Holder).card = olds[0] as Card;
    expect(olds[0]?.holder).toBe(holders[1]);
    const before = await h.tables();
    const error = await bulkSave(em, Holder, [holders[0] as Holder], opts()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'cascade insert', entityName: 'Holder', property: 'card', index: 0 });
    expect((error as Error).message).toMatch(
      /had another Card \(card\) whose own reference \(`holder`\) is not cleared on the object/,
    );
    expect(await h.tables()).toEqual(before);
  });

  it('NOT NULL foreign key: the way round the message gives (the old passes removed and flushed, then the call) writes the new ones', async () => {
    await seed(h.fork(), 'pass', Pass);
    const em = h.fork();
    const holders = await em.find(Holder, {}, { populate: ['pass'], orderBy: { id: 'asc' } });
    em.remove(holders.flatMap((holder) => (holder.pass ? [holder.pass] : [])));
    await em.flush();
    for (const [at, holder] of holders.entries()) holder.pass = make(Pass, { name: `new${at}` }) as Pass;
    const result = await bulkSave(em, Holder, holders, opts());
    expect(result.byEntity).toMatchObject({ Pass: { inserted: 3, updated: 0 } });
    expect((await h.tables()).pass).toEqual([
      { id: 3, name: 'new0', holder_id: 1 },
      { id: 4, name: 'new1', holder_id: 2 },
      { id: 5, name: 'new2', holder_id: 3 },
    ]);
    log.length = 0;
    await em.flush();
    expect(log).toEqual([]);
  });
});
