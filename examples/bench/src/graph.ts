// The graph workload (issue 22): N orders, 3N order items (each referencing its order by a foreign
// key) and 2N links from the orders to 50 stored tags (many-to-many through `order_tags`), written
// with hooks on and keys back on every order and item. Paths: the raw per-table route (the anchor),
// TypeORM save() and MikroORM persist + flush (the graph followed by the ORM), cohort called per
// table by hand, and one cohort call on the orders that follows the graph by cascade.

import type { CaseSession } from './db.js';
import type { MikroOrder, MikroOrderItem } from './graph-mikro-entities.js';
import type { TypeormOrder, TypeormOrderItem } from './graph-typeorm-entities.js';
import type { HookCounts } from './hooks.js';
import { type CohortResult, mikroFn, type PathDef, type Prepared, withStrategy } from './paths.js';

/** Items per order, tags stored, tags per order. */
export const ITEMS_PER_ORDER = 3;
export const TAGS = 50;
export const TAGS_PER_ORDER = 2;

/**
 * The orders TypeORM save() runs at when the plan's size is larger (about 30 s per 10,000 orders;
 * its chunks make its time linear in the orders, so its ratios are taken per order).
 * BENCH_GRAPH_SLOW_ROWS=0 runs it at the plan's size. MikroORM's flush runs at the plan's size.
 */
const slowRows = Number(process.env.BENCH_GRAPH_SLOW_ROWS ?? 10_000) || undefined;

/**
 * TypeORM save() sends one INSERT per entity class per chunk, binding every value: a chunk of 10,000
 * orders binds 90,000 item parameters, over PostgreSQL's 65,535 (measured: "bind message has 24464
 * parameter formats but 0 parameters"). 5,000 orders bind 45,000.
 */
const SAVE_CHUNK = 5_000;

const BASE = Date.UTC(2026, 0, 1);

/** The DDL of the graph's tables in `schema` (quoted), the 50 tags stored. */
export function graphTables(schema: string): string[] {
  return [
    `CREATE TABLE ${schema}.tag (id serial PRIMARY KEY, name varchar(255) NOT NULL)`,
    `CREATE TABLE ${schema}.orders (id serial PRIMARY KEY, qty integer NOT NULL, label varchar(255) NOT NULL, created_at timestamptz NOT NULL)`,
    `CREATE TABLE ${schema}.order_item (id serial PRIMARY KEY, qty integer NOT NULL, label varchar(255) NOT NULL, ` +
      `order_id integer NOT NULL REFERENCES ${schema}.orders (id))`,
    `CREATE INDEX ON ${schema}.order_item (order_id)`,
    `CREATE TABLE ${schema}.order_tags (order_id integer NOT NULL REFERENCES ${schema}.orders (id) ON DELETE CASCADE, ` +
      `tag_id integer NOT NULL REFERENCES ${schema}.tag (id), PRIMARY KEY (order_id, tag_id))`,
    `INSERT INTO ${schema}.tag (name) SELECT 'tag-' || g FROM generate_series(1, ${TAGS}) AS g`,
    `ANALYZE ${schema}.tag`,
  ];
}

/** The values of order `i`; `tag` keeps labels unique across runs. */
const orderValues = (i: number, tag: string) => ({ qty: i, label: `${tag}-o${i}`, createdAt: new Date(BASE + i * 1000) });
/** The values of item `j` (of order `j / 3`, rounded down). */
const itemValues = (j: number, tag: string) => ({ qty: j, label: `${tag}-i${j}` });
/** The positions (0–49, in the tags ordered by id) of the two tags of order `i`: always two distinct. */
const tagPositions = (i: number): [number, number] => [i % TAGS, (i + 1 + (i % (TAGS - 1))) % TAGS];

interface Keyed {
  id?: number;
}
interface OrderLike extends Keyed {
  qty: number;
  label: string;
  createdAt: Date;
}
interface ItemLike extends Keyed {
  qty: number;
  label: string;
}

/** What a graph path's check needs: the orders and items written (item j belongs to order j / 3) and the tag ids in order. */
interface GraphObjects {
  orders: OrderLike[];
  items: ItemLike[];
  tagIds: number[];
}

async function tagIds(session: CaseSession): Promise<number[]> {
  const { rows } = await session.client.query(`SELECT id FROM "${session.schema}".tag ORDER BY id`);
  return rows.map((r) => r.id as number);
}

