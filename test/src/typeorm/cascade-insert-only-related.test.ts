// Stored related entities reached through relations that cascade INSERTS only (`cascade: ['insert']`,
// `order.insertOnly`) holding new entities (`customer.address`, a new note in `customer.notes`):
// TypeORM's save() inserts the new ones and does not update the stored entity — its changed name is
// not written, nor the new address's key (the address row is left unreferenced, the object keyed);
// the note takes the customer's key. So do bulkUpdate and bulkSave (docs/guide.md "Changed related
// entities"). Differential: save() and cohort on equal inputs — rows of every table, object state,
// the entity events (compared as sets; save()'s order pinned) and the write statements. Also: the
// refusal with `onInvalid: 'skip'` says what save() would write for an unchanged related entity too;
// an unchanged stored entity of the rows' own table holding new ones gets them inserted, as save().
import { bulkSave, bulkUpdate, trackEntityChanges, UnsupportedFeatureError } from '@cohort/typeorm';
import { Column, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';
import { log, statements, UnAddress, UnCustomer, UnLog, UnNote, UnOrder } from './cascade-update-new-entities.js';

const pair = typeormPair('cascade_insert_only', {
  entities: [UnAddress, UnCustomer, UnNote, UnOrder],
  subscribers: [UnLog],
  logger: statements,
  logging: ['query'],
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const TABLES = ['un_order', 'un_customer', 'un_address', 'un_note'] as const;
const tables = (side: TypeormSide) => Promise.all(TABLES.map((t) => rowsOf(side, t)));

/**
 * Orders o0 (insertOnly: ann), o1 (customer: bob), o2 (none), stored and loaded, their customers
 * loaded and set on them (find() with relations would leave o2's null relations changed for save()),
 * then changed. `withRelations`: loaded with both relations instead (their snapshots then hold them).
 */
async function loaded(side: TypeormSide, change: (orders: UnOrder[]) => void, withRelations = false): Promise<UnOrder[]> {
  const ann = make(UnCustomer, { name: 'ann' });
  const bob = make(UnCustomer, { name: 'bob' });
  await side.dataSource.manager.save([ann, bob]);
  await side.dataSource.manager.save([
    make(UnOrder, { title: 'o0', insertOnly: ann }),
    make(UnOrder, { title: 'o1', customer: bob }),
    make(UnOrder, { title: 'o2' }),
  ]);
  const relations = withRelations ? { customer: true, insertOnly: true } : {};
  const found = await side.dataSource.getRepository(UnOrder).find({ relations, order: { id: 'ASC' } });
  if (!withRelations) {
    const customers = await side.dataSource.getRepository(UnCustomer).find({ order: { id: 'ASC' } });
    const [o0, o1] = found as [UnOrder, UnOrder];
    o0.insertOnly = customers[0];
    o1.customer = customers[1];
  }
  change(found);
  log.length = 0;
  return found;
}

/** o0's title; ann (reached through insertOnly) renamed, given a new address and a new note; bob renamed. */
function changeAll(orders: UnOrder[]): void {
  const [o0, o1] = orders as [UnOrder, UnOrder];
  o0.title = 'o0!';
  const ann = o0.insertOnly as UnCustomer;
  ann.name = 'ann!';
  ann.address = make(UnAddress, { street: 's1' });
  ann.notes = [make(UnNote, { body: 'n1' })];
  (o1.customer as UnCustomer).name = 'bob!';
}

/** The orders' graph as objects: the new entities' keys, the customers' references and names. */
function state(orders: UnOrder[]) {
  const customer = (c: UnCustomer | null | undefined) =>
    c && { ...c, address: c.address && { ...c.address }, notes: c.notes?.map((n) => ({ ...n, customer: undefined })) };
  return orders.map((o) => normalizeState({ ...o, customer: customer(o.customer), insertOnly: customer(o.insertOnly) }));
}

type Call = typeof bulkUpdate | typeof bulkSave;

/** save() on the reference side, `call` on the subject side, equal inputs. */
async function both(change: (orders: UnOrder[]) => void, call: Call, options: { batchSize?: number } = {}) {
  const orm = pair.reference();
  const ormOrders = await loaded(orm, change);
  const ormError = await orm.dataSource.manager.save(ormOrders).then(
    () => undefined,
    (e: unknown) => e,
  );
  const ormLog = [...log];
  const side = pair.subject();
  const orders = await loaded(side, change);
  const outcome = await call(side.dataSource, UnOrder, orders, options).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { orm, side, ormOrders, orders, ormError, ormLog, mine: [...log], ...outcome };
}

const events = (entries: string[]) => entries.filter((e) => !/^(UPDATE|INSERT INTO) /.test(e)).sort();
const writes = (entries: string[], what: string) => entries.filter((e) => e.startsWith(what)).length;
const CALLS = [
  [bulkUpdate, undefined],
  [bulkUpdate, 1],
  [bulkSave, undefined],
  [bulkSave, 1],
] as const;

describe('new entities held by a stored entity reached through relations that cascade inserts only', () => {
  it("save(): inserts the address and the note, does not update ann (her name, her address's key) — pinned", async () => {
    const { orm, ormLog, ormError, ormOrders } = await both(changeAll, bulkUpdate);
    expect(ormError).toBeUndefined();
    expect(ormLog).toEqual([
      'listener beforeInsert UnAddress s1',
      'beforeInsert UnAddress s1',
      'beforeInsert UnNote n1',
      'beforeUpdate UnOrder o0! [title] []',
      'beforeUpdate UnCustomer bob! [name] []',
      'INSERT INTO un_note',
      'INSERT INTO un_address',
      'UPDATE un_order',
      'UPDATE un_customer',
      'afterInsert UnNote n1',
      'listener afterInsert UnAddress s1 has id number',
      'afterInsert UnAddress s1',
      'afterUpdate UnOrder o0!',
      'afterUpdate UnCustomer bob!',
    ]);
    const [, customers, addresses, notes] = await tables(orm);
    expect(customers).toEqual([
      { id: 1, name: 'ann', addressId: null },
      { id: 2, name: 'bob!', addressId: null },
    ]);
    expect(addresses).toEqual([{ id: 1, street: 's1' }]);
    expect(notes).toEqual([{ id: 1, body: 'n1', customerId: 1 }]);
    expect(ormOrders[0]?.insertOnly?.name).toBe('ann!');
  });

  for (const [call, batchSize] of CALLS) {
    it(`${call.name} (batchSize ${batchSize ?? 'default'}): the same rows, objects and events; ann not updated`, async () => {
      const run = await both(changeAll, call, batchSize ? { batchSize } : {});
      expect(run.ormError).toBeUndefined();
      expect(run.error).toBeUndefined();
      expect(await tables(run.side)).toEqual(await tables(run.orm));
      expect(state(run.orders)).toEqual(state(run.ormOrders));
      expect(typeof run.orders[0]?.insertOnly?.address?.id).toBe('number');
      expect(typeof run.orders[0]?.insertOnly?.notes?.[0]?.id).toBe('number');
      expect(events(run.mine)).toEqual(events(run.ormLog));
      expect(run.result?.byEntity).toMatchObject({
        UnOrder: { inserted: 0, updated: 1 },
        UnCustomer: { inserted: 0, updated: 1 },
        UnAddress: { inserted: 1, updated: 0 },
        UnNote: { inserted: 1, updated: 0 },
      });
      expect(TABLES.map((t) => writes(run.mine, `INSERT INTO ${t}`))).toEqual([0, 0, 1, 1]);
      expect(TABLES.map((t) => writes(run.mine, `UPDATE ${t}`))).toEqual([1, 1, 0, 0]);
      if (batchSize === undefined) {
        // cohort's grouping, as for a stored customer that did not change (docs/differences.md).
        expect(run.mine).toEqual([
          'beforeUpdate UnOrder o0! [title] []',
          'listener beforeInsert UnAddress s1',
          'beforeInsert UnAddress s1',
          'beforeInsert UnNote n1',
          'beforeUpdate UnCustomer bob! [name] []',
          'INSERT INTO un_address',
          'UPDATE un_order',
          'UPDATE un_customer',
          'afterUpdate UnOrder o0!',
          'INSERT INTO un_note',
          'listener afterInsert UnAddress s1 has id number',
          'afterInsert UnAddress s1',
          'afterInsert UnNote n1',
          'afterUpdate UnCustomer bob!',
        ]);
      }
    });
  }

  for (const [call, batchSize] of CALLS) {
    it(`${call.name} (batchSize ${batchSize ?? 'default'}): ann reached through insertOnly and, by o2, through a relation that cascades updates: updated with her new address, as save()`, async () => {
      const run = await both(
        (orders) => {
          changeAll(orders);
          (orders[2] as UnOrder).customer = orders[0]?.insertOnly;
        },
        call,
        batchSize ? { batchSize } : {},
      );
      expect(run.ormError).toBeUndefined();
      expect(run.error).toBeUndefined();
      expect(await tables(run.side)).toEqual(await tables(run.orm));
      expect(state(run.orders)).toEqual(state(run.ormOrders));
      expect(events(run.mine)).toEqual(events(run.ormLog));
      const [, customers] = await tables(run.side);
      expect(customers?.[0]).toEqual({ id: 1, name: 'ann!', addressId: 1 });
    });
  }

  it('ann holding no new entity: nothing of hers written or loaded beyond the look-up, as save()', async () => {
    const run = await both((orders) => {
      changeAll(orders);
      const ann = orders[0]?.insertOnly as UnCustomer;
      ann.address = undefined;
      ann.notes = undefined;
    }, bulkUpdate);
    expect(run.error).toBeUndefined();
    expect(await tables(run.side)).toEqual(await tables(run.orm));
    expect(events(run.mine)).toEqual(events(run.ormLog));
    expect(writes(run.mine, 'INSERT INTO')).toBe(0);
  });
});

describe('with trackEntityChanges: ann found against her snapshot', () => {
  // A pair of its own: trackEntityChanges stays on for its DataSources.
  const tracked = typeormPair('cascade_insert_only_snap', {
    entities: [UnAddress, UnCustomer, UnNote, UnOrder],
    subscribers: [UnLog],
    logger: statements,
    logging: ['query'],
  });
  // The orders loaded with their relations: TypeORM's save() finds a loaded null relation changed
  // every time (its events say so), and so does cohort — the same events on both sides, again.
  it('bulkUpdate writes what save() writes; the same call again inserts nothing and leaves ann alone, as save() again', async () => {
    const runs = [];
    for (const side of [tracked.reference(), tracked.subject()]) {
      trackEntityChanges(side.dataSource);
      const orders = await loaded(side, changeAll, true);
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
    expect(events(mine.again)).toEqual(events(orm.again));
    for (const again of [mine.again, orm.again]) {
      expect(again.filter((e) => /^INSERT INTO |UnCustomer|UnAddress|UnNote|un_customer/.test(e))).toEqual([]);
    }
  });
});

describe("the refusal with onInvalid: 'skip' says what save() would write with the row", () => {
  for (const [call, batchSize] of CALLS) {
    it(`${call.name} (batchSize ${batchSize ?? 'default'}): an unchanged customer holding a new note is not called changed; nothing written`, async () => {
      const side = pair.subject();
      const orders = await loaded(side, (found) => {
        (found[0] as UnOrder).title = 'o0!';
        (found[1]?.customer as UnCustomer).notes = [make(UnNote, { body: 'n1' })];
      });
      const before = await tables(side);
      const error = await call(side.dataSource, UnOrder, orders, { onInvalid: 'skip', ...(batchSize && { batchSize }) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'cascade update', option: "onInvalid: 'skip'", entityName: 'UnOrder', index: 1 });
      const message = (error as Error).message;
      expect(message).toContain('reaches a stored UnCustomer that the ORM');
      expect(message).not.toContain('changed UnCustomer');
      expect(await tables(side)).toEqual(before);
      // With one row per batch, o0's batch went in before o1's was refused (rolled back).
      expect(log.filter((e) => /UnCustomer|UnNote|un_customer|un_note/.test(e))).toEqual([]);
    });
  }
});

describe('a failure in the group of an insert-only holder says it is not updated', () => {
  it("bulkUpdate: the insert-only customer's stored note dropped for a new one (inverse side, refused): the error locates the customer as not updated; nothing written", async () => {
    const side = pair.subject();
    const ann = make(UnCustomer, { name: 'ann' });
    await side.dataSource.manager.save(ann);
    await side.dataSource.manager.save(make(UnNote, { body: 'n0', customer: ann }));
    await side.dataSource.manager.save(make(UnOrder, { title: 'o0', insertOnly: ann }));
    const orders = await side.dataSource.getRepository(UnOrder).find({ relations: { insertOnly: { notes: true } } });
    // save() clears the dropped note's key (an entity-less update event) and inserts the new one.
    ((orders[0] as UnOrder).insertOnly as UnCustomer).notes = [make(UnNote, { body: 'n1' })];
    log.length = 0;
    const before = await tables(side);
    const error = await bulkUpdate(side.dataSource, UnOrder, orders).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({
      feature: 'inverse side',
      relation: { entityName: 'UnOrder', property: 'insertOnly', target: 'UnCustomer' },
    });
    const message = (error as Error).message;
    expect(message).toContain(
      'UnCustomer reached through UnOrder.insertOnly (not updated, the new entities it holds inserted with the row)',
    );
    expect(message).not.toContain('updated with the row');
    expect(await tables(side)).toEqual(before);
    expect(log).toEqual([]);
  });

  it("bulkUpdate: the same customer's group also holding a renamed customer another row reaches through a relation that cascades updates: the error names the failing customer's own relation, not updated; nothing written", async () => {
    const side = pair.subject();
    const [ann, bob] = [make(UnCustomer, { name: 'ann' }), make(UnCustomer, { name: 'bob' })];
    await side.dataSource.manager.save([ann, bob]);
    await side.dataSource.manager.save(make(UnNote, { body: 'n0', customer: ann }));
    // bob's row comes first: the group of customers is first reached through UnOrder.customer.
    await side.dataSource.manager.save([
      make(UnOrder, { title: 'o0', customer: bob }),
      make(UnOrder, { title: 'o1', insertOnly: ann }),
    ]);
    const orders = await side.dataSource
      .getRepository(UnOrder)
      .find({ relations: { customer: true, insertOnly: { notes: true } }, order: { id: 'ASC' } });
    ((orders[0] as UnOrder).customer as UnCustomer).name = 'bob 2';
    ((orders[1] as UnOrder).insertOnly as UnCustomer).notes = [make(UnNote, { body: 'n1' })];
    log.length = 0;
    const before = await tables(side);
    const error = await bulkUpdate(side.dataSource, UnOrder, orders).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({
      feature: 'inverse side',
      relation: { entityName: 'UnOrder', property: 'insertOnly', target: 'UnCustomer' },
    });
    const message = (error as Error).message;
    expect(message).toContain(
      'UnCustomer reached through UnOrder.insertOnly (not updated, the new entities it holds inserted with the row)',
    );
    expect(message).not.toContain('updated with the row');
    expect(await tables(side)).toEqual(before);
  });
});

@Entity('io_item')
class IoItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => IoItem, { nullable: true, cascade: ['update'] }) previous?: IoItem | null;
  @OneToMany(
    () => IoNote,
    (n) => n.item,
    { cascade: true },
  )
  notes?: IoNote[];
}

@Entity('io_note')
class IoNote {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) body!: string;
  @ManyToOne(
    () => IoItem,
    (i) => i.notes,
    { nullable: true },
  )
  item?: IoItem | null;
}

const own = typeormPair('cascade_insert_only_own', { entities: [IoItem, IoNote] });

/** Two stored items: i0 retitled and pointed at i1, which holds a new note; written by `write`. */
async function ownTable(side: TypeormSide, write: (items: IoItem[]) => Promise<unknown>) {
  await side.dataSource.manager.save([make(IoItem, { title: 'i0' }), make(IoItem, { title: 'i1' })]);
  const [i0, i1] = (await side.dataSource.getRepository(IoItem).find({ order: { id: 'ASC' } })) as [IoItem, IoItem];
  i0.title = 'i0!';
  i0.previous = i1;
  i1.notes = [make(IoNote, { body: 'n1' })];
  const error = await write([i0]).then(
    () => undefined,
    (e: unknown) => e,
  );
  const rows = await Promise.all(['io_item', 'io_note'].map((t) => rowsOf(side, t)));
  return { error, rows, noteId: i1.notes[0]?.id, i1Title: i1.title };
}

describe("an unchanged stored entity of the rows' own table holding new entities", () => {
  for (const [call, batchSize] of CALLS) {
    it(`${call.name} (batchSize ${batchSize ?? 'default'}): its new entities inserted with its key, it not updated, as save()`, async () => {
      const byOrm = await ownTable(own.reference(), (items) => own.reference().dataSource.manager.save(items));
      const side = own.subject();
      const mine = await ownTable(side, (items) => call(side.dataSource, IoItem, items, batchSize ? { batchSize } : {}));
      expect(byOrm.error).toBeUndefined();
      expect(mine.error).toBeUndefined();
      expect(byOrm.rows).toEqual([
        [
          { id: 1, title: 'i0!', previousId: 2 },
          { id: 2, title: 'i1', previousId: null },
        ],
        [{ id: 1, body: 'n1', itemId: 2 }],
      ]);
      expect(mine.rows).toEqual(byOrm.rows);
      expect(mine.noteId).toBe(byOrm.noteId);
    });
  }
});
