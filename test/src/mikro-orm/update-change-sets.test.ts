// The change set afterUpdate receives after a bulkUpdate, against flush's: flush updates one changed
// entity of a class with one UPDATE returning its new values only, and several with one statement
// returning every row's key too, which it merges into each payload.

import { bulkUpdate } from '@cohort/mikro-orm';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type OwnMikroOrmPair, ownMikroOrmPair, withForcedStrategy } from '../harness/own-mikro-orm-pair.js';

@Entity({ tableName: 'counter' })
class Counter {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @Property({ type: 'integer' }) n!: number;
  @Property({ version: true }) version!: number;
}

let pair: OwnMikroOrmPair;

beforeAll(async () => {
  pair = await ownMikroOrmPair('mupdcs', { entities: [Counter] }, (e) => (e as Counter).name);
});
beforeEach(() => pair.reset(['counter']));
afterAll(() => pair?.close());

/** Flush and bulkUpdate (with `options`) change `changed` of four stored counters: both sides' events. */
async function afterUpdates(changed: readonly number[], options: { batchSize?: number } = {}) {
  const events: string[][] = [];
  for (const side of [pair.reference, pair.subject]) {
    const em = side.orm.em.fork();
    const counters = ['c0', 'c1', 'c2', 'c3'].map((name) => Object.assign(new Counter(), { name, n: 0 }));
    await em.persist(counters).flush();
    side.events.length = 0;
    for (const i of changed) (counters[i] as Counter).n = 1;
    if (side === pair.reference) await em.flush();
    else await bulkUpdate(em, Counter, counters, withForcedStrategy(options));
    events.push(side.events.filter((e) => e.startsWith('afterUpdate')));
  }
  return { reference: events[0], subject: events[1] };
}

it('one changed entity: the payload gets the new version only, as flush', async () => {
  const { reference, subject } = await afterUpdates([2]);
  expect(reference).toEqual(['afterUpdate Counter c2 [n,version]']);
  expect(subject).toEqual(reference);
});

it('several changed entities: every payload gets its key too, as flush', async () => {
  const { reference, subject } = await afterUpdates([0, 2, 3]);
  expect(reference).toEqual([
    'afterUpdate Counter c0 [id,n,version]',
    'afterUpdate Counter c2 [id,n,version]',
    'afterUpdate Counter c3 [id,n,version]',
  ]);
  expect(subject).toEqual(reference);
});

it("over several batches the call's changed rows count as one group once more than one is known", async () => {
  const { reference, subject } = await afterUpdates([0, 1, 3], { batchSize: 2 });
  expect(reference).toEqual([
    'afterUpdate Counter c0 [id,n,version]',
    'afterUpdate Counter c1 [id,n,version]',
    'afterUpdate Counter c3 [id,n,version]',
  ]);
  expect(subject).toEqual(reference);
});

it('known difference: a first batch with one changed row, when later batches have more, lacks the key', async () => {
  const { reference, subject } = await afterUpdates([0, 2, 3], { batchSize: 1 });
  expect(subject).toEqual(['afterUpdate Counter c0 [n,version]', ...reference.slice(1)]);
});
