// Issue 22: flush's extra updates of a tree (a parent inserted in the same flush) move the row's version
// on, and fire beforeUpdate and afterUpdate per row (entity hooks, then subscribers) after every
// afterCreate, with an UPDATE change set whose payload is the parent's key (plus, after, the new
// version). cohort's one UPDATE per batch does the same; MikroORM inserts the parents first, cohort
// in input order, so the events are compared sorted. What flush would write beside the parent in that
// UPDATE — an onUpdate property's value, a column a hook changed — cohort refuses (`tree update`),
// rolled back, rather than leave it unwritten.
import { UnsupportedFeatureError } from '@cohort/core';
import { bulkInsert } from '@cohort/mikro-orm';
import type { EventArgs } from '@mikro-orm/core';
import { AfterUpdate, BeforeUpdate, Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type OwnMikroOrmPair, ownMikroOrmPair, withForcedStrategy } from '../harness/own-mikro-orm-pair.js';

const hooked: string[] = [];
// The name of a node whose beforeUpdate hook changes its note (flush writes it in the same UPDATE).
let noteOf: string | undefined;

@Entity({ tableName: 'versioned_node' })
class VersionedNode {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({ type: 'string', length: 40, nullable: true }) note?: string | null;
  @ManyToOne(() => VersionedNode, { fieldName: 'parent_id', nullable: true }) parent?: VersionedNode | null;
  @Property({ type: 'integer', version: true }) version!: number;
  @BeforeUpdate() beforeUpdate(args: EventArgs<VersionedNode>) {
    hooked.push(`hook beforeUpdate ${this.name} v${this.version} [${Object.keys(args.changeSet?.payload ?? {})}]`);
    if (this.name === noteOf) this.note = 'set in beforeUpdate';
  }
  @AfterUpdate() afterUpdate(args: EventArgs<VersionedNode>) {
    hooked.push(`hook afterUpdate ${this.name} v${this.version} [${Object.keys(args.changeSet?.payload ?? {})}]`);
  }
}

@Entity({ tableName: 'stamped_node' })
class StampedNode {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => StampedNode, { fieldName: 'parent_id', nullable: true }) parent?: StampedNode | null;
  @Property({ type: 'Date', nullable: true, onUpdate: () => new Date() }) touchedAt?: Date;
}

let pair: OwnMikroOrmPair;
beforeAll(async () => {
  pair = await ownMikroOrmPair('mstreev', { entities: [VersionedNode, StampedNode] }, (e) => (e as VersionedNode).name);
});
beforeEach(() => pair.reset(['versioned_node', 'stamped_node']));
afterAll(() => pair?.close());

function build() {
  const parent = Object.assign(new VersionedNode(), { name: 'parent', parent: null });
  const child = Object.assign(new VersionedNode(), { name: 'child', parent });
  const grand = Object.assign(new VersionedNode(), { name: 'grand', parent: child });
  return [grand, child, parent];
}

const tree = (side: OwnMikroOrmPair['reference']) =>
  side.execute(
    `select c.name, c.version, c.note, p.name as parent from "${side.schema}".versioned_node c left join "${side.schema}".versioned_node p on p.id = c.parent_id order by c.name`,
  );

