// A stored row whose inverse one-to-one target is replaced by a new one while it had a stored target
// (`holder.card = newCard`, the old card loaded): what persist + flush does, measured, and what
// cohort does instead. Flush first writes the old target, in an early step of its own: with a
// nullable foreign key it clears the old target's reference (one UPDATE per old target, each
// between that target's beforeUpdate and afterUpdate), with orphanRemoval it deletes the old targets
// (their beforeDelete events, one DELETE, their afterDelete events), and with a NOT NULL foreign key
// its UPDATE fails and the flush rolls back; then it inserts the new targets with the rows' keys.
// Cohort does not write that early step: it refuses the row by name (`cascade insert`, Holder.card),
// before anything is written, batch by batch included, with the way round in the message (clear,
// flush, then the call) — which leaves the rows flush leaves.
import { bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'holder' })
class Holder {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(
    () => Card,
    (card) => card.holder,
  )
  card?: Card | null;
  @OneToOne(
    () => Badge,
    (badge) => badge.holder,
    { orphanRemoval: true },
  )
  badge?: Badge | null;
  @OneToOne(
    () => Pass,
    (pass) => pass.holder,
  )
  pass?: Pass | null;
}

/** Owns a nullable foreign key: flush clears an old card's reference. */
@Entity({ tableName: 'card' })
class Card {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(() => Holder, { nullable: true, owner: true }) holder?: Holder | null;
}

/** The holder's side has orphanRemoval: flush deletes an old badge. */
@Entity({ tableName: 'badge' })
class Badge {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(() => Holder, { nullable: true, owner: true }) holder?: Holder | null;
}

/** Owns a NOT NULL foreign key: flush's clearing UPDATE fails. */
@Entity({ tableName: 'pass' })
class Pass {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(() => Holder, { owner: true }) holder!: Holder;
}

type Target = typeof Card | typeof Badge | typeof Pass;
type Prop = 'card' | 'badge' | 'pass';
const TABLES = ['holder', 'card', 'badge', 'pass'];

// Entity events and the statements sent, in order.
const log: string[] = [];
const named = (e: { entity: object }) => `${e.entity.constructor.name} ${(e.entity as { name: string }).name}`;
const recorder = {
  beforeCreate: (e: { entity: object }) => void log.push(`beforeCreate ${named(e)}`),
  afterCreate: (e: { entity: object }) => void log.push(`afterCreate ${named(e)}`),
  beforeUpdate: (e: { entity: object }) => void log.push(`beforeUpdate ${named(e)}`),
  afterUpdate: (e: { entity: object }) => void log.push(`afterUpdate ${named(e)}`),
  beforeDelete: (e: { entity: object }) => void log.push(`beforeDelete ${named(e)}`),
  afterDelete: (e: { entity: object }) => void log.push(`afterDelete ${named(e)}`),
};
// The query logger's colours (escape sequences) stripped.
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const statement = /\[query\] (insert into|update|delete from) "[\w$]+"\."(\w+)"/;

let own: OwnMikroOrm | undefined;
beforeAll(async () => {
  own = await ownMikroOrm('rinv', {
    entities: [Holder, Card, Badge, Pass],
    subscribers: [recorder],
    debug: ['query'],
    logger: (message: string) => {
      const found = statement.exec(message.replace(COLOURS, ''));
      if (found) log.push(`${found[1]?.split(' ')[0]} ${found[2]}`);
    },
  });
});
afterAll(async () => {
  await own?.close();
});
beforeEach(async () => {
  const schema = (own as OwnMikroOrm).schema;
  await fork().execute(`truncate ${TABLES.map((t) => `"${schema}"."${t}"`).join(', ')} restart identity cascade`);
});

const fork = (): EntityManager => (own as OwnMikroOrm).orm.em.fork() as EntityManager;
const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const managed = (em: EntityManager, entity: object) => em.getUnitOfWork().getIdentityMap().values().includes(entity);
const tables = async () => {
  const schema = (own as OwnMikroOrm).schema;
  const all: Record<string, unknown[]> = {};
  for (const table of TABLES) all[table] = await fork().execute(`select * from "${schema}"."${table}" order by id`);
  return all;
};

