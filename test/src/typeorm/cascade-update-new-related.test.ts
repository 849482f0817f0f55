// Changed stored related entities that hold NEW entities through relations that cascade inserts
// (`order.customer` stored and changed, `customer.address = new UnAddress()`, a new note in
// `customer.notes`): TypeORM's save() inserts the new ones and updates the customer with their keys;
// so do bulkUpdate and bulkSave (docs/guide.md "Changed related entities"). Differential: save() and
// cohort on equal inputs — rows of every table, object state (keys on the new objects, the customer's
// reference), the entity events and the write statements. save() fires every before-insert of the
// graph, then every before-update, sends its INSERTs, then its UPDATEs, then every after-insert, then
// every after-update; cohort fires the related class's insert events around its update, after the
// rows' own events (docs/differences.md, "Changed related entities": pinned below).
import { BulkHookError, BulkWriteError, bulkSave, bulkUpdate, trackEntityChanges } from '@cohort/typeorm';
import { describe, expect, it } from 'vitest';
import { normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';
import { log, statements, UnAddress, UnCustomer, UnLog, UnNote, UnOrder } from './cascade-update-new-entities.js';

const pair = typeormPair('cascade_update_new', {
  entities: [UnAddress, UnCustomer, UnNote, UnOrder],
  subscribers: [UnLog],
  logger: statements,
  logging: ['query'],
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const TABLES = ['un_order', 'un_customer', 'un_address', 'un_note'] as const;

/** Orders o0 (by ann), o1 (by bob), o2 (by ann, the same object), stored and loaded with their customers, then changed. */
async function loaded(side: TypeormSide, change: (orders: UnOrder[]) => void): Promise<UnOrder[]> {
  const ann = make(UnCustomer, { name: 'ann' });
  const bob = make(UnCustomer, { name: 'bob' });
  await side.dataSource.manager.save([ann, bob]);
  await side.dataSource.manager.save([
    make(UnOrder, { title: 'o0', customer: ann }),
    make(UnOrder, { title: 'o1', customer: bob }),
    make(UnOrder, { title: 'o2', customer: ann }),
  ]);
  const found = await side.dataSource.getRepository(UnOrder).find({ relations: { customer: true }, order: { id: 'ASC' } });
  const [o0, , o2] = found as [UnOrder, UnOrder, UnOrder];
  o2.customer = o0.customer;
  change(found);
  log.length = 0;
  return found;
}

/** o0's title; ann renamed, given a new address and a new note; bob renamed. */
function changeAll(orders: UnOrder[]): void {
  const [o0, o1] = orders as [UnOrder, UnOrder];
  o0.title = 'o0!';
  const ann = o0.customer as UnCustomer;
  ann.name = 'ann!';
  ann.address = make(UnAddress, { street: 's1' });
  ann.notes = [make(UnNote, { body: 'n1' })];
  (o1.customer as UnCustomer).name = 'bob!';
}

const tables = (side: TypeormSide) => Promise.all(TABLES.map((t) => rowsOf(side, t)));

/** The orders' graph as objects: the new entities' keys, the customers' references. */
function state(orders: UnOrder[]) {
  return orders.map((o) => {
    const c = o.customer as UnCustomer;
    return normalizeState({
      ...o,
      customer: { ...c, address: c.address && { ...c.address }, notes: c.notes?.map((n) => ({ ...n, customer: undefined })) },
    });
  });
}

type Call = typeof bulkUpdate | typeof bulkSave;

/** save() on the reference side, `call` on the subject side, equal inputs. */
async function both(change: (orders: UnOrder[]) => void, call: Call = bulkUpdate, options: { batchSize?: number } = {}) {
  const orm = pair.reference();
  const ormOrders = await loaded(orm, change);
  const ormError = await orm.dataSource.manager.save(ormOrders).then(
    () => undefined,
    (e: unknown) => e,
  );
  const ormLog = [...log];
  const side = pair.subject();
  const orders = await loaded(side, change);
  const before = await tables(side);
  const outcome = await call(side.dataSource, UnOrder, orders, options).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { orm, side, ormOrders, orders, ormError, ormLog, mine: [...log], before, ...outcome };
}

const events = (entries: string[]) => entries.filter((e) => !/^(UPDATE|INSERT INTO) /.test(e)).sort();
const writes = (entries: string[], what: string) => entries.filter((e) => e.startsWith(what)).length;

describe('new entities held by changed related entities are inserted with them, as save() inserts them', () => {
  it('save(): every before-insert, every before-update, the INSERTs, the UPDATEs, every after-insert, every after-update — pinned', async () => {
    const { ormLog, ormError } = await both(changeAll);
    expect(ormError).toBeUndefined();
    expect(ormLog).toEqual([
      'listener beforeInsert UnAddress s1',
      'beforeInsert UnAddress s1',
      'beforeInsert UnNote n1',
      'beforeUpdate UnOrder o0! [title] []',
      'beforeUpdate UnCustomer ann! [name] [address]',
      'beforeUpdate UnCustomer bob! [name] []',
      'INSERT INTO un_note',
      'INSERT INTO un_address',
      'UPDATE un_order',
      'UPDATE un_customer',
      'UPDATE un_customer',
      'afterInsert UnNote n1',
      'listener afterInsert UnAddress s1 has id number',
      'afterInsert UnAddress s1',
      'afterUpdate UnOrder o0!',
      'afterUpdate UnCustomer ann!',
      'afterUpdate UnCustomer bob!',
    ]);
  });

  for (const [call, batchSize] of [
    [bulkUpdate, undefined],
    [bulkUpdate, 1],
    [bulkSave, undefined],
    [bulkSave, 1],
  ] as const) {
    it(`${call.name} (batchSize ${batchSize ?? 'default'}): the same rows, objects and events; one statement per class and batch`, async () => {
      const run = await both(changeAll, call, batchSize ? { batchSize } : {});
      expect(run.ormError).toBeUndefined();
      expect(run.error).toBeUndefined();
      expect(await tables(run.side)).toEqual(await tables(run.orm));
      expect(state(run.orders)).toEqual(state(run.ormOrders));
      expect(typeof run.orders[0]?.customer?.address?.id).toBe('number');
      expect(typeof run.orders[0]?.customer?.notes?.[0]?.id).toBe('number');
      expect(events(run.mine)).toEqual(events(run.ormLog));
      expect(run.result?.byEntity).toEqual({
        UnOrder: { inserted: 0, updated: 1 },
        UnCustomer: { inserted: 0, updated: 2 },
        UnAddress: { inserted: 1, updated: 0 },
        UnNote: { inserted: 1, updated: 0 },
      });
      expect(TABLES.map((t) => writes(run.mine, `INSERT INTO ${t}`))).toEqual([0, 0, 1, 1]);
      if (batchSize === undefined) {
        // cohort's order: the rows' before-update; the related class's graph (its new entities'
        // before-inserts, its before-updates); the address INSERT before the rows' UPDATE, the
        // customers' UPDATE (with the address key) after it; the rows' after-update; the note INSERT
        // (it takes the customer's key); the related class's after-inserts, then its after-updates.
        expect(run.mine).toEqual([
          'beforeUpdate UnOrder o0! [title] []',
          'listener beforeInsert UnAddress s1',
          'beforeInsert UnAddress s1',
          'beforeInsert UnNote n1',
          'beforeUpdate UnCustomer ann! [name] [address]',
          'beforeUpdate UnCustomer bob! [name] []',
          'INSERT INTO un_address',
          'UPDATE un_order',
          'UPDATE un_customer',
          'afterUpdate UnOrder o0!',
          'INSERT INTO un_note',
          'listener afterInsert UnAddress s1 has id number',
          'afterInsert UnAddress s1',
          'afterInsert UnNote n1',
          'afterUpdate UnCustomer ann!',
          'afterUpdate UnCustomer bob!',
        ]);
      } else {
        // One batch per row: o0's batch writes ann with her new entities, o1's bob, o2's nothing more.
        expect(TABLES.map((t) => writes(run.mine, `UPDATE ${t}`))).toEqual([1, 2, 0, 0]);
      }
    });
  }

  for (const batchSize of [undefined, 1]) {
    it(`a new address shared by both changed customers (batchSize ${batchSize ?? 'default'}): inserted once, both customers refer to it, as save()`, async () => {
      const run = await both(
        (orders) => {
          changeAll(orders);
          (orders[1]?.customer as UnCustomer).address = orders[0]?.customer?.address;
        },
        bulkUpdate,
        batchSize ? { batchSize } : {},
      );
      expect(run.error).toBeUndefined();
      expect(await tables(run.side)).toEqual(await tables(run.orm));
      expect(state(run.orders)).toEqual(state(run.ormOrders));
      expect(events(run.mine)).toEqual(events(run.ormLog));
      const [, customers, addresses] = await tables(run.side);
      expect(addresses).toHaveLength(1);
      expect(customers?.map((c) => c.addressId)).toEqual([addresses?.[0]?.id, addresses?.[0]?.id]);
      expect(writes(run.mine, 'INSERT INTO un_address')).toBe(1);
    });
  }

  it("the new address's before-insert listener throws: nothing written on either side; the typed error names the relation and the row; the objects keep no key", async () => {
    const run = await both((orders) => {
      changeAll(orders);
      (orders[0]?.customer?.address as UnAddress).street = 'boom';
    });
    expect(run.ormError).toBeInstanceOf(Error);
    expect(run.error).toBeInstanceOf(BulkHookError);
    expect(run.error).toMatchObject({
      index: 0,
      relation: { entityName: 'UnCustomer', property: 'address', target: 'UnAddress' },
    });
    expect(await tables(run.side)).toEqual(run.before);
    expect(await tables(run.orm)).toEqual(run.before);
    expect(writes(run.mine, 'UPDATE') + writes(run.mine, 'INSERT INTO')).toBe(0);
    expect(run.orders[0]?.customer?.address?.id).toBeUndefined();
  });

  it('the new note fails after the address went in and the customers were updated (too long for its column): nothing written, the address keeps no key, the error names the relation', async () => {
    const run = await both((orders) => {
      changeAll(orders);
      (orders[0]?.customer?.notes?.[0] as UnNote).body = 'n'.repeat(41);
    });
    expect(run.ormError).toBeInstanceOf(Error);
    expect(run.error).toBeInstanceOf(BulkWriteError);
    expect(run.error).toMatchObject({ index: 0, relation: { entityName: 'UnCustomer', property: 'notes', target: 'UnNote' } });
    expect(await tables(run.side)).toEqual(run.before);
    expect(await tables(run.orm)).toEqual(run.before);
    // The address and the customers were written before the note failed: rolled back, keys put back.
    expect([writes(run.mine, 'INSERT INTO un_address'), writes(run.mine, 'UPDATE un_customer')]).toEqual([1, 1]);
    expect(run.orders[0]?.customer?.address?.id).toBeUndefined();
    expect(run.orders[0]?.customer?.notes?.[0]?.id).toBeUndefined();
  });

  it('a stored customer that did not change, holding a new note only: the note inserted with its key, no customer UPDATE or update event, as save()', async () => {
    const run = await both((orders) => {
      (orders[0] as UnOrder).title = 'o0!';
      (orders[0]?.customer as UnCustomer).notes = [make(UnNote, { body: 'n1' })];
    });
    expect(run.ormError).toBeUndefined();
    expect(run.error).toBeUndefined();
    expect(await tables(run.side)).toEqual(await tables(run.orm));
    expect(state(run.orders)).toEqual(state(run.ormOrders));
    expect(events(run.mine)).toEqual(events(run.ormLog));
    expect(run.ormLog).toEqual([
      'beforeInsert UnNote n1',
      'beforeUpdate UnOrder o0! [title] []',
      'INSERT INTO un_note',
      'UPDATE un_order',
      'afterInsert UnNote n1',
      'afterUpdate UnOrder o0!',
    ]);
    expect(run.mine).toEqual([
      'beforeUpdate UnOrder o0! [title] []',
      'beforeInsert UnNote n1',
      'UPDATE un_order',
      'afterUpdate UnOrder o0!',
      'INSERT INTO un_note',
      'afterInsert UnNote n1',
    ]);
  });

  // A stored customer reached through a relation that cascades inserts only: cascade-insert-only-related.test.ts.

  // Mixed shapes (new and changed related entities in one call): cascade-mixed-related.test.ts.
  for (const [call, batchSize] of [
    [bulkUpdate, undefined],
    [bulkUpdate, 1],
    [bulkSave, undefined],
    [bulkSave, 1],
  ] as const) {
    it(`a stored row that holds a new customer itself, with a changed customer holding a new address and note: ${call.name} (batchSize ${batchSize ?? 'default'}) writes what save() writes`, async () => {
      const run = await both(
        (found) => {
          changeAll(found);
          (found[1] as UnOrder).customer = make(UnCustomer, { name: 'new' });
        },
        call,
        batchSize ? { batchSize } : {},
      );
      expect(run.ormError).toBeUndefined();
      expect(run.error).toBeUndefined();
      expect(await tables(run.side)).toEqual(await tables(run.orm));
      expect(state(run.orders)).toEqual(state(run.ormOrders));
      expect(events(run.mine)).toEqual(events(run.ormLog));
      expect(run.result?.byEntity).toEqual({
        UnOrder: { inserted: 0, updated: 2 },
        UnCustomer: { inserted: 1, updated: 1 },
        UnAddress: { inserted: 1, updated: 0 },
        UnNote: { inserted: 1, updated: 0 },
      });
    });
  }
});

describe('with trackEntityChanges: the changed customer found against its snapshot, the new entities snapshotted', () => {
  // A pair of its own: trackEntityChanges stays on for its DataSources.
  const tracked = typeormPair('cascade_update_new_snap', {
    entities: [UnAddress, UnCustomer, UnNote, UnOrder],
    subscribers: [UnLog],
    logger: statements,
    logging: ['query'],
  });
  it('bulkUpdate writes what save() writes; the same call again writes nothing, as save() again', async () => {
    const runs = [];
    for (const side of [tracked.reference(), tracked.subject()]) {
      trackEntityChanges(side.dataSource);
      const orders = await loaded(side, changeAll);
      const writeOnce = () =>
        side.mode === 'orm' ? side.dataSource.manager.save(orders) : bulkUpdate(side.dataSource, UnOrder, orders);
      await writeOnce();
      const first = [...log];
      log.length = 0;
      await writeOnce();
      runs.push({ first, again: [...log], rows: await tables(side), state: state(orders) });
    }
    const [orm, mine] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(mine.rows).toEqual(orm.rows);
    expect(mine.state).toEqual(orm.state);
    expect(events(mine.first)).toEqual(events(orm.first));
    expect(mine.again.filter((e) => /^(UPDATE|INSERT INTO) /.test(e))).toEqual([]);
    expect(orm.again.filter((e) => /^(UPDATE|INSERT INTO) /.test(e))).toEqual([]);
  });
});
