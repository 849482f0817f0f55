// cohort diffs entities whose columns are all plain (scalars, timestamps; no transformer, array or
// relation) without TypeORM's Subject machinery. Its verdicts must be TypeORM's own: checked here
// against SubjectChangedColumnsComputer on random stored/current pairs.
import { createSchema } from '@cohort/pg-harness';
import fc from 'fast-check';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, VersionColumn } from 'typeorm';
import { Subject } from 'typeorm/persistence/Subject.js';
import { SubjectChangedColumnsComputer } from 'typeorm/persistence/SubjectChangedColumnsComputer.js';
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import { TypeormChangeTracker } from '../../../packages/typeorm/src/typeorm-change-tracker.js';

@Entity('plain_row')
class PlainRow {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer', nullable: true }) qty!: number | null;
  @Column({ type: 'varchar', length: 40, nullable: true }) label!: string | null;
  @Column({ type: 'boolean', nullable: true }) flag!: boolean | null;
  @Column({ type: 'timestamptz', nullable: true }) at!: Date | null;
  @Column({ type: 'numeric', precision: 10, scale: 2, nullable: true }) amount!: string | null;
  @Column({ type: 'bigint', nullable: true }) big!: string | null;
  @VersionColumn() version!: number;
}

let ds: DataSource;
let drop: () => Promise<void>;

beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tdiff');
  drop = schema.drop;
  ds = new DataSource({ type: 'postgres', url, schema: schema.name, entities: [PlainRow], synchronize: true });
  await ds.initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});

const values = {
  qty: fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }),
  label: fc.option(fc.constantFrom('a', 'b', ''), { nil: null }),
  flag: fc.option(fc.boolean(), { nil: null }),
  at: fc.option(
    fc.constantFrom('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.001Z', '2030-06-01T12:00:00.000Z').map((s) => new Date(s)),
    { nil: null },
  ),
  amount: fc.option(fc.constantFrom('1.00', '1.5', '2.00'), { nil: null }),
  big: fc.option(fc.constantFrom('1', '9007199254740993'), { nil: null }),
  version: fc.integer({ min: 1, max: 3 }),
};
type Name = keyof typeof values;
const names = Object.keys(values) as Name[];
// What the current entity holds per column: the stored value (or a copy of it), another value, or nothing.
const edit = fc.constantFrom('same', 'copy', 'other', 'undefined');

it('plain columns: the changed columns are exactly those TypeORM finds', async () => {
  const metadata = ds.getMetadata(PlainRow);
  const tracker = new TypeormChangeTracker<PlainRow>(ds.createQueryRunner(), metadata);
  const computer = new SubjectChangedColumnsComputer();
  // Every column of PlainRow is plain: the tracker must not fall back to TypeORM's computer.
  const computed = vi.spyOn(SubjectChangedColumnsComputer.prototype, 'compute');
  let runs = 0;
  await fc.assert(
    fc.property(fc.record(values), fc.record(values), fc.dictionary(fc.constantFrom(...names), edit), (stored, other, edits) => {
      const loaded = Object.assign(new PlainRow(), { id: 1, ...stored });
      const entity = Object.assign(new PlainRow(), { id: 1 }) as unknown as Record<string, unknown>;
      for (const name of names) {
        const how = edits[name] ?? 'same';
        const value = stored[name];
        if (how === 'same') entity[name] = value;
        else if (how === 'copy') entity[name] = value instanceof Date ? new Date(value.getTime()) : value;
        else if (how === 'other') entity[name] = other[name];
      }
      const subject = new Subject({ metadata, entity: entity as unknown as PlainRow, canBeUpdated: true });
      subject.databaseEntity = loaded;
      subject.databaseEntityLoaded = true;
      computer.compute([subject]);
      runs++;
      const expected = subject.mustBeUpdated ? subject.diffColumns.map((c) => c.databaseName) : [];
      const change = tracker.diff(entity as unknown as PlainRow, loaded);
      expect(change.columns).toEqual(expected);
      expect(change.properties).toEqual(subject.diffColumns.map((c) => c.propertyPath));
    }),
    { numRuns: 500, ...(process.env.CI ? { seed: 20261121 } : {}) },
  );
  expect(computed).toHaveBeenCalledTimes(runs);
  computed.mockRestore();
});
