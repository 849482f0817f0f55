// The change sets a bulkUpsert's after-hooks receive: for an inserted row flush's INSERT payload with
// the returned key and defaults mapped in, for an updated row what the upsert wrote. Each is compared
// with `prepareEntity` of the entity taken inside the hook, and must not be the identity map's
// snapshot of it (a hook that edits its payload must not change what a later flush diffs against).

import { bulkUpsert } from '@cohort/mikro-orm';
import { ChangeSetType, type EventArgs, type EventSubscriber, helper, type Opt } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'stock' })
class Stock {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) sku!: string;
  @Property({ type: 'integer' }) qty!: number;
  @Property({ type: 'string', length: 20, nullable: true }) note?: string | null;
  @Property({ type: 'string', length: 20, defaultRaw: `'fresh'` }) state?: string & Opt;
  @Property({ type: 'datetime', columnType: 'timestamptz' }) seenAt!: Date;
}

interface Seen {
  event: string;
  sku: string;
  type: ChangeSetType | undefined;
  payload: Record<string, unknown>;
  expected: Record<string, unknown>;
  sharedWithSnapshot: boolean;
}

class Recorder implements EventSubscriber<Stock> {
  readonly seen: Seen[] = [];
  constructor(private readonly written: readonly string[]) {}
  getSubscribedEntities() {
    return [Stock];
  }
  afterCreate(args: EventArgs<Stock>) {
    this.record('afterCreate', args, undefined);
  }
  afterUpdate(args: EventArgs<Stock>) {
    this.record('afterUpdate', args, this.written);
  }
  private record(event: string, args: EventArgs<Stock>, only: readonly string[] | undefined) {
    const changeSet = args.changeSet;
    const now = args.em.getComparator().prepareEntity(args.entity) as Record<string, unknown>;
    const expected = only ? Object.fromEntries(only.map((name) => [name, now[name]])) : now;
    this.seen.push({
      event,
      sku: args.entity.sku,
      type: changeSet?.type,
      payload: { ...(changeSet?.payload as Record<string, unknown>) },
      expected,
      sharedWithSnapshot: changeSet !== undefined && changeSet.payload === helper(args.entity).__originalEntityData,
    });
  }
}

let orm: MikroORM;
let schema: string;
let own: OwnMikroOrm | undefined;
const recorder = new Recorder(['qty', 'note', 'seenAt']);

beforeAll(async () => {
  own = await ownMikroOrm('mupcs', { entities: [Stock], subscribers: [recorder] });
  ({ orm, schema } = own);
});
beforeEach(async () => {
  await orm.em.fork().execute(`truncate "${schema}"."stock" restart identity`);
  recorder.seen.length = 0;
});
afterAll(async () => {
  await own?.close();
});

const stock = (sku: string, qty: number, note?: string | null) =>
  Object.assign(new Stock(), { sku, qty, note, seenAt: new Date(Date.UTC(2026, 0, qty % 28 || 1, 12)) });

it.each(['unnest', 'copy'] as const)(
  "strategy '%s': after-hooks get the inserted row's full payload and the updated row's written values",
  async (strategy) => {
    await bulkUpsert(orm.em.fork(), Stock, [stock('old-1', 1, 'kept'), stock('old-2', 2)], { target: ['sku'] });
    recorder.seen.length = 0;
    const em = orm.em.fork();
    const input = [stock('old-1', 10, null), stock('new-1', 3), stock('old-2', 20, 'changed'), stock('new-2', 4, 'n')];
    // Enough rows for COPY to be chosen when it is asked for (the threshold applies per batch).
    for (let i = 0; i < 2_100; i++) input.push(stock(`bulk-${i}`, i));
    const result = await bulkUpsert(em, Stock, input, { target: ['sku'], update: ['qty', 'note', 'seenAt'], strategy });
    expect(result.outcomes.slice(0, 4)).toEqual(['updated', 'inserted', 'updated', 'inserted']);

    const bySku = new Map(recorder.seen.map((s) => [s.sku, s]));
    expect(recorder.seen).toHaveLength(input.length);
    for (const s of recorder.seen) {
      expect(s.payload).toEqual(s.expected);
      expect(s.sharedWithSnapshot).toBe(false);
    }
    expect(bySku.get('old-1')).toMatchObject({ event: 'afterUpdate', type: ChangeSetType.UPDATE });
    expect(bySku.get('old-1')?.payload).toEqual({ qty: 10, note: null, seenAt: new Date(Date.UTC(2026, 0, 10, 12)) });
    const created = bySku.get('new-1');
    expect(created).toMatchObject({ event: 'afterCreate', type: ChangeSetType.CREATE });
    // The generated key and the server-side default come back into the payload.
    expect(created?.payload).toMatchObject({ id: expect.any(Number), sku: 'new-1', qty: 3, state: 'fresh' });

    // What the identity map holds is flush's snapshot: a flush right after sends nothing.
    const sent: string[] = [];
    em.getEventManager().registerSubscriber({
      beforeFlush: () => {
        sent.push(
          ...em
            .getUnitOfWork()
            .getChangeSets()
            .map((cs) => cs.type),
        );
      },
    });
    await em.flush();
    expect(sent).toEqual([]);
    expect(em.getUnitOfWork().getChangeSets()).toEqual([]);
  },
);
