// A stored row's new inverse one-to-one target while it had a stored one (`holder.card = newCard`,
// the old card loaded), cohort compared with persist + flush (measured in
// replaced-inverse-one-to-one.test.ts): the call writes flush's early step before the new targets'
// insert — with a nullable foreign key the old targets' reference cleared (a bulkUpdate of their
// class on the call's transaction: their update events, one UPDATE per batch where flush sends one
// per old target), with orphanRemoval the old targets deleted (a bulkRemove: their delete events,
// one DELETE) — then inserts the new ones with the rows' keys. Compared: every table's rows, the
// objects (the old targets' reference cleared, in or out of the identity map), the event log, what a
// following flush sends; a hook failing leaves every table as it was and the old targets as before
// the call (their snapshots, the identity map), so that the next flush writes their early step
// again. Default and COPY (`COHORT_STRATEGY=copy`).
import { BulkHookError, bulkSave, bulkUpdate } from '@cohort/mikro-orm';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import {
  Badge,
  Card,
  fault,
  Holder,
  type Holders,
  holdersOrm,
  log,
  managed,
  type Prop,
  replaced,
  seed,
  type Target,
} from './one-to-one-holders.js';

let h: Holders;
beforeAll(async () => {
  h = await holdersOrm('rinvw');
});
afterAll(async () => {
  await h?.own.close();
});
beforeEach(async () => {
  fault.at = undefined;
  await h.truncate();
});
const opts = (batchSize?: number) => ({
  ...(forcedStrategy ? { strategy: forcedStrategy } : {}),
  ...(batchSize ? { batchSize } : {}),
});

/** The objects after the write: each holder's target, each old target's reference and whether it is managed. */
function state(em: EntityManager, prop: Prop, holders: Holder[], olds: object[]) {
  return {
    holders: holders.map((holder) => {
      const target = holder[prop] as Card | undefined;
      return { id: holder.id, target: target?.name, key: target?.id, back: target?.holder?.name };
    }),
    olds: olds.map((old) => ({ holder: (old as Card).holder ?? null, managed: managed(em, old) })),
  };
}

/** What persist + flush leaves: rows, objects, log. */
async function flushed(prop: Prop, cls: Target) {
  await seed(h.fork(), prop, cls);
  const em = h.fork();
  const { holders, olds } = await replaced(em, prop, cls);
  log.length = 0;
  em.persist(holders);
  await em.flush();
  const entry = { tables: await h.tables(), state: state(em, prop, holders, olds), log: [...log] };
  await h.truncate();
  return entry;
}

const events = (entries: readonly string[]) => entries.filter((entry) => /^(before|after)/.test(entry));

