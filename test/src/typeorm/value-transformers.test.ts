// A ValueTransformer whose to() changes its argument, with save() and with cohort on equal inputs.
// save() calls to() on the stored value and on the entity's own value when it diffs (the entity's
// value is changed there), and once on a copy of the entity's value (OrmUtils.mergeDeep's) when it
// writes: the entity keeps what the diff left, the row gets the copy's output. cohort must call to()
// the same number of times on the same values, write the same rows and leave the same objects,
// with and without trackEntityChanges.
import { bulkInsert, bulkSave, bulkUpdate, bulkUpsert, trackEntityChanges } from '@cohort/typeorm';
import { Column, Entity, PrimaryGeneratedColumn, type ValueTransformer, VersionColumn } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { journal, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

type Data = Record<string, unknown> & { hits?: number };

/** The values the scenario's entities hold: to() records whether it was given one of them. */
let owned = new WeakSet<object>();

/** Counts its calls in the value it is given (as a careless transformer might), then serializes it. */
const counting: ValueTransformer = {
  to(value: Data | null | undefined) {
    journal.record('to', {
      arg: JSON.stringify(value) ?? 'undefined',
      own: typeof value === 'object' && value !== null && owned.has(value),
    });
    if (value === null || value === undefined) return value;
    value.hits = (value.hits ?? 0) + 1;
    return JSON.stringify(value);
  },
  from(text: string | null) {
    return text === null ? null : (JSON.parse(text) as Data);
  },
};

@Entity('transformed_box')
class Box {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'text', nullable: true, transformer: counting }) data!: Data | null;
  @Column({ type: 'integer', default: 0 }) n!: number;
  @VersionColumn() version!: number;
}

const strategy = forcedStrategy;
const options = strategy ? { strategy } : {};
const box = (data: Data, n = 1) => Object.assign(new Box(), { data, n });
/** Marks the entities' current values as theirs (what to() records as `own`). */
const own = (boxes: Box[]) => {
  owned = new WeakSet(boxes.flatMap((b) => (b.data ? [b.data] : [])));
};

for (const tracked of [false, true]) {
  describe(tracked ? 'with trackEntityChanges' : 'without trackEntityChanges', () => {
    const pair = typeormPair(tracked ? 'vt_tracked' : 'vt_plain', { entities: [Box] });
    const track = (side: TypeormSide) => {
      if (tracked) trackEntityChanges(side.dataSource);
    };
    const load = async (side: TypeormSide) => side.dataSource.getRepository(Box).find({ order: { id: 'ASC' } });

    it('a transformer whose to() changes its argument: insert calls it once on a copy, as save() does', async () => {
      for (const write of ['bulkInsert', 'bulkSave'] as const) {
        await pair.compare(
          async (side) => {
            track(side);
            await side.query(`TRUNCATE "${side.schema}"."transformed_box" RESTART IDENTITY`);
            const boxes = [box({ a: 1 }), box({ b: [1, { c: 2 }] })];
            own(boxes);
            if (side.mode === 'orm') await side.dataSource.manager.save(boxes);
            else if (write === 'bulkInsert') await bulkInsert(side.dataSource, Box, boxes, options);
            else await bulkSave(side.dataSource, Box, boxes, options);
            return { objects: boxes };
          },
          { tables: ['transformed_box'] },
        );
      }
      expect(await pair.subject().query(`SELECT data FROM "${pair.subject().schema}"."transformed_box" ORDER BY id`)).toEqual([
        { data: '{"a":1,"hits":1}' },
        { data: '{"b":[1,{"c":2}],"hits":1}' },
      ]);
    });

    it('a transformer whose to() changes its argument: updates call it as save() does, on the same values', async () => {
      const outcomes: unknown[] = [];
      await pair.compare(
        async (side) => {
          track(side);
          await side.dataSource.manager.save([box({ a: 1 }), box({ b: 2 })]);
          journal.take();
          const boxes = await load(side);
          const save = async () => {
            own(boxes);
            if (side.mode === 'orm') await side.dataSource.manager.save(boxes);
            else outcomes.push((await bulkUpdate(side.dataSource, Box, boxes, options)).outcomes);
            journal.record('rows', await side.query(`SELECT * FROM "${side.schema}"."transformed_box" ORDER BY id`));
            journal.record('objects', boxes);
          };
          // As loaded: no change (to() turns both values into the same text).
          await save();
          // Again: the diff changed the entity's values, so now they differ from the stored ones.
          await save();
          (boxes[0] as Box).n = 5;
          await save();
          (boxes[1] as Box).data = { c: 3 };
          await save();
          return { objects: boxes };
        },
        { tables: ['transformed_box'] },
      );
      expect(outcomes[0]).toEqual(['unchanged', 'unchanged']);
      expect(outcomes[1]).toEqual(['updated', 'updated']);
    });

    it('bulkSave of loaded entities with such a transformer: as save()', async () => {
      await pair.compare(
        async (side) => {
          track(side);
          await side.dataSource.manager.save([box({ a: 1 })]);
          journal.take();
          const boxes = [...(await load(side)), box({ fresh: true })];
          for (let round = 0; round < 2; round++) {
            own(boxes);
            if (side.mode === 'orm') await side.dataSource.manager.save(boxes);
            else await bulkSave(side.dataSource, Box, boxes, options);
          }
          return { objects: boxes };
        },
        { tables: ['transformed_box'] },
      );
    });
  });
}

describe('bulkUpsert', () => {
  const pair = typeormPair('vt_upsert', { entities: [Box] });

  it("a transformer whose to() changes its argument: bulkUpsert calls it on the entity's own value, as upsert() does", async () => {
    await pair.compare(
      async (side) => {
        const boxes = [box({ a: 1 }), box({ b: 2 })];
        own(boxes);
        if (side.mode === 'orm') await side.dataSource.getRepository(Box).upsert(boxes as never, ['id']);
        else await bulkUpsert(side.dataSource, Box, boxes, { ...options, target: ['id'] });
        return { objects: boxes };
      },
      { tables: ['transformed_box'] },
    );
  });
});
