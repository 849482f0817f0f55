// bulkInsert on its own entities: transactions, failures naming the row, batch subscribers, the
// repository, one statement per batch and a 100k-row call.

import {
  BulkEntityRepository,
  BulkHookError,
  BulkValidationError,
  bulkInsert,
  type MikroOrmBulkEvent,
  STREAM_BATCH_SIZE,
  UniqueViolationError,
} from '@cohort/mikro-orm';
import {
  DefaultLogger,
  EntityRepositoryType,
  type EventArgs,
  type EventSubscriber,
  type LogContext,
  type Opt,
} from '@mikro-orm/core';
import { BeforeCreate, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'item', repository: () => BulkEntityRepository })
class Item {
  [EntityRepositoryType]?: BulkEntityRepository<Item>;
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) name!: string;
  @Property({ type: 'integer' }) qty!: number;
  @Property({ type: 'string', length: 20, default: 'new' }) state?: string & Opt;

  @BeforeCreate() check(): void {
    if (this.name === 'boom') throw new Error('hook refused boom');
  }
}

const item = (name: string, qty = 1) => Object.assign(new Item(), { name, qty });

/** Records per-entity calls and batch calls (the latter instead of per-entity afterCreate). */
class AuditSubscriber implements EventSubscriber<Item> {
  readonly calls: string[] = [];
  getSubscribedEntities() {
    return [Item];
  }
  beforeCreate(args: EventArgs<Item>) {
    this.calls.push(`beforeCreate ${args.entity.name}`);
  }
  afterCreate(args: EventArgs<Item>) {
    this.calls.push(`afterCreate ${args.entity.name}`);
  }
  async afterBulkInsert(event: MikroOrmBulkEvent<Item>) {
    this.calls.push(`afterBulkInsert #${event.batch} [${event.indices.join(',')}] ${event.metadata.className}`);
    // Written in the same transaction: it must roll back with the data.
    await (event.manager as EntityManager).execute(`insert into "${schema}"."audit" (n) values (${event.entities.length})`);
  }
}

const sql: string[] = [];
class CountingLogger extends DefaultLogger {
  override logQuery(context: LogContext): void {
    if (context.query) sql.push(context.query);
  }
}

let orm: MikroORM;
let schema: string;
let own: OwnMikroOrm | undefined;
const audit = new AuditSubscriber();
let em: EntityManager;

beforeAll(async () => {
  own = await ownMikroOrm('mbulk', {
    entities: [Item],
    subscribers: [audit],
    debug: ['query'],
    loggerFactory: (options) => new CountingLogger(options),
  });
  ({ orm, schema } = own);
  await orm.em.fork().execute(`create table "${schema}"."audit" (n int not null)`);
});
beforeEach(async () => {
  await orm.em.fork().execute(`truncate "${schema}"."item", "${schema}"."audit" restart identity`);
  em = orm.em.fork();
  sql.length = 0;
  audit.calls.length = 0;
});
afterAll(async () => {
  await own?.close();
});

const count = async (table = 'item') =>
  Number((await orm.em.fork().execute(`select count(*) as c from "${schema}"."${table}"`))[0]!.c);
const inserts = () => sql.filter((q) => /^(with .*)?insert into "[^"]+"\."item"/is.test(q));

describe('statements', () => {
  it('sends one INSERT per batch, inside one transaction', async () => {
    const rows = ['a', 'b', 'c', 'd', 'e'].map((n) => item(n));
    const result = await bulkInsert(em, Item, rows, { batchSize: 2 });
    expect(result).toMatchObject({ inserted: 5, batches: 3 });
    expect(inserts()).toHaveLength(3);
    expect(sql.filter((q) => q === 'begin')).toHaveLength(1);
    expect(sql.filter((q) => q === 'commit')).toHaveLength(1);
    expect(rows.map((r) => [r.id, r.state])).toEqual([1, 2, 3, 4, 5].map((id) => [id, 'new']));
  });

  it('sends nothing and calls nothing for an empty input', async () => {
    const result = await bulkInsert(em, Item, []);
    expect(result.inserted).toBe(0);
    expect(sql).toEqual([]);
    expect(audit.calls).toEqual([]);
  });
});

describe('transactions', () => {
  it('runs in the caller transaction of em.transactional and commits with it', async () => {
    await em.transactional(async (tem) => {
      await bulkInsert(tem, Item, [item('t1'), item('t2')]);
      expect(await count()).toBe(0); // other connection: not committed yet
    });
    expect(sql.filter((q) => q === 'begin')).toHaveLength(1);
    expect(sql.some((q) => /^savepoint/i.test(q))).toBe(true);
    expect(await count()).toBe(2);
  });

  it('a rollback of the caller transaction leaves nothing, audit rows included', async () => {
    await expect(
      em.transactional(async (tem) => {
        await bulkInsert(tem, Item, [item('r1'), item('r2')]);
        throw new Error('caller gives up');
      }),
    ).rejects.toThrow('caller gives up');
    expect(await count()).toBe(0);
    expect(await count('audit')).toBe(0);
  });

  it("strategy 'copy' runs COPY on the caller transaction's own connection: it rolls back with it", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => item(`c${i}`, i));
    await expect(
      em.transactional(async (tem) => {
        await bulkInsert(tem, Item, rows, { strategy: 'copy' });
        expect(await count()).toBe(0); // other connection: not committed yet
        expect(Number((await tem.execute(`select count(*) as c from "${schema}"."item"`))[0]!.c)).toBe(50);
        throw new Error('caller gives up');
      }),
    ).rejects.toThrow('caller gives up');
    expect(sql.filter((q) => /^copy /i.test(q))).toHaveLength(1);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await count()).toBe(0);
    expect(await count('audit')).toBe(0);
  });

  it('works with em.begin() / em.commit() on the same EntityManager', async () => {
    await em.begin();
    await bulkInsert(em, Item, [item('b1')]);
    await em.commit();
    expect(await count()).toBe(1);
  });
});

