// The order of flush's update events when one call updates stored rows and links a new tree of the
// same table (a new row whose parent is a new row: linked by flush's extra update). Unlike TypeORM's
// save(), flush does not interleave them: the stored rows' change sets (beforeUpdate, afterUpdate)
// first, then the extra updates' — as cohort's bulkSave fires them. Differential: flush and cohort
// on equal inputs, the update events in order (the create events are compared as sets: flush
// inserts parents first and leaves a parent without a key out of the create payload, documented).
import { bulkSave } from '@cohort/mikro-orm';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type OwnMikroOrmPair, ownMikroOrmPair, withForcedStrategy } from '../harness/own-mikro-orm-pair.js';

@Entity({ tableName: 'order_node' })
class OrderNode {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => OrderNode, { fieldName: 'parent_id', nullable: true }) parent?: OrderNode | null;
  @Property({ type: 'integer', version: true }) version!: number;
}

let pair: OwnMikroOrmPair;
beforeAll(async () => {
  pair = await ownMikroOrmPair('mstso', { entities: [OrderNode] }, (e) => (e as OrderNode).name);
});
afterAll(() => pair?.close());

const make = (name: string, parent: OrderNode | null) => Object.assign(new OrderNode(), { name, parent });

/** Stored s0, s1, s2 renamed, between new rows: c1 before its parent p1, c2 after its parent p2. */
async function input(em: EntityManager): Promise<OrderNode[]> {
  for (const name of ['s0', 's1', 's2']) em.persist(make(name, null));
  await em.flush();
  em.clear();
  const [s0, s1, s2] = (await em.find(OrderNode, {}, { orderBy: { id: 'asc' } })) as [OrderNode, OrderNode, OrderNode];
  for (const s of [s0, s1, s2]) s.name = `${s.name}x`;
  const [p1, p2] = [make('p1', null), make('p2', null)];
  return [make('c1', p1), s0, p1, s1, p2, make('c2', p2), s2];
}

const tree = (side: OwnMikroOrmPair['reference']) =>
  side.execute(
    `select c.name, c.version, p.name as parent from "${side.schema}".order_node c left join "${side.schema}".order_node p on p.id = c.parent_id order by c.name`,
  );

it('bulkSave: the stored rows’ update events, then the linked rows’, as flush', async () => {
  await pair.reset(['order_node']);
  const refEm = pair.reference.orm.em.fork() as EntityManager;
  const refRows = await input(refEm);
  pair.reference.events.length = 0;
  refEm.persist(refRows);
  await refEm.flush();
  const em = pair.subject.orm.em.fork() as EntityManager;
  const rows = await input(em);
  pair.subject.events.length = 0;
  await bulkSave(em, OrderNode, rows, withForcedStrategy());
  expect(await tree(pair.subject)).toEqual(await tree(pair.reference));
  const updates = (events: string[]) => events.filter((e) => e.includes('Update'));
  expect(updates(pair.reference.events)).toEqual([
    'beforeUpdate OrderNode s0x [name]',
    'beforeUpdate OrderNode s1x [name]',
    'beforeUpdate OrderNode s2x [name]',
    'afterUpdate OrderNode s0x [id,name,version]',
    'afterUpdate OrderNode s1x [id,name,version]',
    'afterUpdate OrderNode s2x [id,name,version]',
    'beforeUpdate OrderNode c1 [parent]',
    'beforeUpdate OrderNode c2 [parent]',
    'afterUpdate OrderNode c1 [parent,version]',
    'afterUpdate OrderNode c2 [parent,version]',
  ]);
  expect(updates(pair.subject.events)).toEqual(updates(pair.reference.events));
  const creates = (events: string[]) =>
    events
      .filter((e) => e.includes('Create'))
      .map((e) => e.replace(/ \[.*\]$/, ''))
      .sort();
  expect(creates(pair.subject.events)).toEqual(creates(pair.reference.events));
  // Every update event after every create event, on both sides.
  for (const events of [pair.subject.events, pair.reference.events]) {
    const kinds = events.map((e) => e.includes('Update'));
    expect(kinds.lastIndexOf(false)).toBeLessThan(kinds.indexOf(true));
  }
});