/** Holders h0, h1, h2 (h0 and h2 with a stored target `old0`, `old2`; h1 without), written by persist + flush. */
async function seed(prop: Prop, cls: Target): Promise<void> {
  const em = fork();
  const holders = ['h0', 'h1', 'h2'].map((name) => make(Holder, { name }));
  for (const at of [0, 2]) {
    const old = make(cls as new () => Card, { name: `old${at}` });
    old.holder = holders[at] as Holder;
    (holders[at] as unknown as Record<Prop, unknown>)[prop] = old;
  }
  em.persist(holders);
  await em.flush();
}

/** The stored holders loaded with their targets, each given a new target `new<i>`. */
async function replaced(em: EntityManager, prop: Prop, cls: Target): Promise<{ holders: Holder[]; olds: Card[] }> {
  const holders = await em.find(Holder, {}, { populate: [prop], orderBy: { id: 'asc' } });
  const olds = holders.flatMap((h) => (h[prop] ? [h[prop] as unknown as Card] : []));
  for (const [at, holder] of holders.entries()) {
    (holder as unknown as Record<Prop, unknown>)[prop] = make(cls as new () => Card, { name: `new${at}` });
  }
  return { holders, olds };
}

const calls = [
  ['bulkSave', undefined],
  ['bulkSave', 1],
  ['bulkUpdate', undefined],
  ['bulkUpdate', 1],
] as const;

/** Cohort's call on the stored holders given new targets (`first`: the holder without an old target first). */
async function cohortCall(prop: Prop, cls: Target, method: 'bulkSave' | 'bulkUpdate', batchSize?: number) {
  await seed(prop, cls);
  const em = fork();
  const { holders, olds } = await replaced(em, prop, cls);
  // h1 (no old target) first: with one holder per batch, its batch is written before h0's is refused.
  const input = [holders[1], holders[0], holders[2]] as Holder[];
  const before = await tables();
  log.length = 0;
  const call = method === 'bulkSave' ? bulkSave : bulkUpdate;
  const error = await call(em, Holder, input, batchSize ? { batchSize } : {}).catch((e: unknown) => e);
  return { em, holders, olds, before, error };
}

