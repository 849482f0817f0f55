// New related entities written with the rows (issue 22, cascade inserts): a many-to-one to a new
// entity is inserted before the rows, new items of a one-to-many after them — one statement per
// table and batch, in the call's transaction — as the ORM's own save() / persist()+flush() writes
// them. Compared with the ORM's own save on an identical schema: rows of every table, object state,
// the hook log, statements per table; a failure anywhere leaves every table as it was.
import { BulkDatabaseError, BulkHookError, BulkValidationError, PartialImportError, UnsupportedFeatureError } from '@cohort/core';
import { beforeAll, expect, it } from 'vitest';
import { describeConformance, expectSameOutcome, FLUSH_EVENTS, type OrmUnderTest } from '../harness/conformance.js';
import { FaultHooks } from '../harness/fault-hooks.js';

const TABLES = ['shop', 'purchase_order', 'order_line', 'product'];
const CREATE_EVENTS = ['beforeCreate', 'afterCreate', 'beforeInsert', 'afterInsert'];
const SAME = { tables: TABLES, ignoreTransactionEvents: true, ignoreEvents: [...FLUSH_EVENTS, 'afterLoad'] };

/** Sets an order's lines, each line referring to the order (a TypeORM array, a MikroORM collection). */
function setLines(side: OrmUnderTest, order: any, lines: any[]): void {
  for (const line of lines) line.order = order;
  if (side.orm === 'mikro-orm') order.lines.set(lines);
  else order.lines = lines;
}

/**
 * Three orders: o0 and o1 at one new shop, o2 at none; o0 with two new lines sharing a new product,
 * o1 with none, o2 with one line without product.
 */
function build(side: OrmUnderTest, skus = ['a1', 'a2', 'c1']): any[] {
  const shop = side.create('Shop', { name: 'corner' });
  const widget = side.create('Product', { name: 'widget' });
  const orders = ['o0', 'o1', 'o2'].map((ref, i) => side.create('Order', { ref, shop: i < 2 ? shop : null }));
  setLines(side, orders[0], [
    side.create('OrderLine', { sku: skus[0], qty: 1, product: widget }),
    side.create('OrderLine', { sku: skus[1], qty: 2, product: widget }),
  ]);
  setLines(side, orders[1], []);
  setLines(side, orders[2], [side.create('OrderLine', { sku: skus[2], qty: 3, product: null })]);
  return orders;
}

/**
 * The objects' keys, values and references as plain data (the harness's objectState walks MikroORM 6's
 * collections into cycles): every entity of the graph, by role.
 */
function graphState(orders: any[]): object[] {
  const id = (entity: any) => entity?.id ?? null;
  return [
    ...orders.map((o) => ({ id: o.id, ref: o.ref, shop: id(o.shop), lines: linesOf([o]).map(id) })),
    ...linesOf(orders).map((l) => ({ id: l.id, sku: l.sku, qty: l.qty, order: id(l.order), product: id(l.product) })),
    ...[orders[0].shop, linesOf(orders)[0].product].map((e) => ({ id: e.id, name: e.name })),
  ];
}

/** The orders with their shops and lines (and the lines' products), as plain data. */
function orderState(orders: any[]): object[] {
  const id = (entity: any) => entity?.id ?? null;
  return orders.map((o) => ({
    id: o.id,
    ref: o.ref,
    shop: o.shop ? { id: id(o.shop), name: o.shop.name } : null,
    lines: linesOf([o]).map((l) => ({
      id: l.id,
      sku: l.sku,
      order: id(l.order),
      product: l.product ? { id: id(l.product), name: l.product.name } : null,
    })),
  }));
}

/** Three orders, each at a new shop with one new line of a new product; with `clash`, row 2's line repeats row 0's sku. */
function buildEach(side: OrmUnderTest, clash: boolean): any[] {
  return ['o0', 'o1', 'o2'].map((ref, i) => {
    const order = side.create('Order', { ref, shop: side.create('Shop', { name: `s${i}` }) });
    const product = side.create('Product', { name: `p${i}` });
    setLines(side, order, [side.create('OrderLine', { sku: clash && i === 2 ? 'a0' : `a${i}`, qty: 1, product })]);
    return order;
  });
}

/** The foreign-key columns of TABLES and the tables they refer to. */
const REFERS = { shop_id: 'shop', order_id: 'purchase_order', product_id: 'product' } as Record<string, string>;

/**
 * The side's rows with every key and foreign key replaced by the rank of the key in its table:
 * equal for equal rows written in the same order, whatever sequence values a rolled-back try used.
 */
