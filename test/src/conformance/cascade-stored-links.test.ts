// A stored row's new many-to-many items (bulkSave and bulkUpdate, issue 22): new labels added to loaded orders'
// `labels` are inserted with the batch's other related entities (one INSERT per class and batch),
// before the rows' UPDATE, and their junction rows after it (one INSERT per junction table and batch),
// as the ORM's own save() / persist()+flush() inserts and links them. Compared with the ORM's save on
// an identical schema: rows of every table (junction rows included), keys on the objects, the hook
// log, statements per table, what a following save writes; a failure at the label of row k leaves
// every table as it was and names the row and the relation. A stored row's new inverse one-to-one
// target: cascade-stored-inverse-one.test.ts.
import { BulkHookError, BulkValidationError, UniqueViolationError } from '@cohort/core';
import { beforeAll, expect, it } from 'vitest';
import { describeConformance, expectSameOutcome, FLUSH_EVENTS, type OrmUnderTest } from '../harness/conformance.js';
import { FaultHooks } from '../harness/fault-hooks.js';

const TABLES = ['purchase_order', 'label', { table: 'order_label', orderBy: 'order_id, label_id' }];
const TABLE_NAMES = ['purchase_order', 'label', 'order_label'];
const ALL_ENTITY_EVENTS = ['beforeCreate', 'afterCreate', 'beforeInsert', 'afterInsert', 'beforeUpdate', 'afterUpdate'];
const SAME = { tables: TABLES, ignoreTransactionEvents: true, ignoreEvents: [...FLUSH_EVENTS, 'afterLoad'] };

function setLabels(side: OrmUnderTest, order: any, labels: any[]): void {
  if (side.orm === 'mikro-orm') order.labels.set(labels);
  else order.labels = labels;
}

/** Adds a label to a loaded order's collection (TypeORM: a new array holding the stored ones too). */
function addLabel(side: OrmUnderTest, order: any, label: any): void {
  if (side.orm === 'mikro-orm') order.labels.add(label);
  else order.labels = [...(order.labels ?? []), label];
}

/** Three stored orders: o0 with the stored label `old`, o1 and o2 with none. */
async function storedOrders(side: OrmUnderTest): Promise<any[]> {
  const old = side.create('Label', { name: 'old' });
  const orders = ['o0', 'o1', 'o2'].map((ref) => side.create('Order', { ref, shop: null }));
  setLabels(side, orders[0], [old]);
  setLabels(side, orders[1], []);
  setLabels(side, orders[2], []);
  await side.ormSave(orders);
  side.resetLogs();
  return orders;
}

/** The stored orders, then: o0 given a new `red` next to `old`, o1 a new `blue` (long: `blue` repeated), o2 left as it was. */
async function build(side: OrmUnderTest, blue = 'blue'): Promise<any[]> {
  const orders = await storedOrders(side);
  addLabel(side, orders[0], side.create('Label', { name: 'red' }));
  addLabel(side, orders[1], side.create('Label', { name: blue }));
  return orders;
}

function labelsOf(order: any): any[] {
  return [...(order.labels ?? [])];
}

/** Keys and references of every entity of the graph, the labels' other side as the save leaves it. */
function graphState(orders: any[]): object[] {
  return [
    ...orders.map((o) => ({ id: o.id, ref: o.ref, labels: labelsOf(o).map((l) => l.id) })),
    ...[...new Set(orders.flatMap(labelsOf))].map((l) => ({
      id: l.id,
      name: l.name,
      orders: l.orders ? [...l.orders].map((o: any) => o.ref) : null,
    })),
  ];
}

/** The entity events of the side's hook log, as `event Class key`. */
function entityEvents(side: OrmUnderTest): string[] {
  return side.hooks.filter((h) => h.entity !== null && h.event !== 'afterLoad').map((h) => `${h.event} ${h.entity} ${h.key}`);
}

/** Statements of the side's SQL log since `from` that insert into `table`. */
function insertsInto(side: OrmUnderTest, table: string, from = 0): number {
  const into = new RegExp(`^\\s*(insert into|copy)\\s+("?[\\w$]+"?\\.)?"?${table}"?[\\s(]`, 'i');
  return side.sql.slice(from).filter((entry) => into.test(entry.sql)).length;
}

