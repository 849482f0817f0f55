// Rows of docs/differences.md that no other test pins, on MikroORM: each test shows persist() +
// flush() on the same input next to cohort's call.
import { bulkInsert, bulkUpdate, bulkUpsert, UniqueViolationError } from '@cohort/mikro-orm';
import { DefaultLogger, type EventSubscriber, type FlushEventArgs, type LogContext, type Opt } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { mikroOrmMajor } from '../harness/mikro-orm-major.js';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';
import { withForcedStrategy } from '../harness/own-mikro-orm-pair.js';

@Entity({ tableName: 'pd_tagged' })
class PdTagged {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) name!: string;
  @Property({ type: 'string[]', nullable: true }) tags?: string[] | null;
}

@Entity({ tableName: 'pd_counted' })
class PdCounted {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) name!: string;
  @Property({ type: 'integer' }) qty!: number;
  @Property({ type: 'integer', version: true }) version!: number & Opt;
}

/** Records MikroORM's flush events. */
class FlushEvents implements EventSubscriber {
  readonly calls: string[] = [];
  beforeFlush(_args: FlushEventArgs) {
    this.calls.push('beforeFlush');
  }
  onFlush(_args: FlushEventArgs) {
    this.calls.push('onFlush');
  }
  afterFlush(_args: FlushEventArgs) {
    this.calls.push('afterFlush');
  }
}

/** Every statement MikroORM's logger sees: its text, its parameters and the SQL sent (`formatted`). */
const sql: { query: string; params: readonly unknown[]; sent: string }[] = [];
class Recorder extends DefaultLogger {
  override logQuery(context: LogContext & { formatted?: string }): void {
    if (context.query) sql.push({ query: context.query, params: context.params ?? [], sent: context.formatted ?? context.query });
  }
}

let orm: MikroORM;
let schema: string;
let own: OwnMikroOrm | undefined;
const flushEvents = new FlushEvents();
let em: EntityManager;

beforeAll(async () => {
  own = await ownMikroOrm('pd', {
    entities: [PdTagged, PdCounted],
    subscribers: [flushEvents],
    debug: ['query'],
    loggerFactory: (options) => new Recorder(options),
  });
  ({ orm, schema } = own);
});
beforeEach(async () => {
  await orm.em.fork().execute(`truncate "${schema}"."pd_tagged", "${schema}"."pd_counted" restart identity`);
  em = orm.em.fork();
  sql.length = 0;
  flushEvents.calls.length = 0;
});
afterAll(async () => {
  await own?.close();
});

const tagged = (name: string, tags: string[] | null = null) => Object.assign(new PdTagged(), { name, tags });
const stored = async () =>
  (await orm.em.fork().execute(`select name, tags from "${schema}"."pd_tagged" order by id`)) as {
    name: string;
    tags: (string | null)[] | null;
  }[];
const inserts = () => sql.filter((s) => /^(with .*)?insert into "[^"]+"\."pd_tagged"/is.test(s.query));

it('differences: flush events — persist() + flush() fires beforeFlush, onFlush, afterFlush; bulkInsert and bulkUpdate none', async () => {
  em.persist(tagged('flushed'));
  await em.flush();
  expect(flushEvents.calls).toEqual(['beforeFlush', 'onFlush', 'afterFlush']);

  flushEvents.calls.length = 0;
  const rows = [tagged('a'), tagged('b')];
  await bulkInsert(em, PdTagged, rows, withForcedStrategy());
  for (const row of rows) row.tags = ['x'];
  await bulkUpdate(em, PdTagged, rows, withForcedStrategy());
  expect(flushEvents.calls).toEqual([]);
  expect((await stored()).map((r) => r.tags)).toEqual([null, ['x'], ['x']]);
});

it('differences: insert batches — flush sends 300 rows per INSERT with the values in the SQL, bulkInsert one INSERT with bind parameters', async () => {
  em.persist(Array.from({ length: 301 }, (_, i) => tagged(`f${i}`)));
  await em.flush();
  const flushed = inserts();
  expect(flushed).toHaveLength(2);
  if (mikroOrmMajor >= 7) {
    // MikroORM 7 formats the values into the SQL text it sends.
    expect(flushed[0]?.sent).toContain("'f299'");
    expect(flushed[1]?.sent).toContain("'f300'");
  } else {
    // MikroORM 6 sends them as bind parameters.
    expect(flushed[0]?.sent).not.toContain("'f299'");
    expect(flushed[0]?.params).toContain('f299');
    expect(flushed[1]?.params).toContain('f300');
  }

  sql.length = 0;
  await bulkInsert(
    orm.em.fork(),
    PdTagged,
    Array.from({ length: 301 }, (_, i) => tagged(`b${i}`)),
    { strategy: 'unnest' },
  );
  const bulk = inserts();
  expect(bulk).toHaveLength(1);
  expect(bulk[0]?.sent).not.toContain("'b0'");
  // One array parameter per column (name, tags) for all 301 rows.
  expect(bulk[0]?.params).toHaveLength(2);
});