async function rankedRows(side: OrmUnderTest): Promise<Record<string, unknown[]>> {
  const rows = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await side.rows(t)] as const)));
  const rank = (table: string, id: unknown) => (id === null ? null : (rows[table] ?? []).findIndex((r) => r.id === id) + 1);
  return Object.fromEntries(
    TABLES.map((t) => [
      t,
      (rows[t] ?? []).map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [k, k === 'id' ? rank(t, v) : REFERS[k] ? rank(REFERS[k] as string, v) : v]),
        ),
      ),
    ]),
  );
}

function linesOf(orders: any[]): any[] {
  return orders.flatMap((order) => [...(order.lines ?? [])]);
}

/** Statements of the side's SQL log since `from` that insert into `table`. */
function insertsInto(side: OrmUnderTest, table: string, from = 0): number {
  return side.sql
    .slice(from)
    .filter((entry) => new RegExp(`^\\s*(insert into|copy)\\s+("?[\\w$]+"?\\.)?"?${table}"?[\\s(]`, 'i').test(entry.sql)).length;
}

/** What a following flush (MikroORM) or save() of the same objects (TypeORM) writes, schema names left out. */
async function followingWrites(side: OrmUnderTest, orders: any[]): Promise<string[]> {
  const from = side.sql.length;
  if (side.orm === 'mikro-orm') await (side.native.em as any).flush();
  else await side.ormSave(orders);
  return side.sql
    .slice(from)
    .filter((entry) => /^\s*(insert|update|delete|copy)\b/i.test(entry.sql))
    .map((entry) => `${entry.sql.replaceAll(`"${side.schema}".`, '')} ${JSON.stringify(entry.params)}`);
}

/**
 * After the call the objects are clean: a following flush sends nothing (MikroORM); a following
 * save() of the roots writes what it writes after save() itself (TypeORM: it sets a null many-to-one
 * again, `shop_id = NULL` of o2, after its own save too).
 */
async function expectClean(side: OrmUnderTest, orders: any[], ref: OrmUnderTest, refOrders: any[]): Promise<void> {
  const writes = await followingWrites(side, orders);
  if (side.orm === 'mikro-orm') expect(writes).toEqual([]);
  else expect(writes).toEqual(await followingWrites(ref, refOrders));
}

/** The entity events of the side's hook log, as `event Class key`. */
function entityEvents(side: OrmUnderTest): string[] {
  return side.hooks.filter((h) => h.entity !== null && h.event !== 'afterLoad').map((h) => `${h.event} ${h.entity} ${h.key}`);
}

/** Per class in turn: its before events, then its after events. */
/** TypeORM's order: every before-event of the groups (in `befores` order), then every after-event (in `afters` order). */
function graphOrder(before: string, after: string, befores: string[][], afters: string[][]): string[] {
  const events = (kind: string, groups: string[][]) =>
    groups.flatMap(([entity, ...keys]) => keys.map((k) => `${kind} ${entity} ${k}`));
  return [...events(before, befores), ...events(after, afters)];
}

function classes(before: string, after: string, groups: string[][]): string[] {
  return groups.flatMap(([entity, ...keys]) => [
    ...keys.map((k) => `${before} ${entity} ${k}`),
    ...keys.map((k) => `${after} ${entity} ${k}`),
  ]);
}

/** Whether the side's EntityManager manages the entity (MikroORM's identity map; TypeORM has none). */
function managed(side: OrmUnderTest, entity: object): boolean {
  const uow = (side.native.em as any).getUnitOfWork();
  return [...uow.getIdentityMap().values()].includes(entity);
}