describe('a stored row given a new inverse one-to-one target while it had one, MikroORM', () => {
  it("nullable foreign key: flush first clears each old target's reference (its UPDATE between its update events), then inserts the new ones", async () => {
    await seed('card', Card);
    const em = fork();
    const { holders, olds } = await replaced(em, 'card', Card);
    // Assigning the new target cleared the old one's reference on the object (MikroORM's propagation).
    expect(olds.map((o) => o.holder)).toEqual([null, null]);
    log.length = 0;
    em.persist(holders);
    await em.flush();
    expect(log).toEqual([
      'beforeUpdate Card old0',
      'update card',
      'afterUpdate Card old0',
      'beforeUpdate Card old2',
      'update card',
      'afterUpdate Card old2',
      'beforeCreate Card new0',
      'beforeCreate Card new1',
      'beforeCreate Card new2',
      'insert card',
      'afterCreate Card new0',
      'afterCreate Card new1',
      'afterCreate Card new2',
    ]);
    expect((await tables()).card).toEqual([
      { id: 1, name: 'old0', holder_id: null },
      { id: 2, name: 'old2', holder_id: null },
      { id: 3, name: 'new0', holder_id: 1 },
      { id: 4, name: 'new1', holder_id: 2 },
      { id: 5, name: 'new2', holder_id: 3 },
    ]);
    // The old targets stay managed, their reference cleared; a following flush sends nothing.
    expect(olds.map((o) => managed(em, o))).toEqual([true, true]);
    log.length = 0;
    await em.flush();
    expect(log).toEqual([]);
  });

  it('orphanRemoval: flush first deletes the old targets (their delete events, one DELETE), then inserts the new ones', async () => {
    await seed('badge', Badge);
    const em = fork();
    const { holders, olds } = await replaced(em, 'badge', Badge);
    log.length = 0;
    em.persist(holders);
    await em.flush();
    expect(log).toEqual([
      'beforeDelete Badge old0',
      'beforeDelete Badge old2',
      'delete badge',
      'afterDelete Badge old0',
      'afterDelete Badge old2',
      'beforeCreate Badge new0',
      'beforeCreate Badge new1',
      'beforeCreate Badge new2',
      'insert badge',
      'afterCreate Badge new0',
      'afterCreate Badge new1',
      'afterCreate Badge new2',
    ]);
    expect((await tables()).badge.map((r) => (r as { name: string }).name)).toEqual(['new0', 'new1', 'new2']);
    // The old targets are out of the identity map; a following flush sends nothing.
    expect(olds.map((o) => managed(em, o))).toEqual([false, false]);
    log.length = 0;
    await em.flush();
    expect(log).toEqual([]);
  });

  it('NOT NULL foreign key: flush fails on the first clearing UPDATE and rolls back, every table unchanged', async () => {
    await seed('pass', Pass);
    const em = fork();
    const { holders } = await replaced(em, 'pass', Pass);
    const before = await tables();
    log.length = 0;
    em.persist(holders);
    await expect(em.flush()).rejects.toThrow(/null value in column "holder_id"/);
    expect(log).toEqual(['beforeUpdate Pass old0', 'update pass']);
    expect(await tables()).toEqual(before);
  });

  for (const [prop, cls, message] of [
    ['card', Card, /had another Card \(card\): flush first clears that one's reference with its own UPDATE and update events/],
    ['badge', Badge, /had another Badge \(badge, orphanRemoval\): flush first deletes that one/],
    [
      'pass',
      Pass,
      /had another Pass \(pass\): flush first clears that one's reference, which fails on its NOT NULL column \(holder_id\)/,
    ],
  ] as const) {
    for (const [method, batchSize] of calls) {
      it(`${method} of stored holders given new ${prop}s${batchSize ? ', one holder per batch' : ''}: refused by name at the first holder that had one (cascade insert, Holder.${prop}), every table unchanged`, async () => {
        const { em, olds, before, error } = await cohortCall(prop, cls, method, batchSize);
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({ feature: 'cascade insert', entityName: 'Holder', property: prop, index: 1 });
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).toMatch(/Nothing was written/);
        // h1's batch (one holder per batch) rolled back with the rest; no statement for the refused batch.
        expect(await tables()).toEqual(before);
        expect(log.filter((entry) => /^(update|delete) /.test(entry))).toEqual([]);
        // The old targets stay managed, as they were.
        expect(olds.map((o) => managed(em, o))).toEqual([true, true]);
      });
    }
  }

  it("the way round the message gives (clear, flush, then the call) leaves flush's rows, nullable foreign key", async () => {
    await seed('card', Card);
    const theirs = fork();
    const flushed = await replaced(theirs, 'card', Card);
    theirs.persist(flushed.holders);
    await theirs.flush();
    const after = await tables();

    const schema = (own as OwnMikroOrm).schema;
    await fork().execute(`truncate ${TABLES.map((t) => `"${schema}"."${t}"`).join(', ')} restart identity cascade`);
    await seed('card', Card);
    const em = fork();
    const holders = await em.find(Holder, {}, { populate: ['card'], orderBy: { id: 'asc' } });
    for (const holder of holders) holder.card = null;
    await em.flush();
    for (const [at, holder] of holders.entries()) holder.card = make(Card, { name: `new${at}` });
    const result = await bulkSave(em, Holder, holders, { batchSize: 1 });
    expect(result.byEntity).toEqual({ Holder: { inserted: 0, updated: 0 }, Card: { inserted: 3, updated: 0 } });
    expect(await tables()).toEqual(after);
    log.length = 0;
    await em.flush();
    expect(log).toEqual([]);
  });

  it("orphanRemoval: the way round (clear, flush: the old ones deleted, then the call) leaves flush's rows", async () => {
    await seed('badge', Badge);
    const em = fork();
    const holders = await em.find(Holder, {}, { populate: ['badge'], orderBy: { id: 'asc' } });
    for (const holder of holders) holder.badge = null;
    await em.flush();
    for (const [at, holder] of holders.entries()) holder.badge = make(Badge, { name: `new${at}` });
    await bulkUpdate(em, Holder, holders);
    expect((await tables()).badge).toEqual([
      { id: 3, name: 'new0', holder_id: 1 },
      { id: 4, name: 'new1', holder_id: 2 },
      { id: 5, name: 'new2', holder_id: 3 },
    ]);
    log.length = 0;
    await em.flush();
    expect(log).toEqual([]);
  });
});
