// A NOT NULL self-reference to a new parent of the same call (MikroORM maps one; TypeORM refuses it in
// its own metadata): the row cannot go in before its parent has a key, so cohort refuses it naming
// the class and the relation, nothing written (loudly, rather than reproducing whatever order flush
// would find for the rows). A stored parent is written by the row's INSERT as usual.
import { UnsupportedFeatureError } from '@cohort/core';
import { bulkInsert } from '@cohort/mikro-orm';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type OwnMikroOrmPair, ownMikroOrmPair, withForcedStrategy } from '../harness/own-mikro-orm-pair.js';

@Entity({ tableName: 'chain_step' })
class ChainStep {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @ManyToOne(() => ChainStep, { fieldName: 'previous_id', nullable: true }) previous?: ChainStep | null;
  @ManyToOne(() => ChainStep, { fieldName: 'origin_id' }) origin!: ChainStep;
}

let pair: OwnMikroOrmPair;
beforeAll(async () => {
  pair = await ownMikroOrmPair('mselfnn', { entities: [ChainStep] }, (e) => (e as ChainStep).name);
});
beforeEach(() => pair.reset(['chain_step']));
afterAll(() => pair?.close());

const step = (data: Partial<ChainStep>) => Object.assign(new ChainStep(), data);

it('a NOT NULL self-reference to a new step of the call: refused naming ChainStep.origin, nothing written', async () => {
  const { subject } = pair;
  // The first step is its own origin once stored; a new one cannot be anybody's origin in the same call.
  await subject.execute(`INSERT INTO "${subject.schema}".chain_step (id, name, origin_id) VALUES (1000, 'stored', 1000)`);
  const em = subject.orm.em.fork() as EntityManager;
  const stored = await em.findOneOrFail(ChainStep, 1000);
  const head = step({ name: 'head', origin: stored });
  for (const batchSize of [undefined, 1]) {
    const rows = [step({ name: 'tail', origin: head, previous: head }), head];
    const error = await bulkInsert(em, ChainStep, rows, withForcedStrategy({ batchSize })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'unsaved reference', entityName: 'ChainStep', property: 'origin', index: 0 });
    expect((error as Error).message).toContain('NOT NULL');
  }
  expect((await subject.rows('chain_step')).map((r) => r.name)).toEqual(['stored']);
  // With the parent stored, the nullable and the NOT NULL reference are written by the row's INSERT.
  const result = await bulkInsert(
    em,
    ChainStep,
    [step({ name: 'next', origin: stored, previous: stored })],
    withForcedStrategy(),
  );
  expect(result).toMatchObject({ inserted: 1 });
  expect(await subject.rows('chain_step')).toMatchObject([
    { name: 'next', origin_id: 1000, previous_id: 1000 },
    { name: 'stored', origin_id: 1000, previous_id: null },
  ]);
});
