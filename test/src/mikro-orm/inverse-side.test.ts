// The inverse side of a one-to-many, MikroORM specifics (test/src/conformance/inverse-side.test.ts
// compares both ORMs): items added or removed through the collection are changed managed entities
// that the call leaves to the next flush — with orphanRemoval that flush deletes a removed item, as
// persist + flush does. Refused where that flush would not write them as flush would: an item the
// call's EntityManager does not manage, or rows the call leaves unmanaged (`managed: false`).
import { bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { Collection } from '@mikro-orm/core';
import { Entity, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

/** A one-to-many with orphanRemoval: flush deletes an item removed from it. */
@Entity({ tableName: 'basket' })
class Basket {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToMany(
    () => Fruit,
    (fruit) => fruit.basket,
    { orphanRemoval: true },
  )
  fruits = new Collection<Fruit>(this);
}

@Entity({ tableName: 'fruit' })
class Fruit {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => Basket, { nullable: true }) basket?: Basket | null;
}

/**
 * A batch subscriber beside a per-entity one, on Fruit: what each gets for an orphan removal (cohort
 * removes nothing, the next flush does, with MikroORM's own per-entity events).
 */
const seen: string[] = [];
const audit = {
  getSubscribedEntities: () => [Fruit],
  beforeBulkRemove: (e: { entities: readonly Fruit[] }) => void seen.push(`beforeBulkRemove ${e.entities.map((f) => f.name)}`),
  afterBulkRemove: (e: { entities: readonly Fruit[] }) => void seen.push(`afterBulkRemove ${e.entities.map((f) => f.name)}`),
  afterDelete: (e: { entity: Fruit }) => void seen.push(`afterDelete ${e.entity.name}`),
};

let own: OwnMikroOrm | undefined;
let schema: string;
beforeAll(async () => {
  own = await ownMikroOrm('minv', { entities: [Basket, Fruit], subscribers: [audit] });
  schema = own.schema;
});
afterAll(async () => {
  await own?.close();
});
beforeEach(async () => {
  await fork().execute(`truncate "${schema}"."basket", "${schema}"."fruit" restart identity cascade`);
});

const fork = (): EntityManager => (own as OwnMikroOrm).orm.em.fork() as EntityManager;
const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const rows = async () => ({
  basket: await fork().execute(`select * from "${schema}"."basket" order by id`),
  fruit: await fork().execute(`select * from "${schema}"."fruit" order by id`),
});
/** b0 with apple and pear, b1 empty, saved with persist + flush. */
async function seed(): Promise<void> {
  const b0 = make(Basket, { name: 'b0' });
  for (const name of ['apple', 'pear']) b0.fruits.add(make(Fruit, { name }));
  const em = fork();
  em.persist([b0, make(Basket, { name: 'b1' })]);
  await em.flush();
}
const loadBaskets = async (em: EntityManager): Promise<Basket[]> =>
  em.find(Basket, {}, { populate: ['fruits'], orderBy: { id: 'asc' } });

describe('the inverse side of a one-to-many, MikroORM', () => {
  it('orphanRemoval: an item removed is deleted by the flush after the call, as by persist + flush', async () => {
    const change = async (em: EntityManager) => {
      const [b0] = (await loadBaskets(em)) as [Basket];
      b0.name = 'renamed';
      b0.fruits.remove(b0.fruits.getItems().find((f) => f.name === 'pear') as Fruit);
      return b0;
    };
    await seed();
    const theirs = fork();
    await change(theirs);
    await theirs.flush();
    const after = await rows();
    expect(after.fruit).toHaveLength(1);

    await fork().execute(`truncate "${schema}"."basket", "${schema}"."fruit" restart identity cascade`);
    await seed();
    const em = fork();
    const b0 = await change(em);
    seen.length = 0;
    await bulkSave(em, Basket, [b0]);
    // Pending until the flush, as any changed managed entity: the call deletes nothing, so no
    // subscriber hears of a removal from it (no batch method, no afterDelete).
    expect((await rows()).fruit).toHaveLength(2);
    expect(seen).toEqual([]);
    await em.flush();
    expect(await rows()).toEqual(after);
    // The flush deletes it with MikroORM's own per-entity events: a batch method (cohort's) is not
    // called by a flush.
    expect(seen).toEqual(['afterDelete pear']);
  });

  it('an item the call’s EntityManager does not manage is refused: its flush would not write it', async () => {
    await seed();
    const [apple] = await fork().find(Fruit, { name: 'apple' });
    const em = fork();
    const [, b1] = (await loadBaskets(em)) as [Basket, Basket];
    b1.fruits.add(apple as Fruit);
    const before = await rows();
    const error = await bulkUpdate(em, Basket, [b1]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'inverse side', entityName: 'Basket', property: 'fruits', index: 0 });
    expect(await rows()).toEqual(before);
  });

  it('managed: false: items added to a one-to-many are refused (the next flush would reach the unmanaged row through them)', async () => {
    await seed();
    const em = fork();
    const baskets = (await loadBaskets(em)) as [Basket, Basket];
    baskets[1].fruits.add(baskets[0].fruits.getItems()[0] as Fruit);
    const before = await rows();
    const error = await bulkSave(em, Basket, baskets, { managed: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'inverse side', entityName: 'Basket', property: 'fruits' });
    expect((error as Error).message).toMatch(/managed: true/);
    expect(await rows()).toEqual(before);
  });
});
