// A stored row's new inverse one-to-one target replacing a stored one (flush's early step, written by
// a call of its own on the call's transaction: replaced-inverse-one-to-one-writes.test.ts), and the
// call's options and refusals:
// - `validate` carries over: the old targets' early UPDATE is validated as a bulkUpdate's rows are
//   (an `onUpdate` Date outside years 1–9999: `BulkValidationError` told at the holder's row, in its
//   batch), and with `validate: false` it is not (PostgreSQL takes the Date, as for any row);
// - with orphanRemoval, an old target whose class cascades removes (its own orphanRemoval
//   collection) is refused before the call sends anything or runs a hook, naming the relations
//   (the early step's bulkRemove refused it only after the rows' earlier statements ran).
// Default and COPY (`COHORT_STRATEGY=copy`).
import { BulkValidationError, bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { Collection } from '@mikro-orm/core';
import { Entity, ManyToOne, OneToMany, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'keeper' })
class Keeper {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(
    () => Tag,
    (tag) => tag.keeper,
  )
  tag?: Tag | null;
  @OneToOne(
    () => Medal,
    (medal) => medal.keeper,
    { orphanRemoval: true },
  )
  medal?: Medal | null;
}

// The date the old tags' clearing UPDATE writes (`onUpdate`): year 10000 when `far`.
const clock = { far: false };

/** A nullable foreign key: flush clears an old tag's reference, writing its `onUpdate` date. */
@Entity({ tableName: 'tag' })
class Tag {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({
    type: 'datetime',
    nullable: true,
    onUpdate: () => new Date(clock.far ? '+010000-01-01T00:00:00Z' : '2020-01-01T00:00:00Z'),
  })
  touched?: Date | null;
  @OneToOne(() => Keeper, { nullable: true, owner: true }) keeper?: Keeper | null;
}

/** The keeper's side has orphanRemoval (flush deletes an old medal), and so has its own `ribbons`. */
@Entity({ tableName: 'medal' })
class Medal {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(() => Keeper, { nullable: true, owner: true }) keeper?: Keeper | null;
  @OneToMany(
    () => Ribbon,
    (ribbon) => ribbon.medal,
    { orphanRemoval: true },
  )
  ribbons = new Collection<Ribbon>(this);
}

@Entity({ tableName: 'ribbon' })
class Ribbon {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => Medal, { nullable: true }) medal?: Medal | null;
}

const TABLES = ['keeper', 'tag', 'medal', 'ribbon'];
// Entity events and the statements sent, in order.
const log: string[] = [];
const named = (e: { entity: object }) => `${e.entity.constructor.name} ${(e.entity as { name: string }).name}`;
const recorder = Object.fromEntries(
  ['beforeCreate', 'afterCreate', 'beforeUpdate', 'afterUpdate', 'beforeDelete', 'afterDelete'].map((event) => [
    event,
    (e: { entity: object }) => log.push(`${event} ${named(e)}`),
  ]),
);
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const statement = /\b(insert into|update|delete from|copy) "[\w$]+"\."(\w+)"/i;

let own: OwnMikroOrm;
beforeAll(async () => {
  own = await ownMikroOrm('rinvo', {
    entities: [Keeper, Tag, Medal, Ribbon],
    subscribers: [recorder],
    debug: ['query'],
    logger: (message: string) => {
      const found = statement.exec(message.replace(COLOURS, ''));
      if (found && !found[2]?.startsWith('cohort_stage')) log.push(`${found[1]?.toLowerCase().split(' ')[0]} ${found[2]}`);
    },
  });
});
afterAll(async () => {
  await own?.close();
});
const fork = () => own.orm.em.fork() as EntityManager;
const table = (name: string) => `"${own.schema}"."${name}"`;
async function tables() {
  const all: Record<string, unknown[]> = {};
  for (const name of TABLES) all[name] = await fork().execute(`select * from ${table(name)} order by id`);
  return all;
}
const opts = (more: { batchSize?: number; validate?: boolean } = {}) => ({
  ...(forcedStrategy ? { strategy: forcedStrategy } : {}),
  ...more,
});

beforeEach(async () => {
  clock.far = false;
  await fork().execute(`truncate ${TABLES.map(table).join(', ')} restart identity cascade`);
  // Keepers k0, k1, k2; k2 with an old tag and an old medal (with a ribbon).
  const em = fork();
  const keepers = ['k0', 'k1', 'k2'].map((name) => Object.assign(new Keeper(), { name }));
  const keeper = keepers[2] as Keeper;
  keeper.tag = Object.assign(new Tag(), { name: 'old2', keeper });
  const medal = Object.assign(new Medal(), { name: 'old2', keeper });
  medal.ribbons.add(Object.assign(new Ribbon(), { name: 'r2' }));
  keeper.medal = medal;
  em.persist(keepers);
  await em.flush();
});

