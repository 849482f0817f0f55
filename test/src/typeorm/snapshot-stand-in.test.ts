// trackEntityChanges(dataSource, { reload: false }): an entity's snapshot stands in for its row, so
// bulkUpdate and bulkSave send no look-up for entities that carry one. Compared here with the
// default (the look-up save() makes) on the same scenario: rows, events, statements.
import { createSchema } from '@cohort/pg-harness';
import { bulkSave, bulkUpdate, OptimisticLockError, trackEntityChanges } from '@cohort/typeorm';
import {
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  PrimaryGeneratedColumn,
  type UpdateEvent,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { snapshotOf, takeSnapshot } from '../../../packages/typeorm/src/entity-snapshots.js';

@Entity('stand_in_row')
class StandInRow {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) qty!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
}

const log: string[] = [];

@EventSubscriber()
class StandInSubscriber implements EntitySubscriberInterface<StandInRow> {
  listenTo() {
    return StandInRow;
  }
  afterLoad(entity: StandInRow) {
    log.push(`afterLoad ${entity.id}`);
  }
  beforeUpdate(event: UpdateEvent<StandInRow>) {
    const stored = event.databaseEntity as StandInRow;
    const columns = event.updatedColumns.map((c) => c.propertyName).join('+');
    log.push(`beforeUpdate ${stored.id} ${stored.constructor.name} qty=${stored.qty} label=${stored.label} [${columns}]`);
  }
  afterUpdate(event: UpdateEvent<StandInRow>) {
    log.push(`afterUpdate ${event.entity?.id}`);
  }
}

const sources = new Map<boolean, DataSource>();
const drops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const url = inject('databaseUrl');
  for (const reload of [true, false]) {
    const schema = await createSchema(url, reload ? 'tsreload' : 'tsstand');
    drops.push(schema.drop);
    const ds = new DataSource({
      type: 'postgres',
      url,
      schema: schema.name,
      entities: [StandInRow],
      subscribers: [StandInSubscriber],
      synchronize: true,
    });
    await ds.initialize();
    trackEntityChanges(ds, { reload });
    sources.set(reload, ds);
  }
});
afterAll(async () => {
  for (const ds of sources.values()) await ds.destroy();
  for (const drop of drops) await drop();
});

async function seeded(reload: boolean): Promise<{ ds: DataSource; rows: StandInRow[] }> {
  const ds = sources.get(reload)!;
  const repo = ds.getRepository(StandInRow);
  await ds.query(`TRUNCATE ${repo.metadata.tablePath} RESTART IDENTITY`);
  await repo.insert([1, 2, 3].map((i) => ({ qty: i, label: `r${i}` })));
  const rows = await repo.find({ order: { id: 'ASC' } });
  log.length = 0;
  return { ds, rows };
}

const table = async (ds: DataSource) =>
  (await ds.getRepository(StandInRow).find({ order: { id: 'ASC' } })).map((r) => [r.qty, r.label]);

beforeEach(() => {
  log.length = 0;
});