it("differences: text[] elements — flush stores 'NULL' as NULL, trims surrounding whitespace, stores a quoted element's tab or newline as t or n; bulkInsert stores every element as given", async () => {
  const odd = ['NULL', '  padded  ', '\tlead', 'trail\n', 'say "hi"\tnow', 'say "hi"\nnow', 'plain'];
  em.persist(tagged('flushed', odd));
  await em.flush();
  expect((await stored())[0]?.tags).toEqual([null, 'padded', 'lead', 'trail', 'say "hi"tnow', 'say "hi"nnow', 'plain']);

  await bulkInsert(orm.em.fork(), PdTagged, [tagged('bulk', odd)], withForcedStrategy());
  expect((await stored())[1]).toEqual({ name: 'bulk', tags: odd });
});

it("differences: failure inside the caller's transaction — flush aborts it, cohort's savepoint keeps it usable", async () => {
  await orm.em.fork().persist(tagged('taken')).flush();
  const aborted = await orm.em
    .fork()
    .transactional(async (tem) => {
      await tem
        .persist(tagged('taken'))
        .flush()
        .catch(() => undefined);
      tem.clear();
      await tem.persist(tagged('after')).flush();
    })
    .catch((e: unknown) => e);
  expect(String(aborted)).toMatch(/current transaction is aborted/);

  await orm.em.fork().transactional(async (tem) => {
    const error = await bulkInsert(tem, PdTagged, [tagged('new'), tagged('taken')], withForcedStrategy()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UniqueViolationError);
    await tem.persist(tagged('after')).flush();
  });
  expect((await stored()).map((r) => r.name)).toEqual(['taken', 'after']);
});

it("differences: raw connection — strategy 'copy' falls back to unnest when the transaction's pg client cannot be found", async () => {
  const rows = [tagged('c0'), tagged('c1')];
  if (mikroOrmMajor >= 7) {
    // As behind a pooler that hides process ids: the pool lists no client of that backend.
    const spy = vi.spyOn(em.getConnection('write'), 'getNativeClient').mockResolvedValue({ _clients: [] } as never);
    try {
      await bulkInsert(em, PdTagged, rows, { strategy: 'copy' });
    } finally {
      spy.mockRestore();
    }
  } else {
    // MikroORM 6's knex transaction names its pg client; behind a pooler that hides process ids,
    // the client's process id is not the backend's.
    await em.transactional(async (tem) => {
      const trx = tem.getTransactionContext() as unknown as { client: { acquireConnection(): Promise<{ processID: number }> } };
      const client = await trx.client.acquireConnection();
      const processID = client.processID;
      client.processID = -1;
      try {
        await bulkInsert(tem, PdTagged, rows, { strategy: 'copy' });
      } finally {
        client.processID = processID;
      }
    });
  }
  expect(rows.map((r) => r.id)).toEqual([1, 2]);
  expect(sql.some((s) => /^copy /i.test(s.query))).toBe(false);
  expect(inserts()).toHaveLength(1);
  sql.length = 0;
  await bulkInsert(orm.em.fork(), PdTagged, [tagged('c2')], { strategy: 'copy' });
  expect(sql.filter((s) => /^copy /i.test(s.query))).toHaveLength(1);
});

it('differences: upsert of a row with a version — em.upsert() leaves a number version as it is, bulkUpsert moves it on by one', async () => {
  const counted = (name: string, qty: number) => Object.assign(new PdCounted(), { name, qty });
  await orm.em
    .fork()
    .persist([counted('orm', 1), counted('bulk', 1)])
    .flush();
  const versions = async () =>
    (await orm.em.fork().execute(`select name, qty, version from "${schema}"."pd_counted" order by id`)) as unknown[];
  expect(await versions()).toEqual([
    { name: 'orm', qty: 1, version: 1 },
    { name: 'bulk', qty: 1, version: 1 },
  ]);
  await orm.em.fork().upsert(PdCounted, { name: 'orm', qty: 2 });
  const result = await bulkUpsert(orm.em.fork(), PdCounted, [counted('bulk', 2)], withForcedStrategy({ target: ['name'] }));
  expect(result.outcomes).toEqual(['updated']);
  expect(await versions()).toEqual([
    { name: 'orm', qty: 2, version: 1 },
    { name: 'bulk', qty: 2, version: 2 },
  ]);
});
