// The TypeORM adapter reads column values as save() hands them to the driver. For types whose
// PostgresDriver.preparePersistentValue returns its input unchanged it skips that call: this pins,
// for the installed TypeORM, that the shortcut gives what the call gives, value by value.
import { readTypeormEntity } from '@cohort/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

@Entity('persistent_values')
class Typed {
  @PrimaryGeneratedColumn() id!: number;
  @Column() implicitNumber!: number;
  @Column() implicitString!: string;
  @Column() implicitBoolean!: boolean;
  @Column() implicitDate!: Date;
  @Column({ type: 'int' }) int!: unknown;
  @Column({ type: 'int8' }) int8!: unknown;
  @Column({ type: 'smallint' }) small!: unknown;
  @Column({ type: 'bigint' }) big!: unknown;
  @Column({ type: 'numeric' }) numeric!: unknown;
  @Column({ type: 'decimal' }) decimal!: unknown;
  @Column({ type: 'real' }) real!: unknown;
  @Column({ type: 'double precision' }) double!: unknown;
  @Column({ type: 'boolean' }) bool!: unknown;
  @Column({ type: 'varchar' }) varchar!: unknown;
  @Column({ type: 'character varying' }) characterVarying!: unknown;
  @Column({ type: 'char' }) char!: unknown;
  @Column({ type: 'text' }) text!: unknown;
  @Column({ type: 'uuid' }) uuid!: unknown;
  @Column({ type: 'bytea' }) bytes!: unknown;
  @Column({ type: 'timestamptz' }) timestamptz!: unknown;
  @Column({ type: 'timestamp' }) timestamp!: unknown;
  @Column({ type: 'timestamp with time zone' }) timestampWithZone!: unknown;
  // Types the driver does convert: the adapter must still go through preparePersistentValue.
  @Column({ type: 'json' }) json!: unknown;
  @Column({ type: 'date' }) date!: unknown;
  @Column({ type: 'simple-array' }) simpleArray!: unknown;
  @Column({ type: 'enum', enum: ['a', 'b'] }) enumValue!: unknown;
  @Column({ type: 'integer', transformer: { to: (v: unknown) => (typeof v === 'number' ? v * 2 : v), from: (v: unknown) => v } })
  transformed!: unknown;
}

let ds: DataSource;
beforeAll(async () => {
  ds = new DataSource({ type: 'postgres', url: inject('databaseUrl'), entities: [Typed], synchronize: false });
  await ds.initialize();
});
afterAll(async () => {
  await ds.destroy();
});

const samples: unknown[] = [
  null,
  undefined,
  0,
  -1.5,
  42,
  '',
  'text',
  '2024-05-06',
  '2024-05-06T07:08:09.010Z',
  true,
  false,
  new Date('2024-05-06T07:08:09.010Z'),
  Buffer.from('bytes'),
  12345678901234567890n,
  ['x', 'y'],
  { k: 'v' },
];

function outcome(read: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: read() };
  } catch (error) {
    return { error: String(error) };
  }
}

it('every column reads what preparePersistentValue gives, for values of every JavaScript type', () => {
  const metadata = ds.getMetadata(Typed);
  const { model, access } = readTypeormEntity<Typed>(ds, metadata);
  const columns = metadata.columns.filter((c) => !c.isGenerated);
  expect(columns.length).toBeGreaterThan(25);
  for (const column of columns) {
    const modelColumn = model.columns.find((c) => c.name === column.databaseName);
    expect(modelColumn, column.propertyName).toBeDefined();
    for (const value of samples) {
      const entity = Object.assign(new Typed(), { [column.propertyName]: value });
      const expected = outcome(() => ds.driver.preparePersistentValue(column.getEntityValue(entity), column));
      const read = modelColumn ? access.reader(modelColumn) : undefined;
      const actual = outcome(() => read?.(entity));
      const what = `${column.propertyName} ← ${String(value)}`;
      if ('error' in expected) {
        expect(actual, what).toEqual(expected);
        continue;
      }
      // Same value, and the very object where the driver passes one through (no copy, no conversion).
      if (typeof expected.value === 'object' && expected.value !== null) expect(actual, what).toEqual(expected);
      else expect(Object.is((actual as { value?: unknown }).value, expected.value), what).toBe(true);
      if (expected.value === value && typeof value === 'object' && value !== null) {
        expect((actual as { value?: unknown }).value, what).toBe(value);
      }
    }
  }
});