/** What a following flush (MikroORM) or save() of the same orders (TypeORM) writes, schema names left out. */
async function followingWrites(side: OrmUnderTest, orders: any[]): Promise<string[]> {
  const from = side.sql.length;
  if (side.orm === 'mikro-orm') await (side.native.em as any).flush();
  else await side.ormSave(orders);
  return side.sql
    .slice(from)
    .filter((entry) => /^\s*(insert|update|delete|copy)\b/i.test(entry.sql))
    .map((entry) => `${entry.sql.replaceAll(`"${side.schema}".`, '')} ${JSON.stringify(entry.params)}`);
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describeConformance("a stored row's new many-to-many items", ({ subject, reference }) => {
  let faults: FaultHooks;
  beforeAll(() => {
    faults = new FaultHooks(subject(), 'label');
  });

  for (const [method, batchSize] of [
    ['bulkSave', undefined],
    ['bulkSave', 1],
    ['bulkUpdate', undefined],
    ['bulkUpdate', 1],
  ] as const) {
    it(`${method} of stored orders given new labels${batchSize ? ', one order per batch' : ''}: the labels inserted, then linked, as the ORM's save`, async () => {
      const ref = reference();
      const refOrders = await build(ref);
      await ref.ormSave(refOrders);
      const sub = subject();
      const subOrders = await build(sub);
      const from = sub.sql.length;
      const result = await sub[method](subOrders, batchSize ? { batchSize } : {});
      // TypeORM's save() writes the stored orders' null shop again (`shop_id = NULL`): updated, as
      // save() counts them; flush sends no UPDATE for a changed collection alone.
      const updated = sub.orm === 'typeorm' ? 3 : 0;
      expect(result).toMatchObject({ inserted: 0, updated });
      expect(result.byEntity).toEqual({ Order: { inserted: 0, updated }, Label: { inserted: 2, updated: 0 } });
      // One INSERT per related class and batch, one per junction table and batch (o2's batch has none).
      expect(insertsInto(sub, 'label', from)).toBe(batchSize ? 2 : 1);
      expect(insertsInto(sub, 'order_label', from)).toBe(batchSize ? 2 : 1);
      expect(insertsInto(sub, 'purchase_order', from)).toBe(0);
      await expectSameOutcome(ref, sub, {
        ...SAME,
        // Batch by batch, each batch's hooks around its own statements (compared in one batch below).
        ignoreEvents: batchSize ? [...SAME.ignoreEvents, ...ALL_ENTITY_EVENTS] : SAME.ignoreEvents,
        entitiesRef: graphState(refOrders),
        entitiesSub: graphState(subOrders),
      });
      // The same events, batch by batch.
      if (batchSize) expect([...entityEvents(sub)].sort()).toEqual([...entityEvents(ref)].sort());
      if (!batchSize) {
        // Both: the labels' insert events around their INSERT, then the orders' update events (TypeORM:
        // every before-event first, every after-event last; MikroORM: no update events).
        expect(entityEvents(ref)).toEqual(
          sub.orm === 'mikro-orm'
            ? ['beforeCreate Label red', 'beforeCreate Label blue', 'afterCreate Label red', 'afterCreate Label blue']
            : [
                'beforeInsert Label red',
                'beforeInsert Label blue',
                'beforeUpdate Order o0',
                'beforeUpdate Order o1',
                'beforeUpdate Order o2',
                'afterInsert Label red',
                'afterInsert Label blue',
                'afterUpdate Order o0',
                'afterUpdate Order o1',
                'afterUpdate Order o2',
              ],
        );
        // The statements: the labels, then the junction rows (TypeORM: then the UPDATEs; cohort's one
        // UPDATE goes before the junction rows, as for the other links of stored rows).
        const tables = (side: OrmUnderTest) =>
          side.sql
            .map(
              (e) =>
                /^\s*(?:insert into|copy)\s+(?:"?[\w$]+"?\.)?"?([\w$]+)"?/i.exec(e.sql)?.[1] ??
                /\bupdate\s+(?:"?[\w$]+"?\.)?"?([\w$]+)"?(?:\s+as\s+\w+)?\s+set\b/i.exec(e.sql)?.[1],
            )
            // COPY into a staging table (COHORT_STRATEGY=copy) feeds the UPDATE counted above.
            .filter((table) => table !== undefined && !table.startsWith('cohort_stage'));
        expect([...new Set(tables(ref))]).toEqual(
          sub.orm === 'mikro-orm' ? ['label', 'order_label'] : ['label', 'order_label', 'purchase_order'],
        );
        expect(tables(sub)).toEqual(
          sub.orm === 'mikro-orm' ? ['label', 'order_label'] : ['label', 'purchase_order', 'order_label'],
        );
      }
      expect(await followingWrites(sub, subOrders)).toEqual(await followingWrites(ref, refOrders));
    });
  }

  for (const batchSize of [undefined, 1]) {
    it(`two stored orders given one new label${batchSize ? ', one order per batch' : ''}: the label inserted once, both links written, as the ORM's save`, async () => {
      const sides = [reference(), subject()];
      const inputs: any[][] = [];
      for (const side of sides) {
        const orders = await storedOrders(side);
        const red = side.create('Label', { name: 'red' });
        addLabel(side, orders[1], red);
        addLabel(side, orders[2], red);
        inputs.push([orders[1], orders[2]]);
      }
      const [ref, sub] = sides as [OrmUnderTest, OrmUnderTest];
      const [refInput, subInput] = inputs as [any[], any[]];
      await ref.ormSave(refInput);
      // Both majors of both ORMs link the shared label to each order (two junction rows).
      expect(await ref.rows('order_label', 'order_id, label_id')).toEqual([
        { order_id: 1, label_id: 1 },
        { order_id: 2, label_id: 2 },
        { order_id: 3, label_id: 2 },
      ]);
      const from = sub.sql.length;
      const result = await sub.bulkSave(subInput, batchSize ? { batchSize } : {});
      expect(result.byEntity).toMatchObject({ Label: { inserted: 1, updated: 0 } });
      expect(insertsInto(sub, 'label', from)).toBe(1);
      expect(insertsInto(sub, 'order_label', from)).toBe(batchSize ? 2 : 1);
      await expectSameOutcome(ref, sub, {
        ...SAME,
        ignoreEvents: batchSize ? [...SAME.ignoreEvents, ...ALL_ENTITY_EVENTS] : SAME.ignoreEvents,
        entitiesRef: graphState(refInput),
        entitiesSub: graphState(subInput),
      });
      if (batchSize) expect([...entityEvents(sub)].sort()).toEqual([...entityEvents(ref)].sort());
      expect(await followingWrites(sub, subInput)).toEqual(await followingWrites(ref, refInput));
    });
  }

  it('TypeORM: the shared new label holding both orders on its own side too: save() writes each link from both sides and fails; cohort fails too, naming Order.labels, nothing written', async () => {
    const sides = [reference(), subject()];
    if (sides[1]?.orm !== 'typeorm') {
      // MikroORM keeps both sides of a collection in step: the scenario above is this one.
      expect(sides[1]?.orm).toBe('mikro-orm');
      return;
    }
    const inputs: any[][] = [];
    for (const side of sides) {
      const orders = await storedOrders(side);
      const red = side.create('Label', { name: 'red' });
      addLabel(side, orders[1], red);
      addLabel(side, orders[2], red);
      red.orders = [orders[1], orders[2]];
      inputs.push([orders[1], orders[2]]);
    }
    const [ref, sub] = sides as [OrmUnderTest, OrmUnderTest];
    const refBefore = await Promise.all(TABLE_NAMES.map((table) => ref.rows(table)));
    await expect(ref.ormSave(inputs[0] as any[])).rejects.toThrow(/duplicate key/);
    expect(await Promise.all(TABLE_NAMES.map((table) => ref.rows(table)))).toEqual(refBefore);
    const before = await Promise.all(TABLE_NAMES.map((table) => sub.rows(table)));
    const error = await failure(sub.bulkSave(inputs[1] as any[]));
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ index: 0, entity: inputs[1]?.[0] });
    expect((error as Error).message).toMatch(/^Order\.labels \(links to Label in /);
    expect(await Promise.all(TABLE_NAMES.map((table) => sub.rows(table)))).toEqual(before);
  });

  it('a hook throwing at the new label of row 1: BulkHookError naming the row and Order.labels, every table unchanged', async () => {
    const sub = subject();
    const orders = await build(sub);
    const before = await Promise.all(TABLE_NAMES.map((table) => sub.rows(table)));
    const fault = {
      when: (c: { point: string; entity?: Record<string, unknown> }) =>
        (c.point === 'beforeInsert' || c.point === 'beforeCreate') && c.entity?.name === 'blue',
      act: () => {
        throw new Error('injected at blue');
      },
    };
    const error = await faults.with(fault, () => failure(sub.bulkSave(orders)));
    expect(error).toBeInstanceOf(BulkHookError);
    expect(error).toMatchObject({ index: 1, relation: { entityName: 'Order', property: 'labels', target: 'Label' } });
    expect(await Promise.all(TABLE_NAMES.map((table) => sub.rows(table)))).toEqual(before);
  });

  it('a new label of row 1 too long for its column: the ORM fails, cohort refuses it (BulkValidationError naming Order.labels), every table unchanged', async () => {
    const long = 'x'.repeat(30);
    const ref = reference();
    const refOrders = await build(ref, long);
    const refBefore = await Promise.all(TABLE_NAMES.map((table) => ref.rows(table)));
    await expect(ref.ormSave(refOrders)).rejects.toThrow();
    expect(await Promise.all(TABLE_NAMES.map((table) => ref.rows(table)))).toEqual(refBefore);
    const sub = subject();
    const orders = await build(sub, long);
    const before = await Promise.all(TABLE_NAMES.map((table) => sub.rows(table)));
    const error = await failure(sub.bulkSave(orders));
    expect(error).toBeInstanceOf(BulkValidationError);
    expect(error).toMatchObject({
      index: 1,
      relation: { entityName: 'Order', property: 'labels', target: 'Label' },
      failures: [{ index: 1, property: 'name' }],
    });
    expect(await Promise.all(TABLE_NAMES.map((table) => sub.rows(table)))).toEqual(before);
    expect(labelsOf(orders[0]).map((l) => l.id)).toEqual([1, undefined]);
  });
});