/**
 * Fails the case when a table or an object is wrong: rows in every table, keys on every order and
 * item (distinct), a sample of orders by key (values, their two tags) and of items (values, their
 * order's key); lifecycle calls (one listener + before + after per order and per item) are warnings,
 * as in the other workloads. Returns the fraction of orders and items holding a key.
 */
async function checkGraph(
  session: CaseSession,
  path: Pick<PathDef, 'keysPromised' | 'hooksPromised'>,
  { orders, items, tagIds }: GraphObjects,
  counts: HookCounts,
  warnings: Set<string>,
): Promise<number> {
  const fail = (what: string): never => {
    throw new Error(`check failed: ${what}`);
  };
  const s = `"${session.schema}"`;
  const n = orders.length;
  const { rows: stored } = await session.client.query(
    `SELECT (SELECT count(*)::int FROM ${s}.orders) AS orders, (SELECT count(*)::int FROM ${s}.order_item) AS items, ` +
      `(SELECT count(*)::int FROM ${s}.order_tags) AS links, (SELECT count(*)::int FROM ${s}.tag) AS tags`,
  );
  const expected = { orders: n, items: n * ITEMS_PER_ORDER, links: n * TAGS_PER_ORDER, tags: TAGS };
  for (const [table, count] of Object.entries(expected))
    if (stored[0][table] !== count) fail(`${stored[0][table]} rows of ${table}, expected ${count}`);

  const keyed = (objects: Keyed[], what: string) => {
    const withKey = objects.filter((o) => typeof o.id === 'number' && o.id > 0);
    if (new Set(withKey.map((o) => o.id)).size !== withKey.length) fail(`${what} share a key`);
    if (path.keysPromised && withKey.length !== objects.length) fail(`${objects.length - withKey.length} ${what} without key`);
    return withKey.length;
  };
  const withKey = keyed(orders, 'orders') + keyed(items, 'items');

  // A sample of ~200 orders and ~200 items, by key (every path puts keys back).
  const step = Math.max(1, Math.floor(n / 200));
  const sampled = orders.map((_, i) => i).filter((i) => i % step === 0 && orders[i]!.id);
  const { rows: orderRows } = await session.client.query(
    `SELECT o.id, o.qty, o.label, o.created_at, array_agg(t.tag_id ORDER BY t.tag_id) AS tags ` +
      `FROM ${s}.orders o LEFT JOIN ${s}.order_tags t ON t.order_id = o.id WHERE o.id = ANY($1::int4[]) GROUP BY o.id`,
    [sampled.map((i) => orders[i]!.id)],
  );
  const byId = new Map(orderRows.map((r) => [r.id as number, r]));
  for (const i of sampled) {
    const o = orders[i]!;
    const row = byId.get(o.id!);
    const tags = tagPositions(i)
      .map((p) => tagIds[p]!)
      .sort((a, b) => a - b);
    if (!row) fail(`no order ${o.id}`);
    else if (row.qty !== o.qty || row.label !== o.label || (row.created_at as Date).getTime() !== o.createdAt.getTime())
      fail(`order ${o.id} holds ${JSON.stringify(row)}, the object ${JSON.stringify(o)}`);
    else if (JSON.stringify(row.tags) !== JSON.stringify(tags)) fail(`order ${o.id} has tags ${row.tags}, expected ${tags}`);
  }
  const itemSample = sampled.map((i) => i * ITEMS_PER_ORDER + (i % ITEMS_PER_ORDER)).filter((j) => items[j]!.id);
  const { rows: itemRows } = await session.client.query(
    `SELECT id, qty, label, order_id FROM ${s}.order_item WHERE id = ANY($1::int4[])`,
    [itemSample.map((j) => items[j]!.id)],
  );
  const itemById = new Map(itemRows.map((r) => [r.id as number, r]));
  for (const j of itemSample) {
    const item = items[j]!;
    const row = itemById.get(item.id!);
    const order = orders[Math.floor(j / ITEMS_PER_ORDER)]!;
    if (!row) fail(`no item ${item.id}`);
    else if (row.qty !== item.qty || row.label !== item.label || row.order_id !== order.id)
      fail(`item ${item.id} holds ${JSON.stringify(row)}, expected ${JSON.stringify(item)} of order ${order.id}`);
  }

  if (path.hooksPromised) {
    const each = n * (1 + ITEMS_PER_ORDER);
    if (counts.listener !== each || counts.beforeInsert !== each || counts.afterInsert !== each)
      warnings.add(`lifecycle calls differ from one per order and per item (${each}): ${JSON.stringify(counts)}`);
    if (counts.afterInsertWithKey !== counts.afterInsert)
      warnings.add(`${counts.afterInsert - counts.afterInsertWithKey} afterInsert calls saw no key`);
  }
  return withKey / (orders.length + items.length);
}