describe('reload: false', () => {
  it('writes what the default writes, with no look-up: events differ only by the reloaded copies', async () => {
    const outcomes = new Map<boolean, { log: string[]; statements: number; rows: unknown[] }>();
    for (const reload of [true, false]) {
      const { ds, rows } = await seeded(reload);
      rows[0]!.qty = 10;
      rows[2]!.label = 'changed';
      const result = await bulkUpdate(ds.manager, StandInRow, rows);
      expect(result).toMatchObject({ updated: 2, unchanged: 1 });
      outcomes.set(reload, { log: [...log], statements: result.statements, rows: await table(ds) });
    }
    const withLookUp = outcomes.get(true)!;
    const standIn = outcomes.get(false)!;
    expect(standIn.rows).toEqual(withLookUp.rows);
    expect(standIn.rows).toEqual([
      [10, 'r1'],
      [2, 'r2'],
      [3, 'changed'],
    ]);
    // The look-up fires afterLoad for its copies; without it, the rest is the same, in the same order.
    expect(withLookUp.log.filter((l) => l.startsWith('afterLoad'))).toEqual(['afterLoad 1', 'afterLoad 2', 'afterLoad 3']);
    expect(standIn.log).toEqual(withLookUp.log.filter((l) => !l.startsWith('afterLoad')));
    expect(standIn.log).toEqual([
      'beforeUpdate 1 StandInRow qty=1 label=r1 [qty]',
      'beforeUpdate 3 StandInRow qty=3 label=r3 [label]',
      'afterUpdate 1',
      'afterUpdate 3',
    ]);
    expect(standIn.statements).toBe(withLookUp.statements - 1);
  });

  it('an entity without a snapshot is still looked up', async () => {
    const { ds } = await seeded(false);
    const detached = Object.assign(new StandInRow(), { id: 2, qty: 20, label: 'r2' });
    const result = await bulkUpdate(ds.manager, StandInRow, [detached]);
    expect(result).toMatchObject({ updated: 1 });
    expect(log).toEqual(['afterLoad 2', 'beforeUpdate 2 StandInRow qty=2 label=r2 [qty]', 'afterUpdate 2']);
    expect(await table(ds)).toEqual([
      [1, 'r1'],
      [20, 'r2'],
      [3, 'r3'],
    ]);
  });

  it('a row deleted since it was loaded fails the batch (the default skips it as missing); nothing is written', async () => {
    const { ds, rows } = await seeded(false);
    await ds.getRepository(StandInRow).delete(rows[1]!.id);
    for (const row of rows) row.qty += 100;
    const error = await bulkUpdate(ds.manager, StandInRow, rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptimisticLockError);
    expect((error as OptimisticLockError).indices).toEqual([1]);
    expect(await table(ds)).toEqual([
      [1, 'r1'],
      [3, 'r3'],
    ]);

    const withLookUp = await seeded(true);
    await withLookUp.ds.getRepository(StandInRow).delete(withLookUp.rows[1]!.id);
    for (const row of withLookUp.rows) row.qty += 100;
    const result = await bulkUpdate(withLookUp.ds.manager, StandInRow, withLookUp.rows);
    expect(result.skipped.map((s) => [s.index, s.reason])).toEqual([[1, 'missing']]);
  });

  it('bulkSave inserts the new rows and updates the loaded ones without a look-up for them', async () => {
    const { ds, rows } = await seeded(false);
    rows[1]!.label = 'saved';
    const fresh = Object.assign(new StandInRow(), { qty: 4, label: 'r4' });
    const result = await bulkSave(ds.manager, StandInRow, [...rows, fresh]);
    expect(result).toMatchObject({ inserted: 1, updated: 1, unchanged: 2 });
    expect(log.filter((l) => l.startsWith('afterLoad'))).toEqual([]);
    expect(await table(ds)).toEqual([
      [1, 'r1'],
      [2, 'saved'],
      [3, 'r3'],
      [4, 'r4'],
    ]);
  });
});

describe('snapshots', () => {
  it('are invisible on the entity (keys, JSON, spread), and kept aside for frozen entities', async () => {
    const { ds, rows } = await seeded(false);
    const row = rows[0]!;
    expect(snapshotOf(row)).toMatchObject({ id: row.id, qty: 1, label: 'r1' });
    expect(Object.keys(row)).toEqual(['id', 'qty', 'label']);
    expect(JSON.parse(JSON.stringify(row))).toEqual({ id: row.id, qty: 1, label: 'r1' });
    expect(Object.getOwnPropertySymbols({ ...row })).toEqual([]);

    const frozen = Object.freeze(Object.assign(new StandInRow(), { id: 7, qty: 7, label: 'f' }));
    takeSnapshot(ds, frozen);
    expect(snapshotOf(frozen)).toMatchObject({ id: 7, qty: 7, label: 'f' });
    // Snapshotted, then sealed: the snapshot it carries is replaced in place.
    const sealed = rows[1]!;
    sealed.qty = 3;
    Object.seal(sealed);
    takeSnapshot(ds, sealed);
    expect(snapshotOf(sealed)).toMatchObject({ qty: 3 });
    // Snapshotted, then frozen: a newer snapshot replaces the one it carries.
    row.qty = 2;
    Object.freeze(row);
    takeSnapshot(ds, row);
    expect(snapshotOf(row)).toMatchObject({ qty: 2 });
    expect(snapshotOf(row)).toBeInstanceOf(StandInRow);
  });
});
