// Stored rows that reach, through relations that cascade, BOTH new related entities (save() inserts
// them) AND changed stored related entities (save() updates them) in one call: a new customer on one
// order with another order's stored customer renamed; a new customer through `insertOnly` and the
// stored customer renamed on the same order; a renamed customer holding a new note with another
// order given a new customer; a customer row with a new note and its stored address changed.
// TypeORM's save() writes all of it in one go; so do bulkUpdate and bulkSave (docs/guide.md "Changed
// related entities"). Differential: save() and cohort on equal inputs — rows of every table, object
// state (keys on the new objects, references), the entity events (as sets: the graph order differs,
// docs/differences.md) and the write statements (one per table and operation per batch).
import { BulkWriteError, bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/typeorm';
import { describe, expect, it } from 'vitest';
import { normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';
import { log, statements, UnAddress, UnCustomer, UnLog, UnNote, UnOrder } from './cascade-update-new-entities.js';

const pair = typeormPair('cascade_mixed', {
  entities: [UnAddress, UnCustomer, UnNote, UnOrder],
  subscribers: [UnLog],
  logger: statements,
  logging: ['query'],
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const TABLES = ['un_order', 'un_customer', 'un_address', 'un_note'] as const;
const tables = (side: TypeormSide) => Promise.all(TABLES.map((t) => rowsOf(side, t)));

/** Ann (address a0, note n0) and bob; orders o0 (ann), o1 (bob), o2 (ann); stored. */
async function store(side: TypeormSide): Promise<void> {
  const ann = make(UnCustomer, { name: 'ann', address: make(UnAddress, { street: 'a0' }) });
  const bob = make(UnCustomer, { name: 'bob' });
  await side.dataSource.manager.save([ann, bob]);
  await side.dataSource.manager.save(make(UnNote, { body: 'n0', customer: ann }));
  await side.dataSource.manager.save([
    make(UnOrder, { title: 'o0', customer: ann }),
    make(UnOrder, { title: 'o1', customer: bob }),
    make(UnOrder, { title: 'o2', customer: ann }),
  ]);
}

/** The orders loaded with their customers (o2's the same object as o0's), then changed. */
async function orders(side: TypeormSide, change: (orders: UnOrder[]) => void): Promise<UnOrder[]> {
  await store(side);
  const found = await side.dataSource.getRepository(UnOrder).find({ relations: { customer: true }, order: { id: 'ASC' } });
  const [o0, , o2] = found as [UnOrder, UnOrder, UnOrder];
  o2.customer = o0.customer;
  change(found);
  log.length = 0;
  return found;
}

/** The customers loaded with their addresses and notes, then changed. */
async function customers(side: TypeormSide, change: (customers: UnCustomer[]) => void): Promise<UnCustomer[]> {
  await store(side);
  const found = await side.dataSource
    .getRepository(UnCustomer)
    .find({ relations: { address: true, notes: true }, order: { id: 'ASC' } });
  change(found);
  log.length = 0;
  return found;
}

type Call = typeof bulkUpdate | typeof bulkSave;
type Loader<E> = (side: TypeormSide, change: (rows: E[]) => void) => Promise<E[]>;

/** save() on the reference side, `call` on the subject side, equal inputs. */
async function both<E extends object>(
  cls: new () => E,
  load: Loader<E>,
  change: (rows: E[]) => void,
  call: Call,
  options: { batchSize?: number },
) {
  const orm = pair.reference();
  const ormRows = await load(orm, change);
  const ormError = await orm.dataSource.manager.save(ormRows).then(
    () => undefined,
    (e: unknown) => e,
  );
  const ormLog = [...log];
  const side = pair.subject();
  const rows = await load(side, change);
  const outcome = await (call as typeof bulkUpdate)(side.dataSource, cls, rows, options).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { orm, side, ormRows, rows, ormError, ormLog, mine: [...log], ...outcome };
}

/** An object graph as plain data, two levels deep, without back references. */
function state(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => state(v, depth));
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (depth > 2) return '…';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = state(v, depth + 1);
  return normalizeState(out);
}

const events = (entries: string[]) => entries.filter((e) => !/^(UPDATE|INSERT INTO) /.test(e)).sort();
const writes = (entries: string[]) => entries.filter((e) => /^(UPDATE|INSERT INTO) /.test(e));

interface Shape<E> {
  readonly name: string;
  readonly cls: new () => E;
  readonly load: Loader<E>;
  readonly change: (rows: E[]) => void;
}

const shapes = [
  {
    name: "a new customer on o0, o1's stored customer renamed",
    cls: UnOrder,
    load: orders,
    change: ([o0, o1]: UnOrder[]) => {
      (o0 as UnOrder).customer = make(UnCustomer, { name: 'new' });
      ((o1 as UnOrder).customer as UnCustomer).name = 'bob!';
    },
  } satisfies Shape<UnOrder>,
  {
    name: 'on o0: a new customer through insertOnly, its stored customer renamed',
    cls: UnOrder,
    load: orders,
    change: ([o0]: UnOrder[]) => {
      (o0 as UnOrder).insertOnly = make(UnCustomer, { name: 'new' });
      ((o0 as UnOrder).customer as UnCustomer).name = 'ann!';
    },
  } satisfies Shape<UnOrder>,
  {
    name: "o1's stored customer renamed and given a new note, a new customer on o0",
    cls: UnOrder,
    load: orders,
    change: ([o0, o1]: UnOrder[]) => {
      (o0 as UnOrder).customer = make(UnCustomer, { name: 'new', address: make(UnAddress, { street: 's1' }) });
      const bob = (o1 as UnOrder).customer as UnCustomer;
      bob.name = 'bob!';
      bob.notes = [make(UnNote, { body: 'n1' })];
    },
  } satisfies Shape<UnOrder>,
  {
    name: "a customer row with a new note and its stored address's street changed",
    cls: UnCustomer,
    load: customers,
    change: ([ann]: UnCustomer[]) => {
      const c = ann as UnCustomer;
      c.name = 'ann!';
      c.notes = [...(c.notes ?? []), make(UnNote, { body: 'n1' })];
      (c.address as UnAddress).street = 'a0!';
    },
  } satisfies Shape<UnCustomer>,
] as Shape<object>[];

describe('new and changed related entities reached by stored rows in one call are written as save() writes them', () => {
  it("the order, pinned: save() fires every before-event, then its statements, then every after-event; cohort inserts the rows' new customer before the related class's before-update (docs/differences.md)", async () => {
    const run = await both(
      shapes[0]?.cls as typeof UnOrder,
      orders,
      shapes[0]?.change as (rows: UnOrder[]) => void,
      bulkUpdate,
      {},
    );
    expect(run.ormLog).toEqual([
      'beforeInsert UnCustomer new',
      'beforeUpdate UnOrder o0 [] [customer]',
      'beforeUpdate UnCustomer bob! [name] []',
      'INSERT INTO un_customer',
      'UPDATE un_order',
      'UPDATE un_customer',
      'afterInsert UnCustomer new',
      'afterUpdate UnOrder o0',
      'afterUpdate UnCustomer bob!',
    ]);
    expect(run.mine).toEqual([
      'beforeInsert UnCustomer new',
      'beforeUpdate UnOrder o0 [] [customer]',
      'INSERT INTO un_customer',
      'beforeUpdate UnCustomer bob! [name] []',
      'UPDATE un_order',
      'UPDATE un_customer',
      'afterInsert UnCustomer new',
      'afterUpdate UnOrder o0',
      'afterUpdate UnCustomer bob!',
    ]);
  });

  for (const shape of shapes) {
    for (const [call, batchSize] of [
      [bulkUpdate, undefined],
      [bulkUpdate, 1],
      [bulkSave, undefined],
      [bulkSave, 1],
    ] as const) {
      it(`${shape.name}: ${call.name} (batchSize ${batchSize ?? 'default'}) leaves the rows, objects and events of save()`, async () => {
        const run = await both(shape.cls, shape.load, shape.change, call, batchSize ? { batchSize } : {});
        expect(run.ormError).toBeUndefined();
        expect(run.error).toBeUndefined();
        expect(await tables(run.side)).toEqual(await tables(run.orm));
        expect(state(run.rows)).toEqual(state(run.ormRows));
        expect(events(run.mine)).toEqual(events(run.ormLog));
        // One statement per table and operation per batch: as many as save() sends at most, for one batch.
        if (batchSize === undefined) expect(writes(run.mine).sort()).toEqual([...new Set(writes(run.ormLog))].sort());
      });
    }
  }

  for (const call of [bulkUpdate, bulkSave]) {
    it(`${call.name} with onInvalid: 'skip': refused by name before anything is written or any event, the new objects keep no key`, async () => {
      const side = pair.subject();
      const rows = await orders(side, shapes[2]?.change as (rows: UnOrder[]) => void);
      const before = await tables(side);
      const error = await (call as typeof bulkUpdate)(side.dataSource, UnOrder, rows, { onInvalid: 'skip' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ option: "onInvalid: 'skip'" });
      expect(await tables(side)).toEqual(before);
      expect(log).toEqual([]);
      expect(rows[0]?.customer?.id).toBeUndefined();
      expect(rows[1]?.customer?.notes?.[0]?.id).toBeUndefined();
    });
  }

  for (const [call, batchSize] of [
    [bulkUpdate, undefined],
    [bulkSave, 1],
  ] as const) {
    it(`${call.name} (batchSize ${batchSize ?? 'default'}): the changed customer's new note too long for its column: nothing written on either side, the new objects keep no key`, async () => {
      const change = (rows: UnOrder[]) => {
        shapes[2]?.change(rows);
        (rows[1]?.customer?.notes?.[0] as UnNote).body = 'n'.repeat(41);
      };
      const run = await both(UnOrder, orders, change, call, batchSize ? { batchSize } : {});
      expect(run.ormError).toBeInstanceOf(Error);
      expect(run.error).toBeInstanceOf(BulkWriteError);
      const [orm, mine] = await Promise.all([tables(run.orm), tables(run.side)]);
      expect(mine).toEqual(orm);
      expect(mine[1]?.map((c) => c.name)).toEqual(['ann', 'bob']);
      for (const rows of [run.rows, run.ormRows]) {
        expect(rows[0]?.customer?.id).toBeUndefined();
        expect(rows[0]?.customer?.address?.id).toBeUndefined();
        expect(rows[1]?.customer?.notes?.[0]?.id).toBeUndefined();
      }
    });
  }
});