/** A path's Prepared with the graph's check. */
function prepared(
  session: CaseSession,
  path: Pick<PathDef, 'keysPromised' | 'hooksPromised'>,
  objects: GraphObjects,
  write: () => Promise<CohortResult | undefined>,
  cleanup?: () => void,
): Prepared {
  return {
    objects: objects.orders as Prepared['objects'],
    write,
    cleanup,
    check: (counts, warnings) => checkGraph(session, path, objects, counts, warnings),
  };
}

/** Two cohort results as one (the per-table paths make one call per table). */
function sum(a: CohortResult, b: CohortResult): CohortResult {
  return {
    inserted: a.inserted + b.inserted,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    skipped: [...a.skipped, ...b.skipped],
    batches: a.batches + b.batches,
    statements: a.statements + b.statements,
  };
}

// ---------------------------------------------------------------------------------------------
// raw: one INSERT … SELECT FROM unnest per table, in one transaction

const rawGraph: PathDef = {
  key: 'raw-sql',
  workload: 'graph',
  label: 'raw INSERT … SELECT FROM unnest … RETURNING id per table (orders, items, then the junction), one transaction',
  keysPromised: true,
  hooksPromised: false,
  reference: true,
  async prepare(session, n, tag) {
    const tags = await tagIds(session);
    const orders: OrderLike[] = Array.from({ length: n }, (_, i) => orderValues(i, tag));
    const items: ItemLike[] = Array.from({ length: n * ITEMS_PER_ORDER }, (_, j) => itemValues(j, tag));
    return prepared(session, this, { orders, items, tagIds: tags }, async () => {
      await rawGraphWrite(session, orders, items, tags);
      return undefined;
    });
  },
};