it('the version moves on; beforeUpdate/afterUpdate per linked row after the afterCreates, as flush', async () => {
  const { reference, subject } = pair;
  hooked.length = 0;
  const refEm = reference.orm.em.fork() as EntityManager;
  const refRows = build();
  refEm.persist(refRows);
  await refEm.flush();
  const refHooks = [...hooked];
  hooked.length = 0;
  const em = subject.orm.em.fork() as EntityManager;
  const rows = build();
  expect(await bulkInsert(em, VersionedNode, rows, withForcedStrategy())).toMatchObject({ inserted: 3 });
  expect(await tree(subject)).toEqual(await tree(reference));
  expect((await tree(subject)).map((r) => r.version)).toEqual([2, 2, 1]);
  expect(rows.map((r) => r.version)).toEqual(refRows.map((r) => r.version));
  expect([...hooked].sort()).toEqual([...refHooks].sort());
  // The update events with their payloads' keys; the create events by row (their payloads differ
  // apart from this issue: flush leaves a parent without a key out of the INSERT's change set).
  const updates = (events: string[]) => events.filter((e) => e.includes('Update')).sort();
  const creates = (events: string[]) =>
    events
      .filter((e) => !e.includes('Update'))
      .map((e) => e.replace(/ \[.*\]$/, ''))
      .sort();
  expect(updates(subject.events)).toEqual(updates(reference.events));
  expect(creates(subject.events)).toEqual(creates(reference.events));
  // Every update event after every create event, on both sides.
  for (const events of [subject.events, reference.events]) {
    const updates = events.map((e) => e.includes('Update'));
    expect(updates.lastIndexOf(false)).toBeLessThan(updates.indexOf(true));
  }
  expect(refHooks.filter((h) => h.includes('afterUpdate')).sort()).toEqual([
    'hook afterUpdate child v2 [parent,version]',
    'hook afterUpdate grand v2 [parent,version]',
  ]);
  // The snapshots hold the parents and the versions: a following flush sends nothing.
  subject.sql.length = 0;
  await em.flush();
  expect(subject.sql.filter((s) => /^(insert|update|delete)/i.test(s))).toEqual([]);
});

it('refused (tree update), nothing written: a beforeUpdate hook changing a column, an onUpdate property', async () => {
  const { subject } = pair;
  const em = subject.orm.em.fork() as EntityManager;
  noteOf = 'child';
  try {
    const error = await bulkInsert(em, VersionedNode, build(), withForcedStrategy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'tree update', entityName: 'VersionedNode', property: 'parent', index: 1 });
    expect((error as Error).message).toContain('beforeUpdate hooks changed (note)');
  } finally {
    noteOf = undefined;
  }
  const parent = Object.assign(new StampedNode(), { name: 'parent', parent: null });
  const child = Object.assign(new StampedNode(), { name: 'child', parent });
  const stamped = await bulkInsert(em.fork(), StampedNode, [child, parent], withForcedStrategy()).catch((e: unknown) => e);
  expect(stamped).toMatchObject({ feature: 'tree update', entityName: 'StampedNode', property: 'parent' });
  expect((stamped as Error).message).toContain('onUpdate value of touchedAt');
  expect(await subject.rows('versioned_node')).toEqual([]);
  expect(await subject.rows('stamped_node')).toEqual([]);
});

// A parent an earlier batch of the call inserted: one flush of the whole input still links the row
// with its extra update (version 2, update events); cohort's INSERT of the row's batch writes the
// parent's key, so for a class with a version property it refuses (`unsaved reference`, naming the
// relation), nothing written, rather than leave the version at 1 (docs/differences.md, trees).
it('a parent inserted by an earlier batch of the call (batchSize 1, parents first): flush bumps the version; refused, nothing written', async () => {
  const { reference, subject } = pair;
  const refEm = reference.orm.em.fork() as EntityManager;
  refEm.persist([...build()].reverse());
  await refEm.flush();
  expect((await tree(reference)).map((r) => [r.name, r.parent, r.version])).toEqual([
    ['child', 'parent', 2],
    ['grand', 'child', 2],
    ['parent', null, 1],
  ]);
  expect(reference.events.filter((e) => e.startsWith('afterUpdate'))).toHaveLength(2);
  const em = subject.orm.em.fork() as EntityManager;
  const error = await bulkInsert(em, VersionedNode, [...build()].reverse(), withForcedStrategy({ batchSize: 1 })).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject({ feature: 'unsaved reference', entityName: 'VersionedNode', property: 'parent', index: 1 });
  expect(await tree(subject)).toEqual([]);
});
