// A stored row's new inverse one-to-one target (bulkSave and bulkUpdate, issue 22): inserted with the
// row's key, as save() / flush inserts it (TypeORM after the rows' UPDATE, MikroORM before it). A row
// that had one: TypeORM's save() fails on the unique key, and cohort refuses it by name; MikroORM's
// flush first clears the old target's reference (its UPDATE and update events), and so does cohort
// (test/src/mikro-orm/replaced-inverse-one-to-one*.test.ts: orphanRemoval, NOT NULL, several rows).
import { BulkHookError, UnsupportedFeatureError } from '@cohort/core';
import { beforeAll, expect, it } from 'vitest';
import { describeConformance, expectSameOutcome, FLUSH_EVENTS, type OrmUnderTest } from '../harness/conformance.js';
import { FaultHooks } from '../harness/fault-hooks.js';

const SAME = { ignoreTransactionEvents: true, ignoreEvents: [...FLUSH_EVENTS, 'afterLoad'] };

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

describeConformance("a stored row's new inverse one-to-one target", ({ subject, reference }) => {
  let faults: FaultHooks;
  beforeAll(() => {
    faults = new FaultHooks(subject(), 'invoice');
  });

  /** Two stored orders (o0 with an invoice `old` when asked), then given new invoices: i0 referring to o0, i1 with its reference unset (TypeORM). */
  async function invoiced(side: OrmUnderTest, withOld = false): Promise<any[]> {
    const orders = ['o0', 'o1'].map((ref) => side.create('Order', { ref, shop: null }));
    if (withOld) {
      const old = side.create('Invoice', { number: 'old' });
      old.order = orders[0];
      orders[0].invoice = old;
    }
    await side.ormSave(orders);
    side.resetLogs();
    const i0 = side.create('Invoice', { number: 'i0' });
    i0.order = orders[0];
    orders[0].invoice = i0;
    const i1 = side.create('Invoice', { number: 'i1' });
    if (side.orm === 'mikro-orm') i1.order = orders[1];
    orders[1].invoice = i1;
    return orders;
  }

  const INVOICE_TABLES = ['purchase_order', 'invoice'];
  const invoiceState = (orders: any[]) =>
    orders.map((o) => ({ id: o.id, invoice: o.invoice?.id, number: o.invoice?.number, back: o.invoice?.order?.id }));

  for (const method of ['bulkSave', 'bulkUpdate'] as const)
    it(`${method} of stored orders given new invoices (inverse one-to-one), the orders without one: inserted with the rows' keys, as the ORM's save`, async () => {
      const ref = reference();
      const refOrders = await invoiced(ref);
      await ref.ormSave(refOrders);
      const sub = subject();
      const subOrders = await invoiced(sub);
      const from = sub.sql.length;
      const result = await sub[method](subOrders);
      // MikroORM: the orders' own columns did not change, so flush updates neither (nor does cohort).
      const updated = sub.orm === 'mikro-orm' ? 0 : 2;
      expect(result.byEntity).toEqual({ Order: { inserted: 0, updated }, Invoice: { inserted: 2, updated: 0 } });
      expect(insertsInto(sub, 'invoice', from)).toBe(1);
      await expectSameOutcome(ref, sub, {
        ...SAME,
        tables: INVOICE_TABLES,
        entitiesRef: invoiceState(refOrders),
        entitiesSub: invoiceState(subOrders),
      });
      if (sub.orm === 'mikro-orm') {
        // flush and cohort: the invoices' create events, nothing for the unchanged orders.
        expect(entityEvents(sub)).toEqual(entityEvents(ref));
        expect(entityEvents(sub)).toEqual([
          'beforeCreate Invoice i0',
          'beforeCreate Invoice i1',
          'afterCreate Invoice i0',
          'afterCreate Invoice i1',
        ]);
      } else {
        // save() and cohort: the invoices' and the rows' before-events, then the after-events (save():
        // the invoices' INSERT, then the UPDATEs; cohort: the UPDATE, then the INSERT, as for new one-to-many items).
        expect(entityEvents(sub)).toEqual([
          'beforeInsert Invoice i0',
          'beforeInsert Invoice i1',
          'beforeUpdate Order o0',
          'beforeUpdate Order o1',
          'afterInsert Invoice i0',
          'afterInsert Invoice i1',
          'afterUpdate Order o0',
          'afterUpdate Order o1',
        ]);
        // i1's reference stays unset, as save() leaves it.
        expect(subOrders[1].invoice.order).toBeUndefined();
      }
      expect(await followingWrites(sub, subOrders)).toEqual(await followingWrites(ref, refOrders));
    });

  it('TypeORM: a stored order that has an invoice given a new one: save() fails on the unique key, cohort refuses it (cascade insert, Order.invoice), nothing written', async () => {
    const ref = reference();
    const sub = subject();
    if (sub.orm !== 'typeorm') {
      expect(sub.orm).toBe('mikro-orm');
      return;
    }
    const refOrders = await invoiced(ref, true);
    const refBefore = await Promise.all(INVOICE_TABLES.map((table) => ref.rows(table)));
    await expect(ref.ormSave(refOrders)).rejects.toThrow(/duplicate key/);
    expect(await Promise.all(INVOICE_TABLES.map((table) => ref.rows(table)))).toEqual(refBefore);
    const subOrders = await invoiced(sub, true);
    const before = await Promise.all(INVOICE_TABLES.map((table) => sub.rows(table)));
    const error = await failure(sub.bulkSave(subOrders));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'cascade insert', entityName: 'Order', property: 'invoice', index: 0 });
    expect(await Promise.all(INVOICE_TABLES.map((table) => sub.rows(table)))).toEqual(before);
  });

  it("MikroORM: stored orders changed and given new invoices: the invoices inserted before the orders' UPDATE, their create events before the update events, as flush", async () => {
    const ref = reference();
    const sub = subject();
    if (sub.orm !== 'mikro-orm') {
      expect(sub.orm).toBe('typeorm');
      return;
    }
    const changed = async (side: OrmUnderTest) => {
      const orders = await invoiced(side);
      for (const order of orders) order.ref = `${order.ref}x`;
      return orders;
    };
    const refOrders = await changed(ref);
    await ref.ormSave(refOrders);
    const subOrders = await changed(sub);
    const result = await sub.bulkSave(subOrders);
    expect(result.byEntity).toEqual({ Order: { inserted: 0, updated: 2 }, Invoice: { inserted: 2, updated: 0 } });
    await expectSameOutcome(ref, sub, {
      ...SAME,
      tables: INVOICE_TABLES,
      entitiesRef: invoiceState(refOrders),
      entitiesSub: invoiceState(subOrders),
    });
    expect(entityEvents(sub)).toEqual(entityEvents(ref));
    expect(entityEvents(sub).map((e) => e.split(' ').slice(0, 2).join(' '))).toEqual([
      'beforeCreate Invoice',
      'beforeCreate Invoice',
      'afterCreate Invoice',
      'afterCreate Invoice',
      'beforeUpdate Order',
      'beforeUpdate Order',
      'afterUpdate Order',
      'afterUpdate Order',
    ]);
    expect(await followingWrites(sub, subOrders)).toEqual(await followingWrites(ref, refOrders));
  });

  for (const method of ['bulkSave', 'bulkUpdate'] as const)
    it(`MikroORM: ${method} of a stored order that had an invoice given a new one: the old invoice's reference cleared first (its UPDATE and update events), then the new ones inserted, as flush`, async () => {
      const ref = reference();
      const sub = subject();
      if (sub.orm !== 'mikro-orm') {
        expect(sub.orm).toBe('typeorm');
        return;
      }
      const refOrders = await invoiced(ref, true);
      await ref.ormSave(refOrders);
      expect((await ref.rows('invoice')).map((r) => [r.number, r.order_id])).toEqual([
        ['old', null],
        ['i0', 1],
        ['i1', 2],
      ]);
      const subOrders = await invoiced(sub, true);
      const result = await sub[method](subOrders);
      expect(result.byEntity).toEqual({ Order: { inserted: 0, updated: 0 }, Invoice: { inserted: 2, updated: 1 } });
      await expectSameOutcome(ref, sub, {
        ...SAME,
        tables: INVOICE_TABLES,
        entitiesRef: invoiceState(refOrders),
        entitiesSub: invoiceState(subOrders),
      });
      // One old invoice: flush's order exactly (several: test/src/mikro-orm/replaced-inverse-one-to-one-writes.test.ts).
      expect(entityEvents(sub)).toEqual(entityEvents(ref));
      expect(entityEvents(sub).slice(0, 2)).toEqual(['beforeUpdate Invoice old', 'afterUpdate Invoice old']);
      expect(await followingWrites(sub, subOrders)).toEqual([]);
    });

  it('TypeORM: a hook throwing at the new invoice of stored row 1: BulkHookError naming the row and Order.invoice, every table unchanged', async () => {
    const sub = subject();
    if (sub.orm !== 'typeorm') {
      expect(sub.orm).toBe('mikro-orm');
      return;
    }
    const orders = await invoiced(sub);
    const before = await Promise.all(INVOICE_TABLES.map((table) => sub.rows(table)));
    const fault = {
      when: (c: { point: string; entity?: Record<string, unknown> }) => c.point === 'beforeInsert' && c.entity?.number === 'i1',
      act: () => {
        throw new Error('injected at i1');
      },
    };
    const error = await faults.with(fault, () => failure(sub.bulkSave(orders)));
    expect(error).toBeInstanceOf(BulkHookError);
    expect(error).toMatchObject({ index: 1, relation: { entityName: 'Order', property: 'invoice', target: 'Invoice' } });
    expect(await Promise.all(INVOICE_TABLES.map((table) => sub.rows(table)))).toEqual(before);
  });
});