for (const [prop, cls, name] of [
  ['card', Card, 'Card'],
  ['badge', Badge, 'Badge'],
] as const) {
  describe(`Holder.${prop}${prop === 'badge' ? ' (orphanRemoval)' : ' (nullable foreign key)'}: stored holders h0, h2 with an old ${name}, h1 without, each given a new one`, () => {
    for (const [method, batchSize] of [
      ['bulkSave', undefined],
      ['bulkSave', 1],
      ['bulkUpdate', undefined],
      ['bulkUpdate', 1],
    ] as const) {
      it(`${method}${batchSize ? ', one holder per batch' : ''}: the old ones ${prop === 'badge' ? 'deleted' : 'cleared'} first, then the new ones inserted, as flush`, async () => {
        const ref = await flushed(prop, cls);
        await seed(h.fork(), prop, cls);
        const em = h.fork();
        const { holders, olds } = await replaced(em, prop, cls);
        log.length = 0;
        const call = method === 'bulkSave' ? bulkSave : bulkUpdate;
        const result = await call(em, Holder, holders, opts(batchSize));
        // The early step's statements count in the call's (an update's are its data statements; COPY adds its staging).
        const sent = log.filter((entry) => !/^(before|after)/.test(entry)).length;
        if (method === 'bulkUpdate' && !forcedStrategy) expect(result.statements).toBe(sent);
        else expect(result.statements).toBeGreaterThanOrEqual(sent);
        expect(result.byEntity).toEqual({
          Holder: { inserted: 0, updated: 0 },
          [name]: { inserted: 3, updated: prop === 'card' ? 2 : 0 },
        });
        expect(await h.tables()).toEqual(ref.tables);
        expect(state(em, prop, holders, olds)).toEqual(ref.state);
        // The same events; in one batch, in flush's order but for the old targets' update events
        // around one UPDATE (flush: one UPDATE per old target, between its own events).
        expect([...events(log)].sort()).toEqual([...events(ref.log)].sort());
        if (!batchSize) {
          expect(log).toEqual(
            prop === 'card'
              ? [
                  'beforeUpdate Card old0',
                  'beforeUpdate Card old2',
                  'update card',
                  'afterUpdate Card old0',
                  'afterUpdate Card old2',
                  ...ref.log.slice(6),
                ]
              : ref.log,
          );
        } else {
          // Batch by batch: h0's old one, its new one; h1's new one; h2's old one, its new one.
          const early = prop === 'card' ? 'update card' : 'delete badge';
          expect(log.filter((entry) => !/^(before|after)/.test(entry))).toEqual([
            early,
            `insert ${prop}`,
            `insert ${prop}`,
            early,
            `insert ${prop}`,
          ]);
        }
        log.length = 0;
        await em.flush();
        expect(log).toEqual([]);
      });
    }

    for (const at of [`beforeCreate ${name} new1`, `afterCreate ${name} new2`]) {
      it(`a hook throwing at ${at} (after the old ones were written): every table unchanged, the old targets as before the call (the flush after it writes their early step)`, async () => {
        const ref = await flushed(prop, cls);
        await seed(h.fork(), prop, cls);
        const em = h.fork();
        const { holders, olds } = await replaced(em, prop, cls);
        const before = await h.tables();
        fault.at = at;
        const error = await bulkSave(em, Holder, holders, opts()).catch((e: unknown) => e);
        fault.at = undefined;
        expect(error).toBeInstanceOf(BulkHookError);
        expect(error).toMatchObject({ relation: { entityName: 'Holder', property: prop, target: name } });
        expect(await h.tables()).toEqual(before);
        expect(olds.map((old) => managed(em, old))).toEqual([true, true]);
        expect(olds.map((old) => (old as unknown as { __helper: { __managed?: boolean } }).__helper.__managed)).toEqual([
          true,
          true,
        ]);
        // The old targets' snapshots are as before the call: the flush after it writes their early
        // step again (their reference cleared, or, with orphanRemoval, their rows deleted).
        await em.flush();
        const rows = (await h.tables())[prop] as { name: string; holder_id: number | null }[];
        const oldRows = rows.filter((row) => row.name.startsWith('old'));
        expect(oldRows).toEqual(prop === 'card' ? (ref.tables.card as unknown[]).slice(0, 2) : []);
      });
    }

    it(`a hook throwing at the old ${name} of row 2 (flush's early step): every table unchanged`, async () => {
      await seed(h.fork(), prop, cls);
      const em = h.fork();
      const { holders, olds } = await replaced(em, prop, cls);
      const before = await h.tables();
      fault.at = `${prop === 'card' ? 'afterUpdate' : 'afterDelete'} ${name} old2`;
      const error = await bulkSave(em, Holder, holders, opts()).catch((e: unknown) => e);
      fault.at = undefined;
      expect(error).toBeInstanceOf(BulkHookError);
      expect(await h.tables()).toEqual(before);
      // Told at the input row whose new target replaced it (row 2; the second of the early step's
      // list), and as what the call did with it.
      const how = prop === 'card' ? 'updated' : 'removed';
      expect(error).toMatchObject({
        index: 2,
        entity: olds[1],
        relation: { entityName: 'Holder', property: prop, target: name },
      });
      expect((error as Error).message).toMatch(
        new RegExp(`^${name} reached through Holder\\.${prop} \\(${how} with the row\\): `),
      );
      expect((error as Error).message).toMatch(/\brow 2\b/);
      expect((error as Error).message).not.toMatch(/\brow 1\b/);
    });

    it(`a hook throwing at the old ${name} of row 2, one holder per batch: told in row 2's batch (2), not the early step's own (0)`, async () => {
      await seed(h.fork(), prop, cls);
      const em = h.fork();
      const { holders, olds } = await replaced(em, prop, cls);
      const before = await h.tables();
      fault.at = `${prop === 'card' ? 'afterUpdate' : 'afterDelete'} ${name} old2`;
      const error = await bulkSave(em, Holder, holders, opts(1)).catch((e: unknown) => e);
      fault.at = undefined;
      expect(error).toBeInstanceOf(BulkHookError);
      expect(error).toMatchObject({ index: 2, batch: 2, entity: olds[1] });
      expect(await h.tables()).toEqual(before);
    });
  });
}