/** The stored keepers loaded with the relation (a medal with its ribbons), each given a new target `new<i>`. */
async function replaced(em: EntityManager, prop: 'tag' | 'medal') {
  const populate = prop === 'tag' ? ['tag' as const] : ['medal.ribbons' as const];
  const keepers = await em.find(Keeper, {}, { populate, orderBy: { id: 'asc' } });
  const olds = keepers.flatMap((keeper) => (keeper[prop] ? [keeper[prop] as object] : []));
  for (const [at, keeper] of keepers.entries()) {
    const made = Object.assign(prop === 'tag' ? new Tag() : new Medal(), { name: `new${at}` });
    (keeper as unknown as Record<string, unknown>)[prop] = made;
  }
  return { keepers, olds };
}

describe('Keeper.tag (nullable foreign key): the old tags are validated as the call validates', () => {
  for (const [method, call] of [
    ['bulkSave', bulkSave],
    ['bulkUpdate', bulkUpdate],
  ] as const) {
    it(`${method}, one keeper per batch: the old tag's invalid onUpdate Date is refused at its keeper's row, in that row's batch; nothing written`, async () => {
      const em = fork();
      const { keepers, olds } = await replaced(em, 'tag');
      const before = await tables();
      clock.far = true;
      const error = await call(em, Keeper, keepers, opts({ batchSize: 1 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkValidationError);
      expect(error).toMatchObject({ index: 2, batch: 2, relation: { entityName: 'Keeper', property: 'tag', target: 'Tag' } });
      const failures = (error as BulkValidationError).failures;
      expect(failures.map(({ index, property, constraint, entity }) => ({ index, property, constraint, entity }))).toEqual([
        { index: 2, property: 'touched', constraint: 'range', entity: olds[0] },
      ]);
      expect(await tables()).toEqual(before);
    });

    it(`${method}, validate: false: the old tag's onUpdate Date is written unchecked (PostgreSQL takes year 10000), as every row of the call`, async () => {
      const em = fork();
      const { keepers } = await replaced(em, 'tag');
      clock.far = true;
      const result = await call(em, Keeper, keepers, opts({ batchSize: 1, validate: false }));
      expect(result.byEntity?.Tag).toEqual({ inserted: 3, updated: 1 });
      const [old] = await fork().execute<{ name: string; keeper_id: number | null; year: number }[]>(
        `select name, keeper_id, extract(year from touched)::int as year from ${table('tag')} where name = 'old2'`,
      );
      expect(old).toEqual({ name: 'old2', keeper_id: null, year: 10000 });
    });
  }
});

describe('Keeper.medal (orphanRemoval), the old medal cascading removes to its ribbons', () => {
  for (const [method, call] of [
    ['bulkSave', bulkSave],
    ['bulkUpdate', bulkUpdate],
  ] as const) {
    for (const batchSize of [undefined, 1]) {
      it(`${method}${batchSize ? ', one keeper per batch' : ''}: refused before any statement or hook, naming Keeper.medal and Medal.ribbons`, async () => {
        const em = fork();
        const { keepers, olds } = await replaced(em, 'medal');
        const before = await tables();
        log.length = 0;
        const error = await call(em, Keeper, keepers, opts({ batchSize })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({
          feature: 'cascade remove',
          entityName: 'Medal',
          property: 'ribbons',
          index: 2,
          relation: { entityName: 'Keeper', property: 'medal', target: 'Medal' },
        });
        expect((error as Error).message).toMatch(
          /^Medal reached through Keeper\.medal \(removed with the row\): cohort: bulkRemove of Medal: relation "ribbons" has orphanRemoval/,
        );
        // No statement, no hook: not even k0's and k1's batches (one keeper per batch) ran.
        expect(log).toEqual([]);
        expect(await tables()).toEqual(before);
        expect(em.getUnitOfWork().getIdentityMap().values()).toContain(olds[0]);
      });
    }
  }

  it("a stream, one keeper per batch: refused by name when k2's batch is found, before its statements and hooks (k0's and k1's batches rolled back)", async () => {
    const em = fork();
    const { keepers } = await replaced(em, 'medal');
    const before = await tables();
    log.length = 0;
    async function* stream() {
      yield* keepers;
    }
    const error = await bulkSave(em, Keeper, stream(), opts({ batchSize: 1 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({
      feature: 'cascade remove',
      property: 'ribbons',
      index: 2,
      relation: { entityName: 'Keeper', property: 'medal', target: 'Medal' },
    });
    expect((error as Error).message).toMatch(/^Medal reached through Keeper\.medal \(removed with the row\): /);
    // k0's and k1's new medals went in (rolled back); nothing of k2's batch ran.
    expect(log.filter((entry) => entry.includes('new2') || entry.includes('old2'))).toEqual([]);
    expect(log).toContain('afterCreate Medal new1');
    expect(await tables()).toEqual(before);
  });

  it('flush deletes the old medal and its loaded ribbon (its removal follows Medal.ribbons): what cohort refuses', async () => {
    const em = fork();
    const { keepers } = await replaced(em, 'medal');
    em.persist(keepers);
    await em.flush();
    const after = await tables();
    expect((after.medal as { name: string }[]).map((row) => row.name)).toEqual(['new0', 'new1', 'new2']);
    expect(after.ribbon).toEqual([]);
  });
});