describeConformance('cascade inserts of new related entities', ({ subject, reference }) => {
  let faults: FaultHooks;
  beforeAll(() => {
    // Batch subscriber methods on OrderLine, per-entity hooks on every class; idle until armed.
    faults = new FaultHooks(subject(), 'order_line');
  });

  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}: new shop before, new lines (and their new product) after, one INSERT per table`, async () => {
      const ref = reference();
      const refOrders = build(ref);
      await ref.ormSave(refOrders);

      const sub = subject();
      const subOrders = build(sub);
      const from = sub.sql.length;
      const result = await sub[call](subOrders);
      expect(result).toMatchObject({ inserted: 3, batches: 1 });
      expect(result.byEntity).toEqual({
        Order: { inserted: 3, updated: 0 },
        Shop: { inserted: 1, updated: 0 },
        Product: { inserted: 1, updated: 0 },
        OrderLine: { inserted: 3, updated: 0 },
      });
      for (const table of TABLES) expect(insertsInto(sub, table, from), `inserts into ${table}`).toBe(1);
      await expectSameOutcome(ref, sub, {
        ...SAME,
        // TypeORM's save() orders its events otherwise (pinned below; docs/differences.md).
        ignoreEvents: sub.orm === 'typeorm' ? [...SAME.ignoreEvents, ...CREATE_EVENTS, 'afterUpdate'] : SAME.ignoreEvents,
        entitiesRef: graphState(refOrders),
        entitiesSub: graphState(subOrders),
      });
      if (sub.orm === 'typeorm') {
        // cohort, as save(): every before-insert event (the rows', then each related class's), then
        // the statements, then every after-insert event (the classes inserted before the rows first).
        expect(entityEvents(sub)).toEqual(
          graphOrder(
            'beforeInsert',
            'afterInsert',
            [
              ['Order', 'o0', 'o1', 'o2'],
              ['Shop', 'corner'],
              ['Product', 'widget'],
              ['OrderLine', 'a1', 'a2', 'c1'],
            ],
            [
              ['Shop', 'corner'],
              ['Order', 'o0', 'o1', 'o2'],
              ['Product', 'widget'],
              ['OrderLine', 'a1', 'a2', 'c1'],
            ],
          ),
        );
        // save(): every before-insert event first (subjects in the order it found them: the rows, then
        // what their relations cascade to, depth first), the INSERTs with the non-nullable references
        // first (order, line, product, shop), an UPDATE per row for a nullable foreign key to an entity
        // inserted later, then the after-insert events in insert order and the UPDATEs' after-update ones.
        expect(entityEvents(ref)).toEqual([
          ...[
            'Order o0',
            'Order o1',
            'Order o2',
            'Shop corner',
            'OrderLine a1',
            'Product widget',
            'OrderLine a2',
            'OrderLine c1',
          ].map((e) => `beforeInsert ${e}`),
          ...[
            'Order o0',
            'Order o1',
            'Order o2',
            'OrderLine a1',
            'OrderLine a2',
            'OrderLine c1',
            'Product widget',
            'Shop corner',
          ].map((e) => `afterInsert ${e}`),
          ...['Order o0', 'Order o1', 'OrderLine a1', 'OrderLine a2'].map((e) => `afterUpdate ${e}`),
        ]);
      } else {
        // Every written entity is managed, as after flush.
        const graph = [...subOrders, ...linesOf(subOrders), subOrders[0].shop, linesOf(subOrders)[0].product];
        expect(graph.filter((entity) => !managed(sub, entity))).toEqual([]);
      }
      await expectClean(sub, subOrders, ref, refOrders);
    });
  }

  it('a hook throwing at a line of row 2: BulkHookError naming the row and Order.lines, nothing written, nothing managed', async () => {
    const sub = subject();
    const orders = build(sub);
    const fault = {
      when: (c: { point: string; entity?: Record<string, unknown> }) => c.point === 'beforeInsert' && c.entity?.sku === 'c1',
      act: () => {
        throw new Error('injected at c1');
      },
    };
    const error = await faults
      .with(fault, () => sub.bulkInsert(orders))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(BulkHookError);
    expect(error).toMatchObject({ index: 2, relation: { entityName: 'Order', property: 'lines', target: 'OrderLine' } });
    for (const table of TABLES) expect(await sub.rows(table), table).toEqual([]);
    if (sub.orm === 'mikro-orm') {
      const graph = [...orders, ...linesOf(orders), orders[0].shop, linesOf(orders)[0].product];
      expect(graph.filter((entity) => managed(sub, entity))).toEqual([]);
    } else {
      // The shop and the product were inserted before the hook threw: left without keys, as by save().
      expect([orders[0].shop.id, linesOf(orders)[0].product.id]).toEqual([undefined, undefined]);
    }
  });

  it("batch subscribers get each class's batch once per cohort batch", async () => {
    const sub = subject();
    const seen: string[] = [];
    const fault = {
      when: (c: { point: string; batch?: number }) => {
        if (c.point.includes('Bulk')) seen.push(`${c.point} ${c.batch}`);
        return false;
      },
      act: () => undefined,
    };
    // Batches do not overlap here: batch 0's lines go in after its statement, batch 1 waits for them.
    await faults.with(fault, () => sub.bulkInsert(build(sub), { batchSize: 2 }));
    expect(seen).toEqual(['beforeBulkInsert 0', 'afterBulkInsert 0', 'beforeBulkInsert 1', 'afterBulkInsert 1']);
    expect(await sub.query('SELECT count(*)::int AS n FROM order_line')).toEqual([{ n: 3 }]);
  });

  it('bulkSave of a changed stored order with new ones: every class inserted first, then the UPDATE, as flush', async () => {
    const sides = [reference(), subject()];
    const graphs: any[][] = [];
    for (const side of sides) {
      const stored = side.create('Order', { ref: 'old', shop: null });
      await side.ormSave([stored]);
      side.resetLogs();
      stored.ref = 'old!';
      graphs.push([stored, ...build(side)]);
    }
    const [ref, sub] = sides as [OrmUnderTest, OrmUnderTest];
    await ref.ormSave(graphs[0] as any[]);
    const result = await sub.bulkSave(graphs[1] as any[]);
    expect(result).toMatchObject({ inserted: 3, updated: 1 });
    expect(result.byEntity).toMatchObject({ Order: { inserted: 3, updated: 1 }, OrderLine: { inserted: 3 } });
    await expectSameOutcome(ref, sub, {
      ...SAME,
      // TypeORM's save() orders its insert events otherwise (pinned in the first scenario).
      ignoreEvents: sub.orm === 'typeorm' ? [...SAME.ignoreEvents, ...CREATE_EVENTS, 'afterUpdate'] : SAME.ignoreEvents,
      entitiesRef: graphState((graphs[0] as any[]).slice(1)),
      entitiesSub: graphState((graphs[1] as any[]).slice(1)),
    });
    await expectClean(sub, graphs[1] as any[], ref, graphs[0] as any[]);
  });

  for (const storedFirst of [true, false]) {
    it(`bulkSave: a stored order set to a new shop that a new order of the batch also brings (${storedFirst ? 'stored row first' : 'new row first'}): the shop inserted once before both rows, both keys set, as the ORM's save`, async () => {
      const sides = [reference(), subject()];
      const inputs: any[][] = [];
      for (const side of sides) {
        const stored = side.create('Order', { ref: 'old', shop: null });
        await side.ormSave([stored]);
        side.resetLogs();
        const shop = side.create('Shop', { name: 'both' });
        stored.shop = shop;
        const fresh = side.create('Order', { ref: 'new', shop });
        inputs.push(storedFirst ? [stored, fresh] : [fresh, stored]);
      }
      const [ref, sub] = sides as [OrmUnderTest, OrmUnderTest];
      await ref.ormSave(inputs[0] as any[]);
      const shopIds = (await ref.rows('purchase_order')).map((r: any) => r.shop_id);
      expect(shopIds.every((id: unknown) => id !== null && id === shopIds[0])).toBe(true);
      const result = await sub.bulkSave(inputs[1] as any[]);
      expect(result).toMatchObject({ inserted: 1, updated: 1 });
      expect(result.byEntity).toEqual({ Order: { inserted: 1, updated: 1 }, Shop: { inserted: 1, updated: 0 } });
      expect(insertsInto(sub, 'shop')).toBe(1);
      await expectSameOutcome(ref, sub, {
        ...SAME,
        ignoreEvents: sub.orm === 'typeorm' ? [...SAME.ignoreEvents, ...CREATE_EVENTS, 'afterUpdate'] : SAME.ignoreEvents,
        entitiesRef: orderState(inputs[0] as any[]),
        entitiesSub: orderState(inputs[1] as any[]),
      });
      await expectClean(sub, inputs[1] as any[], ref, inputs[0] as any[]);
    });
  }

  /**
   * Three stored orders, then: o0 and o1 set to one new shop, o2 to another, o1 given two new lines
   * (the second of a new product), o3 stored and left unchanged.
   */
  async function storedGraph(side: OrmUnderTest, skus = ['n1', 'n2']): Promise<any[]> {
    const orders = ['o0', 'o1', 'o2', 'o3'].map((ref) => side.create('Order', { ref, shop: null }));
    for (const order of orders) setLines(side, order, []);
    await side.ormSave(orders);
    side.resetLogs();
    const [s1, s2] = ['s1', 's2'].map((name) => side.create('Shop', { name }));
    orders[0].shop = s1;
    orders[1].shop = s1;
    orders[2].shop = s2;
    const product = side.create('Product', { name: 'gadget' });
    const lines = [
      side.create('OrderLine', { sku: skus[0], qty: 1, product: null }),
      side.create('OrderLine', { sku: skus[1], qty: 2, product }),
    ];
    for (const line of lines) line.order = orders[1];
    if (side.orm === 'mikro-orm') orders[1].lines.add(lines);
    else orders[1].lines = lines;
    return orders;
  }

  const CLASHING_LINE =
    "WITH o AS (INSERT INTO purchase_order (ref) VALUES ('x') RETURNING id) INSERT INTO order_line (sku, qty, order_id) SELECT $1, 1, id FROM o";

  // bulkUpdate inserts them as bulkSave does for its stored rows: the same steps (stored-cascades.ts).
  for (const [call, batchSize] of [
    ['bulkSave', undefined],
    ['bulkSave', 2],
    ['bulkUpdate', undefined],
    ['bulkUpdate', 2],
  ] as const) {
    it(`${call} of stored orders only${batchSize ? ', two per batch' : ''}: their new shops inserted before the UPDATE, new lines after, as the ORM's save`, async () => {
      const ref = reference();
      const refOrders = await storedGraph(ref);
      await ref.ormSave(refOrders);
      const sub = subject();
      const subOrders = await storedGraph(sub);
      const from = sub.sql.length;
      const result = await sub[call](subOrders, batchSize ? { batchSize } : {});
      // TypeORM's save() writes o3's null shop again (`shop_id = NULL`): updated, as save() counts it.
      const updated = sub.orm === 'typeorm' ? 4 : 3;
      expect(result).toMatchObject({ inserted: 0, updated, unchanged: 4 - updated });
      expect(result.byEntity).toEqual({
        Order: { inserted: 0, updated },
        Shop: { inserted: 2, updated: 0 },
        Product: { inserted: 1, updated: 0 },
        OrderLine: { inserted: 2, updated: 0 },
      });
      // One statement per related class and batch: s1 and s2 in one batch, or one per batch.
      expect(insertsInto(sub, 'shop', from)).toBe(batchSize ? 2 : 1);
      for (const table of ['order_line', 'product']) expect(insertsInto(sub, table, from), table).toBe(1);
      const updates = sub.sql
        .slice(from)
        .filter((e) => /\bupdate\b[^;]*"purchase_order"/i.test(e.sql) && !/^\s*select/i.test(e.sql));
      expect(updates).toHaveLength(batchSize ? 2 : 1);
      if (batchSize) {
        // Batch by batch, each batch's hooks around its own statements: rows and objects as save().
        for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
        expect(orderState(subOrders)).toEqual(orderState(refOrders));
      } else {
        await expectSameOutcome(ref, sub, {
          ...SAME,
          // TypeORM: the insert events' order and the UPDATE of n2 (pinned below).
          ignoreEvents: sub.orm === 'typeorm' ? [...SAME.ignoreEvents, ...CREATE_EVENTS, 'afterUpdate'] : SAME.ignoreEvents,
          entitiesRef: orderState(refOrders),
          entitiesSub: orderState(subOrders),
        });
      }
      if (sub.orm === 'typeorm' && !batchSize) {
        // save() and cohort alike: every before-event of the graph (inserts, then updates) before the
        // first statement, every after-event after the last; the inserts' events in their own order,
        // and save() updates n2 for its product inserted after it (as for new rows, pinned above).
        const refEvents = entityEvents(ref).filter((e) => e !== 'afterUpdate OrderLine n2');
        const kinds = (events: string[]) => events.map((e) => e.split(' ')[0]);
        expect(kinds(entityEvents(sub))).toEqual(kinds(refEvents));
        expect([...entityEvents(sub)].sort()).toEqual([...refEvents].sort());
        expect(entityEvents(ref)).toContain('afterUpdate OrderLine n2');
      }
      await expectClean(sub, subOrders, ref, refOrders);
    });
  }

  for (const call of ['bulkSave', 'bulkUpdate'] as const) {
    it(`${call} of stored orders: a hook throwing at the new shop of row 2 rolls back everything, the error names the row and Order.shop`, async () => {
      const sub = subject();
      const orders = await storedGraph(sub);
      const before = await Promise.all(TABLES.map((table) => sub.rows(table)));
      const fault = {
        when: (c: { point: string; entity?: Record<string, unknown> }) => c.point === 'beforeInsert' && c.entity?.name === 's2',
        act: () => {
          throw new Error('injected at s2');
        },
      };
      const error = await faults
        .with(fault, () => sub[call](orders))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(BulkHookError);
      expect(error).toMatchObject({ index: 2, relation: { entityName: 'Order', property: 'shop', target: 'Shop' } });
      expect(await Promise.all(TABLES.map((table) => sub.rows(table)))).toEqual(before);
    });

    it(`${call} of stored orders: a unique violation at a new line of row 1 rolls back the shops and products too, the error names OrderLine via Order.lines`, async () => {
      const ref = reference();
      // A stored line (of an order outside the call) holds the sku n2 that row 1's second new line repeats.
      const refOrders = await storedGraph(ref);
      await ref.query(CLASHING_LINE, ['n2']);
      await expect(ref.ormSave(refOrders)).rejects.toThrow();
      const sub = subject();
      const subOrders = await storedGraph(sub);
      await sub.query(CLASHING_LINE, ['n2']);
      const before = await Promise.all(TABLES.map((table) => sub.rows(table)));
      const error = await sub[call](subOrders).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BulkDatabaseError);
      expect(error).toMatchObject({
        index: 1,
        relation: { entityName: 'Order', property: 'lines', target: 'OrderLine' },
        constraint: 'order_line_sku_unique',
      });
      expect(await Promise.all(TABLES.map((table) => sub.rows(table)))).toEqual(before);
      for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
    });
  }

  it('bulkUpdate of stored orders with a new order among them: still an error naming the new row, nothing written', async () => {
    const sub = subject();
    const orders = await storedGraph(sub);
    const fresh = sub.create('Order', { ref: 'new', shop: sub.create('Shop', { name: 's3' }) });
    setLines(sub, fresh, []);
    const before = await Promise.all(TABLES.map((table) => sub.rows(table)));
    const error = await sub.bulkUpdate([...orders, fresh]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkValidationError);
    expect(error).toMatchObject({ failures: [{ index: 4, property: 'id' }] });
    expect(await Promise.all(TABLES.map((table) => sub.rows(table)))).toEqual(before);
    expect(fresh.shop.id).toBeUndefined();
  });

  it("bulkUpdate of stored orders reaching new entities with onInvalid: 'skip': refused before anything runs, as bulkSave", async () => {
    const sub = subject();
    const orders = await storedGraph(sub);
    const before = await Promise.all(TABLES.map((table) => sub.rows(table)));
    const named: unknown[] = [];
    for (const call of ['bulkSave', 'bulkUpdate'] as const) {
      const error = await sub[call](orders, { onInvalid: 'skip' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'cascade insert', option: "onInvalid: 'skip'" });
      // The first related class found names the relation (MikroORM 6: the lines, persisted first).
      const { entityName, property, index } = error as UnsupportedFeatureError;
      named.push({ entityName, property, index });
    }
    expect(named[1]).toEqual(named[0]);
    expect(await Promise.all(TABLES.map((table) => sub.rows(table)))).toEqual(before);
    expect(sub.hooks.filter((h) => h.entity !== null && h.event !== 'afterLoad')).toEqual([]);
  });

  for (const withShop of [false, true]) {
    it(`bulkSave: a stored order given a new label (many-to-many)${withShop ? ' and a new shop' : ''}: inserted before the UPDATE and linked after it, as the ORM's save`, async () => {
      const sides = [reference(), subject()];
      const orders: any[] = [];
      for (const side of sides) {
        const order = side.create('Order', { ref: 'o', shop: null });
        if (side.orm === 'mikro-orm') order.labels.set([]);
        else order.labels = [];
        await side.ormSave([order]);
        side.resetLogs();
        if (withShop) order.shop = side.create('Shop', { name: 's' });
        const label = side.create('Label', { name: 'new' });
        if (side.orm === 'mikro-orm') order.labels.add(label);
        else order.labels = [label];
        orders.push(order);
      }
      const [ref, sub] = sides as [OrmUnderTest, OrmUnderTest];
      const [refOrder, subOrder] = orders;
      await ref.ormSave([refOrder]);
      const result = await sub.bulkSave([subOrder]);
      expect(result.byEntity).toMatchObject({ Label: { inserted: 1, updated: 0 }, ...(withShop && { Shop: { inserted: 1 } }) });
      const state = (o: any) => ({ id: o.id, shop: o.shop?.id ?? null, labels: [...o.labels].map((l: any) => l.id) });
      await expectSameOutcome(ref, sub, {
        ...SAME,
        tables: ['purchase_order', 'label', 'order_label', 'shop'],
        entitiesRef: [state(refOrder)],
        entitiesSub: [state(subOrder)],
      });
      expect(await followingWrites(sub, [subOrder])).toEqual(await followingWrites(ref, [refOrder]));
    });
  }

  it('in batches: one INSERT per table and batch; a related entity shared across batches is inserted once', async () => {
    const ref = reference();
    const refOrders = build(ref);
    await ref.ormSave(refOrders);

    const sub = subject();
    const subOrders = build(sub);
    const from = sub.sql.length;
    const result = await sub.bulkInsert(subOrders, { batchSize: 2, pipeline: false });
    expect(result).toMatchObject({ inserted: 3, batches: 2 });
    // Per batch, class after class (flush and save() take all rows at once: docs/differences.md).
    if (sub.orm === 'mikro-orm') {
      expect(entityEvents(sub)).toEqual(
        classes('beforeCreate', 'afterCreate', [
          ['Product', 'widget'],
          ['Shop', 'corner'],
          ['Order', 'o0', 'o1'],
          ['OrderLine', 'a1', 'a2'],
          ['Order', 'o2'],
          ['OrderLine', 'c1'],
        ]),
      );
      expect(entityEvents(ref)).toEqual(
        classes('beforeCreate', 'afterCreate', [
          ['Product', 'widget'],
          ['Shop', 'corner'],
          ['Order', 'o0', 'o1', 'o2'],
          ['OrderLine', 'a1', 'a2', 'c1'],
        ]),
      );
    } else {
      // Per batch, as save(): every before-insert event of the batch's graph, then every after-insert one.
      expect(entityEvents(sub)).toEqual([
        ...graphOrder(
          'beforeInsert',
          'afterInsert',
          [
            ['Order', 'o0', 'o1'],
            ['Shop', 'corner'],
            ['Product', 'widget'],
            ['OrderLine', 'a1', 'a2'],
          ],
          [
            ['Shop', 'corner'],
            ['Order', 'o0', 'o1'],
            ['Product', 'widget'],
            ['OrderLine', 'a1', 'a2'],
          ],
        ),
        ...graphOrder(
          'beforeInsert',
          'afterInsert',
          [
            ['Order', 'o2'],
            ['OrderLine', 'c1'],
          ],
          [
            ['Order', 'o2'],
            ['OrderLine', 'c1'],
          ],
        ),
      ]);
    }
    expect(result.byEntity).toMatchObject({ Shop: { inserted: 1 }, Product: { inserted: 1 }, OrderLine: { inserted: 3 } });
    // Batch 1 (o0, o1): the shop, the product, the orders, o0's lines; batch 2 (o2): the order, its line.
    expect(TABLES.map((table) => insertsInto(sub, table, from))).toEqual([1, 2, 2, 1]);
    // Per batch and class the hooks run as for one flush of that batch's graph (docs/differences.md).
    await expectSameOutcome(ref, sub, {
      ...SAME,
      ignoreEvents: [...SAME.ignoreEvents, ...CREATE_EVENTS, 'afterUpdate'],
      entitiesRef: graphState(refOrders),
      entitiesSub: graphState(subOrders),
    });
    await expectClean(sub, subOrders, ref, refOrders);
  });

  it("one order per batch: the new shop's collection holds an order of a later batch, which links to it there", async () => {
    const ref = reference();
    const refOrders = build(ref);
    await ref.ormSave(refOrders);
    const sub = subject();
    const subOrders = build(sub);
    const result = await sub.bulkInsert(subOrders, { batchSize: 1 });
    expect(result).toMatchObject({ inserted: 3, batches: 3, byEntity: { Shop: { inserted: 1 }, OrderLine: { inserted: 3 } } });
    for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
    expect(graphState(subOrders)).toEqual(graphState(refOrders));
    await expectClean(sub, subOrders, ref, refOrders);
  });

  it('a constraint violation at a line of row 2: every table unchanged, the error names OrderLine via Order.lines and row 2', async () => {
    const ref = reference();
    // o2's line repeats o0's first sku: order_line_sku_unique.
    const refOrders = build(ref, ['a1', 'a2', 'a1']);
    await expect(ref.ormSave(refOrders)).rejects.toThrow();
    const sub = subject();
    const subOrders = build(sub, ['a1', 'a2', 'a1']);
    const error = await sub.bulkInsert(subOrders).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkDatabaseError);
    expect(error).toMatchObject({
      index: 2,
      relation: { entityName: 'Order', property: 'lines', target: 'OrderLine' },
      constraint: 'order_line_sku_unique',
    });
    expect((error as Error).message).toContain('OrderLine reached through Order.lines');
    for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
    for (const table of TABLES) expect(await sub.rows(table), table).toEqual([]);
    // The objects as the ORM's failed save leaves them (MikroORM: the keys of what it inserted before the failure).
    if (sub.orm === 'mikro-orm') expect(graphState(subOrders)).toEqual(graphState(refOrders));
    else {
      // save() puts keys on the objects after its last statement: a failed one leaves none. cohort
      // leaves the related entities so too (the shop, the product); the rows keep the keys their
      // statement gave them (docs/differences.md).
      expect(graphState(refOrders).filter((e: any) => e.id !== undefined)).toEqual([]);
      expect(graphState(subOrders).map((e: any) => e.id)).toEqual([
        1,
        2,
        3,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
    }
    // The cause removed, the same call with the same objects writes them all, as a clean save would:
    // every reference is still on the objects (MikroORM: the related entities it inserted are new again).
    linesOf([subOrders[2]])[0].sku = 'c1';
    await sub.bulkInsert(subOrders);
    // The clean run: the reference's failed flush left its entities managed, so it starts afresh.
    ref.native.em?.clear();
    await ref.ormSave(build(ref));
    expect(await rankedRows(sub)).toEqual(await rankedRows(ref));
    expect(graphState(subOrders).every((e: any) => e.id !== undefined && e.id !== null)).toBe(true);
  });

  it('atomic: false, a unique violation at the line of batch 2: resuming with the same objects writes the rest, rows as a clean run', async () => {
    const ref = reference();
    const refOrders = buildEach(ref, false);
    await ref.ormSave(refOrders);
    const sub = subject();
    const orders = buildEach(sub, true);
    const error = await sub.bulkInsert(orders, { batchSize: 1, atomic: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PartialImportError);
    expect(error).toMatchObject({ landedBatches: [0, 1], resumeFrom: 2 });
    expect((error as Error).cause).toMatchObject({ index: 2, constraint: 'order_line_sku_unique' });
    // Committed batches keep their keys; the failed batch's related entities are left as the ORM's
    // failed save leaves them: TypeORM without keys, MikroORM with the keys its statements gave them,
    // unmanaged (flush inserts an entity without a snapshot, a key or not).
    const keys = (o: any) => [o.shop.id, linesOf([o])[0].product.id, linesOf([o])[0].id];
    expect(orders.slice(0, 2).map(keys)).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    if (sub.orm === 'typeorm') expect(keys(orders[2])).toEqual([undefined, undefined, undefined]);
    else {
      expect(keys(orders[2])).toEqual([3, 3, undefined]);
      expect([orders[2].shop, linesOf([orders[2]])[0].product].filter((e) => managed(sub, e))).toEqual([]);
    }
    linesOf([orders[2]])[0].sku = 'a2';
    const resumed = await sub.bulkInsert(orders.slice(2), { batchSize: 1, atomic: false });
    expect(resumed).toMatchObject({
      inserted: 1,
      byEntity: { Shop: { inserted: 1 }, OrderLine: { inserted: 1 }, Product: { inserted: 1 } },
    });
    expect(await rankedRows(sub)).toEqual(await rankedRows(ref));
    expect(orders.map(keys).map((k) => k.every((key) => key !== undefined))).toEqual([true, true, true]);
  });

  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}: a new shop whose key is set by hand and has no row: MikroORM inserts it as flush; TypeORM refuses Order.shop (save() looks it up, inserts it)`, async () => {
      const make = (side: OrmUnderTest) => {
        const shop = side.create('Shop', { id: 99, name: 'hand' });
        return [side.create('Order', { ref: 'o0', shop: null }), side.create('Order', { ref: 'o1', shop })];
      };
      const ref = reference();
      await ref.ormSave(make(ref));
      const sub = subject();
      const orders = make(sub);
      if (sub.orm === 'mikro-orm') {
        await sub[call](orders);
        for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
        expect(orders[1].shop.id).toBe(99);
        return;
      }
      // save() drops the explicit serial key: the shop gets the next one.
      expect(await ref.rows('shop')).toMatchObject([{ id: 1, name: 'hand' }]);
      const error = await sub[call](orders).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'cascade insert', entityName: 'Order', property: 'shop', index: 1 });
      expect((error as Error).message).toContain('has a key');
      for (const table of TABLES) expect(await sub.rows(table), table).toEqual([]);
    });
  }

  it('a new order at a stored shop given as an object with its key: only the foreign key is written, as the ORM', async () => {
    const seedAndMake = async (side: OrmUnderTest) => {
      await side.ormSave([side.create('Shop', { name: 'stored' })]);
      return [side.create('Order', { ref: 'o0', shop: side.create('Shop', { id: 1, name: 'stored' }) })];
    };
    const ref = reference();
    // MikroORM: an unmanaged object with a key is new to flush (a unique violation): loaded instead.
    const refOrders = await seedAndMake(ref);
    const sub = subject();
    const orders = await seedAndMake(sub);
    if (sub.orm === 'mikro-orm') {
      const load = async (side: OrmUnderTest, list: any[]) => {
        list[0].shop = (await side.find('Shop'))[0];
      };
      await load(ref, refOrders);
      await load(sub, orders);
    }
    await ref.ormSave(refOrders);
    await sub.bulkInsert(orders);
    for (const table of TABLES) expect(await sub.rows(table), table).toEqual(await ref.rows(table));
  });

  it('an invalid line of row 2: BulkValidationError naming the row and Order.lines, nothing written', async () => {
    const sub = subject();
    const orders = build(sub);
    linesOf(orders)[2].qty = 'three';
    const error = await sub.bulkSave(orders).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkValidationError);
    expect(error).toMatchObject({
      index: 2,
      relation: { entityName: 'Order', property: 'lines', target: 'OrderLine' },
      failures: [{ index: 2, property: 'qty' }],
    });
    expect((error as Error).message).toContain('OrderLine reached through Order.lines');
    for (const table of TABLES) expect(await sub.rows(table), table).toEqual([]);
  });

  it("options that may leave a row unwritten while its related entities are written are refused: onInvalid: 'skip', onConflict", async () => {
    const sub = subject();
    for (const options of [{ onInvalid: 'skip' as const }, { onConflict: 'ignore' as const }]) {
      const error = await sub.bulkInsert(build(sub), options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'cascade insert', index: 0 });
    }
    for (const table of TABLES) expect(await sub.rows(table), table).toEqual([]);
  });
});
