// An entity a managed cohort call inserted and a flush then deleted (em.remove + flush takes it out
// of the unit of work: no snapshot, no identity) is new again to a later call that reaches it by
// cascade, as it is to flush: its row is inserted again, with its key. Compared with persist +
// flush on equal inputs: the rows, and that the later write succeeds (linking the removed entity
// would point the new row at a row that is gone). A `managed: false` call's written entity, which
// has no snapshot, is still linked, not inserted again — until bulkRemove deletes its row: then a
// later call inserts it again, as flush does. Default and COPY (`COHORT_STRATEGY=copy`).
import { bulkInsert, bulkRemove } from '@cohort/mikro-orm';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'maker' })
class Maker {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
}

@Entity({ tableName: 'gadget' })
class Gadget {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => Maker) maker!: Maker;
}

let own: OwnMikroOrm;
beforeAll(async () => {
  own = await ownMikroOrm('wtr', { entities: [Maker, Gadget] });
});
afterAll(async () => {
  await own?.close();
});
beforeEach(async () => {
  await own.orm.em.getConnection().execute(`truncate "${own.schema}"."gadget", "${own.schema}"."maker" restart identity cascade`);
});
const opts = forcedStrategy ? { strategy: forcedStrategy } : {};
const fork = () => own.orm.em.fork() as EntityManager;

const make = <T extends object>(cls: new () => T, values: Partial<T>): T => Object.assign(new cls(), values);

async function rows(): Promise<{ makers: unknown[]; gadgets: unknown[] }> {
  const conn = own.orm.em.getConnection();
  return {
    makers: await conn.execute(`select id, name from "${own.schema}"."maker" order by id`),
    gadgets: await conn.execute(`select id, name, maker_id from "${own.schema}"."gadget" order by id`),
  };
}

/** Writes a maker, removes it with em.remove + flush, then writes a gadget of it with `write`. */
async function scenario(
  writeMaker: (em: EntityManager, maker: Maker) => Promise<unknown>,
  writeGadget: (em: EntityManager, gadget: Gadget) => Promise<unknown>,
) {
  const em = fork();
  const maker = make(Maker, { name: 'acme' });
  await writeMaker(em, maker);
  em.remove(maker);
  await em.flush();
  const gadget = make(Gadget, { name: 'widget', maker });
  await writeGadget(em, gadget);
  return { maker, gadget, rows: await rows() };
}

describe('an entity a flush deleted after a cohort call wrote it', () => {
  it('is inserted again by a later call reaching it by cascade, as flush inserts it', async () => {
    const byFlush = await scenario(
      async (em, maker) => {
        em.persist(maker);
        await em.flush();
      },
      async (em, gadget) => {
        em.persist(gadget);
        await em.flush();
      },
    );
    expect(byFlush.rows.makers).toEqual([{ id: 1, name: 'acme' }]);
    expect(byFlush.rows.gadgets).toEqual([{ id: 1, name: 'widget', maker_id: 1 }]);
    await own.orm.em
      .getConnection()
      .execute(`truncate "${own.schema}"."gadget", "${own.schema}"."maker" restart identity cascade`);

    const byCohort = await scenario(
      (em, maker) => bulkInsert(em, Maker, [maker], opts),
      (em, gadget) => bulkInsert(em, Gadget, [gadget], opts),
    );
    expect(byCohort.rows).toEqual(byFlush.rows);
    expect(byCohort.maker.id).toBe(byFlush.maker.id);
    expect(byCohort.gadget.id).toBe(byFlush.gadget.id);
  });

  it('a managed: false call still links the entity it wrote, which has no snapshot, rather than inserting it again', async () => {
    const em = fork();
    const maker = make(Maker, { name: 'acme' });
    await bulkInsert(em, Maker, [maker], { ...opts, managed: false });
    const gadget = make(Gadget, { name: 'widget', maker });
    await bulkInsert(em, Gadget, [gadget], { ...opts, managed: false });
    expect(await rows()).toEqual({
      makers: [{ id: 1, name: 'acme' }],
      gadgets: [{ id: 1, name: 'widget', maker_id: 1 }],
    });
  });

  it("a managed: false call's entity that bulkRemove deleted is inserted again by a later call, as flush inserts it", async () => {
    const byFlush = await scenario(
      async (em, maker) => {
        maker.id = 10;
        em.persist(maker);
        await em.flush();
      },
      async (em, gadget) => {
        em.persist(gadget);
        await em.flush();
      },
    );
    expect(byFlush.rows).toEqual({
      makers: [{ id: 10, name: 'acme' }],
      gadgets: [{ id: 1, name: 'widget', maker_id: 10 }],
    });
    await own.orm.em
      .getConnection()
      .execute(`truncate "${own.schema}"."gadget", "${own.schema}"."maker" restart identity cascade`);

    const em = fork();
    const maker = make(Maker, { id: 10, name: 'acme' });
    await bulkInsert(em, Maker, [maker], { ...opts, managed: false });
    await bulkRemove(em, Maker, [maker]);
    expect((await rows()).makers).toEqual([]);
    const gadget = make(Gadget, { name: 'widget', maker });
    await bulkInsert(em, Gadget, [gadget], opts);
    expect(await rows()).toEqual(byFlush.rows);
    expect(gadget.id).toBe(byFlush.gadget.id);
  });
});