describe('failures name the row and write nothing', () => {
  it('a before-hook throwing at row k', async () => {
    const rows = [item('ok1'), item('ok2'), item('boom'), item('ok3')];
    const error = await bulkInsert(em, Item, rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkHookError);
    expect((error as BulkHookError).index).toBe(2);
    expect((error as BulkHookError).entity).toBe(rows[2]);
    expect(await count()).toBe(0);
    expect(em.getUnitOfWork().getIdentityMap().values()).toHaveLength(0);
  });

  it('an invalid row k: BulkValidationError naming row and property', async () => {
    const rows = [item('v1'), item('this name is far too long for twenty'), item('v3')];
    const error = await bulkInsert(em, Item, rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkValidationError);
    expect((error as BulkValidationError).failures).toEqual([
      expect.objectContaining({ index: 1, property: 'name', constraint: 'maxLength', entity: rows[1] }),
    ]);
    expect(await count()).toBe(0);
  });

  it('a unique violation at row k in a later batch rolls back the earlier ones', async () => {
    await bulkInsert(orm.em.fork(), Item, [item('taken')]);
    sql.length = 0;
    const rows = [item('u1'), item('u2'), item('u3'), item('taken'), item('u5')];
    const error = await bulkInsert(em, Item, rows, { batchSize: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect((error as UniqueViolationError).index).toBe(3);
    expect(await count()).toBe(1);
    // The rows of the rolled-back batches are not left in the identity map.
    expect(em.getUnitOfWork().getById(Item, rows[0]!.id)).toBeUndefined();
  });
});

describe('subscribers and the repository', () => {
  it('a batch subscriber gets one call per batch instead of per-entity calls', async () => {
    await bulkInsert(em, Item, [item('s1'), item('s2'), item('s3')], { batchSize: 2 });
    // Batch #1 is prepared (its before-hooks) while batch #0's INSERT is in flight.
    expect(audit.calls).toEqual([
      'beforeCreate s1',
      'beforeCreate s2',
      'beforeCreate s3',
      'afterBulkInsert #0 [0,1] Item',
      'afterBulkInsert #1 [2] Item',
    ]);
    expect(await count('audit')).toBe(2);
  });

  it("a batch's after-hooks run while the next batch's statement does: their queries follow it", async () => {
    sql.length = 0;
    await bulkInsert(em, Item, [item('q1'), item('q2'), item('q3'), item('q4'), item('q5')], { batchSize: 2 });
    const writes = sql
      .map((q) =>
        /insert into "[^"]+"\."item"/i.test(q) ? 'items' : /insert into "[^"]+"\."audit"/i.test(q) ? 'audit' : undefined,
      )
      .filter(Boolean);
    // Batch #0's audit row (its afterBulkInsert) is written after batch #1's INSERT was sent, and so on.
    expect(writes).toEqual(['items', 'items', 'audit', 'items', 'audit', 'audit']);
  });

  it('pipeline: false: a batch subscriber sees each batch finish before the next one starts', async () => {
    await bulkInsert(em, Item, [item('s1'), item('s2'), item('s3')], { batchSize: 2, pipeline: false });
    expect(audit.calls).toEqual([
      'beforeCreate s1',
      'beforeCreate s2',
      'afterBulkInsert #0 [0,1] Item',
      'beforeCreate s3',
      'afterBulkInsert #1 [2] Item',
    ]);
  });

  it(`an async iterable without batchSize goes in batches of ${STREAM_BATCH_SIZE} (arrays: 10,000)`, async () => {
    async function* stream(prefix: string, n: number) {
      for (let i = 0; i < n; i++) yield item(`${prefix}${i}`);
    }
    const n = 2 * STREAM_BATCH_SIZE + 1;
    expect(await bulkInsert(em, Item, stream('a', n), { managed: false })).toMatchObject({ inserted: n, batches: 3 });
    expect(await bulkInsert(em, Item, stream('b', n), { managed: false, batchSize: n })).toMatchObject({
      inserted: n,
      batches: 1,
    });
    const array = Array.from({ length: n }, (_, i) => item(`c${i}`));
    expect(await bulkInsert(em, Item, array, { managed: false })).toMatchObject({ inserted: n, batches: 1 });
  });

  it('em.getRepository(Item).bulkInsert is typed and runs on that EntityManager', async () => {
    const repo = em.getRepository(Item);
    const result = await repo.bulkInsert([item('repo1'), item('repo2')]);
    expect(result.inserted).toBe(2);
    await em.transactional(async (tem) => {
      await tem.getRepository(Item).bulkInsert([item('repo3')]);
    });
    expect(await count()).toBe(3);
  });
});

it('inserts 100k rows in one call', async () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => item(`r${i}`, i));
  const result = await bulkInsert(em, Item, rows, { batchSize: 100_000, managed: false });
  expect(result.inserted).toBe(100_000);
  expect(inserts()).toHaveLength(1);
  expect(rows[99_999]!.id).toBe(100_000);
  expect(await count()).toBe(100_000);
  console.log('100k ms', result.ms);
});
