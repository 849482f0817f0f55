// An upsert whose conflict target no row of a batch gives (a nullable unique column left undefined).
import { bulkInsert, bulkUpsert } from '@cohort/typeorm';
import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { expect, it } from 'vitest';
import { withForcedStrategy } from '../harness/own-mikro-orm-pair.js';
import { typeormPair } from '../harness/upstream-pair.js';

@Entity('rv_ut_tag')
@Unique('rv_ut_tag_code', ['code'])
class RvTag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', nullable: true }) code?: string | null;
  @Column({ type: 'varchar', nullable: true }) label?: string | null;
}

const pair = typeormPair('rv_ut', { entities: [RvTag] });

it('a batch whose rows all leave a nullable conflict target undefined inserts them, as a batch where one row gives it', async () => {
  // Both sides are cohort: the reference's first batch gives `code` in one row; the subject's batch
  // holds only the rows without it (before: a BulkWriteError wrapping "column code is neither sent
  // nor generated").
  await pair.compare(
    async (side) => {
      const rows = [Object.assign(new RvTag(), { label: 'x' }), Object.assign(new RvTag(), { label: 'y' })];
      const input = side.mode === 'orm' ? [Object.assign(new RvTag(), { code: 'c', label: 'c' }), ...rows] : rows;
      const result = await bulkUpsert(side.dataSource, RvTag, input, withForcedStrategy({ conflictPaths: ['code'] }));
      if (side.mode === 'orm') await side.query(`DELETE FROM "${side.schema}"."rv_ut_tag" WHERE code = 'c'`);
      return { objects: rows, value: result.outcomes.slice(-2) };
    },
    { tables: [{ table: 'rv_ut_tag', orderBy: 'label' }], mask: ['id'] },
  );
});

it('bulkInsert with onConflict ignore on a target no row gives inserts the rows', async () => {
  const side = pair.subject();
  const rows = [Object.assign(new RvTag(), { label: 'p' }), Object.assign(new RvTag(), { label: 'q' })];
  await bulkInsert(side.dataSource, RvTag, rows, withForcedStrategy({ onConflict: { target: ['code'], action: 'ignore' } }));
  const stored = await side.query(`SELECT code, label FROM "${side.schema}"."rv_ut_tag" ORDER BY label`);
  expect(stored).toEqual([
    { code: null, label: 'p' },
    { code: null, label: 'q' },
  ]);
});