/** The raw route's one transaction: keys back on `orders` and `items`, the junction rows last. */
async function rawGraphWrite(session: CaseSession, orders: OrderLike[], items: ItemLike[], tags: number[]): Promise<void> {
  const { client } = session;
  const s = `"${session.schema}"`;
  const n = orders.length;
  await client.query('BEGIN');
  try {
    // RETURNING gives the rows in the order of the unnest input (an INSERT … SELECT runs serially).
    const { rows: orderIds } = await client.query(
      `INSERT INTO ${s}.orders (qty, label, created_at) SELECT * FROM unnest($1::int4[], $2::varchar[], $3::timestamptz[]) RETURNING id`,
      [orders.map((o) => o.qty), orders.map((o) => o.label), orders.map((o) => o.createdAt)],
    );
    for (let i = 0; i < n; i++) orders[i]!.id = orderIds[i].id;
    const { rows: itemIds } = await client.query(
      `INSERT INTO ${s}.order_item (qty, label, order_id) SELECT * FROM unnest($1::int4[], $2::varchar[], $3::int4[]) RETURNING id`,
      [items.map((x) => x.qty), items.map((x) => x.label), items.map((_, j) => orders[Math.floor(j / ITEMS_PER_ORDER)]!.id)],
    );
    for (let j = 0; j < items.length; j++) items[j]!.id = itemIds[j].id;
    const linkOrders: number[] = [];
    const linkTags: number[] = [];
    for (let i = 0; i < n; i++)
      for (const p of tagPositions(i)) {
        linkOrders.push(orders[i]!.id!);
        linkTags.push(tags[p]!);
      }
    await client.query(`INSERT INTO ${s}.order_tags (order_id, tag_id) SELECT * FROM unnest($1::int4[], $2::int4[])`, [
      linkOrders,
      linkTags,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// TypeORM

const typeormGraphEntities = () => import('./graph-typeorm-entities.js');

/**
 * The orders (with their two stored tags) and the items of a TypeORM path; `linked`: each order's
 * `items` holds its three items and each item refers to its order (the graph save() and a cascading
 * cohort call follow), else the items stand alone and the path links them itself.
 */
async function typeormGraph(session: CaseSession, n: number, tag: string, linked: boolean) {
  const { TypeormOrder, TypeormOrderItem, TypeormTag } = await typeormGraphEntities();
  const ds = await session.typeorm();
  const tags = await ds.getRepository(TypeormTag).find({ order: { id: 'ASC' } });
  const items: TypeormOrderItem[] = Array.from({ length: n * ITEMS_PER_ORDER }, (_, j) =>
    Object.assign(new TypeormOrderItem(), itemValues(j, tag)),
  );
  const orders: TypeormOrder[] = Array.from({ length: n }, (_, i) => {
    const order = Object.assign(new TypeormOrder(), orderValues(i, tag));
    order.tags = tagPositions(i).map((p) => tags[p]!);
    if (linked) {
      order.items = items.slice(i * ITEMS_PER_ORDER, (i + 1) * ITEMS_PER_ORDER);
      // Both sides set, as a MikroORM collection's add() sets them: cohort writes the items' foreign
      // key from their own reference (an item without it takes the order's key, as in save()).
      for (const item of order.items) item.order = order;
    }
    return order;
  });
  return { ds, TypeormOrder, TypeormOrderItem, orders, items, objects: { orders, items, tagIds: tags.map((t) => t.id) } };
}

const typeormSaveGraph: PathDef = {
  key: 'typeorm-save',
  workload: 'graph',
  label: `TypeORM save(orders, { chunk: ${SAVE_CHUNK.toLocaleString('en-US')} }), items by cascade`,
  keysPromised: true,
  hooksPromised: true,
  maxSize: slowRows,
  async prepare(session, n, tag) {
    const { ds, TypeormOrder, orders, objects } = await typeormGraph(session, n, tag, true);
    const repo = ds.getRepository(TypeormOrder);
    return prepared(session, this, objects, async () => {
      await repo.save(orders, { chunk: SAVE_CHUNK });
      return undefined;
    });
  },
};

const cohortTypeormGraph: PathDef = {
  key: 'cohort-typeorm',
  workload: 'graph',
  label: 'cohort TypeORM bulkInsert(orders), items by cascade (one call)',
  keysPromised: true,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const { bulkInsert } = await import('@cohort/typeorm');
    const { ds, TypeormOrder, orders, objects } = await typeormGraph(session, n, tag, true);
    return prepared(session, this, objects, () => bulkInsert(ds, TypeormOrder, orders, withStrategy(undefined)));
  },
};

const cohortTypeormTables: PathDef = {
  key: 'cohort-typeorm-tables',
  workload: 'graph',
  label: 'cohort TypeORM per table: bulkInsert(orders), then bulkInsert(items), one transaction',
  keysPromised: true,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const { bulkInsert } = await import('@cohort/typeorm');
    const { ds, TypeormOrder, TypeormOrderItem, orders, items, objects } = await typeormGraph(session, n, tag, false);
    return prepared(session, this, objects, () =>
      ds.transaction(async (manager) => {
        const first = await bulkInsert(manager, TypeormOrder, orders, withStrategy(undefined));
        for (let j = 0; j < items.length; j++) items[j]!.order = orders[Math.floor(j / ITEMS_PER_ORDER)];
        return sum(first, await bulkInsert(manager, TypeormOrderItem, items, withStrategy(undefined)));
      }),
    );
  },
};

// ---------------------------------------------------------------------------------------------
// MikroORM

/** As {@link typeormGraph}, in a fork of the EntityManager holding the tags (loaded, managed). */
async function mikroGraph(session: CaseSession, n: number, tag: string, linked: boolean) {
  const { MikroOrder, MikroOrderItem, MikroTag } = await import('./graph-mikro-entities.js');
  const em = (await session.mikro()).em.fork();
  const tags = await em.find(MikroTag, {}, { orderBy: { id: 'asc' } });
  const items: MikroOrderItem[] = Array.from({ length: n * ITEMS_PER_ORDER }, (_, j) =>
    Object.assign(new MikroOrderItem(), itemValues(j, tag)),
  );
  const orders: MikroOrder[] = Array.from({ length: n }, (_, i) => {
    const order = Object.assign(new MikroOrder(), orderValues(i, tag));
    order.tags.add(tagPositions(i).map((p) => tags[p]!));
    if (linked) order.items.add(items.slice(i * ITEMS_PER_ORDER, (i + 1) * ITEMS_PER_ORDER));
    return order;
  });
  return { em, MikroOrder, MikroOrderItem, orders, items, objects: { orders, items, tagIds: tags.map((t) => t.id) } };
}

const mikroFlushGraph: PathDef = {
  key: 'mikro-flush',
  workload: 'graph',
  label: 'MikroORM persist(orders) + flush, items by cascade',
  keysPromised: true,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const { em, orders, objects } = await mikroGraph(session, n, tag, true);
    return prepared(
      session,
      this,
      objects,
      async () => {
        em.persist(orders);
        await em.flush();
        return undefined;
      },
      () => em.clear(),
    );
  },
};

/**
 * The least a MikroORM graph write that keeps the lifecycle can do: the raw route's statements plus
 * MikroORM's own create events for every order and item, dispatched one by one through its
 * EventManager as flush dispatches them (`beforeCreate` for all, the statements, `afterCreate` with
 * the keys on) — no change sets, no identity map, no validation. Not a usable path: an anchor that
 * shows what MikroORM's event machinery alone adds to the raw route.
 */
const rawMikroEventsGraph: PathDef = {
  key: 'raw-mikro-events',
  workload: 'graph',
  label: "raw route + MikroORM's own create events per order and item, nothing else (floor with hooks)",
  keysPromised: true,
  hooksPromised: true,
  async prepare(session, n, tag) {
    const { EventType } = await import('@mikro-orm/core');
    const { em, MikroOrder, MikroOrderItem, orders, items, objects } = await mikroGraph(session, n, tag, true);
    const events = em.getEventManager();
    const orderMeta = em.getMetadata().get(MikroOrder);
    const itemMeta = em.getMetadata().get(MikroOrderItem);
    const dispatch = async (type: (typeof EventType)['beforeCreate' | 'afterCreate']) => {
      for (const entity of orders) await events.dispatchEvent(type, { entity, em, meta: orderMeta });
      for (const entity of items) await events.dispatchEvent(type, { entity, em, meta: itemMeta });
    };
    return prepared(
      session,
      this,
      objects,
      async () => {
        await dispatch(EventType.beforeCreate);
        await rawGraphWrite(session, orders, items, objects.tagIds);
        await dispatch(EventType.afterCreate);
        return undefined;
      },
      () => em.clear(),
    );
  },
};

const mikroUnavailable = async () => ((await mikroFn('bulkInsert')) ? undefined : '@cohort/mikro-orm exports no bulkInsert');

const cohortMikroGraph: PathDef = {
  key: 'cohort-mikro',
  workload: 'graph',
  label: 'cohort MikroORM bulkInsert(orders), items by cascade (one call)',
  keysPromised: true,
  hooksPromised: true,
  unavailable: mikroUnavailable,
  async prepare(session, n, tag) {
    const bulkInsert = (await mikroFn('bulkInsert'))!;
    const { em, MikroOrder, orders, objects } = await mikroGraph(session, n, tag, true);
    return prepared(
      session,
      this,
      objects,
      () => bulkInsert(em, MikroOrder, orders, withStrategy(undefined)),
      () => em.clear(),
    );
  },
};

const cohortMikroTables: PathDef = {
  key: 'cohort-mikro-tables',
  workload: 'graph',
  label: 'cohort MikroORM per table: bulkInsert(orders), then bulkInsert(items), one transaction',
  keysPromised: true,
  hooksPromised: true,
  unavailable: mikroUnavailable,
  async prepare(session, n, tag) {
    const bulkInsert = (await mikroFn('bulkInsert'))!;
    const { em, MikroOrder, MikroOrderItem, orders, items, objects } = await mikroGraph(session, n, tag, false);
    return prepared(
      session,
      this,
      objects,
      () =>
        em.transactional(async (tx) => {
          const first: CohortResult = await bulkInsert(tx, MikroOrder, orders, withStrategy(undefined));
          for (let j = 0; j < items.length; j++) items[j]!.order = orders[Math.floor(j / ITEMS_PER_ORDER)]!;
          return sum(first, await bulkInsert(tx, MikroOrderItem, items, withStrategy(undefined)));
        }),
      () => em.clear(),
    );
  },
};

/** The graph workload's paths, the raw anchor first. */
export function graphPaths(): PathDef[] {
  return [
    rawGraph,
    rawMikroEventsGraph,
    cohortTypeormGraph,
    cohortTypeormTables,
    cohortMikroGraph,
    cohortMikroTables,
    typeormSaveGraph,
    mikroFlushGraph,
  ];
}
