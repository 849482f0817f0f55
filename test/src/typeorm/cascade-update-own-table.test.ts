// Stored rows that reach a CHANGED stored entity of their OWN table through a relation that
// cascades updates (`employee.manager`, the manager's name changed, the manager not a row of the
// call): TypeORM's save() updates it with the rows, as one more subject of the graph; so do
// bulkUpdate, bulkSave and bulkInsert — as one more update group of the class (a second UPDATE of
// the table, after the rows'). Differential: save() and the bulk call on equal inputs — rows, object
// state (version, update date), the entity events (listener and subscriber, with updatedColumns and
// databaseEntity) and the UPDATE statements (docs/differences.md, "Changed related entities").
import { BulkHookError, bulkInsert, bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/typeorm';
import {
  AfterUpdate,
  BeforeUpdate,
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type Logger,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type UpdateEvent,
  VersionColumn,
} from 'typeorm';
import { describe, expect, it } from 'vitest';
import { normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';

@Entity('cot_employee')
class CotEmployee {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => CotEmployee, { nullable: true, cascade: ['update'] }) manager?: CotEmployee | null;
  @VersionColumn() version!: number;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  @BeforeUpdate() before() {
    log.push(`listener beforeUpdate ${this.name}`);
    if (this.name === 'boom!') throw new Error('no boom');
  }
  @AfterUpdate() after() {
    log.push(`listener afterUpdate ${this.name} v${this.version}`);
  }
}

/** The reviewer's table: no version column, so nothing catches a write over another. */
@Entity('cot_sr_emp')
class SrEmp {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Column({ type: 'varchar', length: 40, default: 't' }) title!: string;
  @ManyToOne(() => SrEmp, { nullable: true, cascade: ['update'] }) manager?: SrEmp | null;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}

/** Entity events and write statements, in the order they happen. */
const log: string[] = [];

@EventSubscriber()
class CotLog implements EntitySubscriberInterface {
  beforeUpdate(event: UpdateEvent<unknown>) {
    const e = event.entity as CotEmployee | undefined;
    const db = event.databaseEntity as CotEmployee | undefined;
    log.push(
      `beforeUpdate ${e?.name} [${event.updatedColumns.map((c) => c.propertyName).join(',')}] ` +
        `[${event.updatedRelations.map((r) => r.propertyName).join(',')}] was ${db?.name}`,
    );
  }
  afterUpdate(event: UpdateEvent<unknown>) {
    const e = event.entity as CotEmployee | undefined;
    log.push(`afterUpdate ${e?.name} v${e?.version}`);
  }
}

/** Batch events (cohort only: save() has none). */
const batches: string[] = [];
@EventSubscriber()
class CotBatches {
  beforeBulkUpdate(event: { metadata: { name: string }; entities: readonly CotEmployee[] }) {
    batches.push(`beforeBulkUpdate ${event.entities.map((e) => e.name).join(',')}`);
  }
  afterBulkUpdate(event: { metadata: { name: string }; entities: readonly CotEmployee[] }) {
    batches.push(`afterBulkUpdate ${event.entities.map((e) => e.name).join(',')}`);
  }
}

const statements: Logger = {
  logQuery(query: string) {
    const write = /\b(update|insert into)\s+"[^"]+"\."(\w+)"/i.exec(query);
    if (write) log.push(`${write[1]?.toUpperCase()} ${write[2]}`);
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
};

const pair = typeormPair('cascade_update_own_table', {
  entities: [CotEmployee, SrEmp],
  subscribers: [CotLog, CotBatches],
  logger: statements,
  logging: ['query'],
});

const make = (data: Partial<CotEmployee>): CotEmployee => Object.assign(new CotEmployee(), data);

/** The stored employees, loaded back one object per row: boss; m (manager boss); e0, e1 (manager m); e2. */
interface Staff {
  boss: CotEmployee;
  m: CotEmployee;
  e0: CotEmployee;
  e1: CotEmployee;
  e2: CotEmployee;
}

async function staff(side: TypeormSide): Promise<Staff> {
  const boss = make({ name: 'boss' });
  await side.dataSource.manager.save(boss);
  const m = make({ name: 'm', manager: boss });
  await side.dataSource.manager.save(m);
  await side.dataSource.manager.save([
    make({ name: 'e0', manager: m }),
    make({ name: 'e1', manager: m }),
    make({ name: 'e2', manager: null }),
  ]);
  const found = await side.dataSource.getRepository(CotEmployee).find({ relations: { manager: true }, order: { id: 'ASC' } });
  // One object per stored row, as one unit of work holds them.
  const byId = new Map(found.map((e) => [e.id, e]));
  for (const e of found) {
    if (e.manager) e.manager = byId.get(e.manager.id) as CotEmployee;
    // A loaded `manager: null` reads as a changed relation to save()'s computer (the loaded row holds
    // the relation id): left out, so only the names below change.
    else delete e.manager;
  }
  const [b, mm, e0, e1, e2] = found as [CotEmployee, CotEmployee, CotEmployee, CotEmployee, CotEmployee];
  return { boss: b, m: mm, e0, e1, e2 };
}

/** Rows of the table, the update date as "moved on or not" (compared across sides). */
async function table(side: TypeormSide, before?: Record<string, unknown>[]) {
  const rows = await rowsOf(side, 'cot_employee');
  return rows.map(({ updatedAt, ...rest }, i) => ({
    ...rest,
    moved: before ? String(updatedAt) !== String(before[i]?.updatedAt) : undefined,
  }));
}

/** The objects, update dates as "on the object as in the row". */
async function objects(side: TypeormSide, s: Staff) {
  const rows = new Map((await rowsOf(side, 'cot_employee')).map((r) => [r.id, r]));
  return Object.values(s).map((e: CotEmployee) => {
    const { updatedAt, manager, ...rest } = e;
    return normalizeState({
      ...rest,
      manager: manager ? manager.id : manager,
      dated: String(normalizeState(updatedAt)) === String(rows.get(e.id)?.updatedAt),
    });
  });
}

type Call = typeof bulkUpdate;
interface Scenario {
  /** Changes the loaded staff and gives the rows of the call. */
  change(s: Staff): CotEmployee[];
}

async function run(scenario: Scenario, call: Call | 'insert', options: { batchSize?: number } = {}) {
  const orm = pair.reference();
  const ormStaff = await staff(orm);
  const ormRows = scenario.change(ormStaff);
  const ormBefore = await rowsOf(orm, 'cot_employee');
  log.length = 0;
  const ormError = await orm.dataSource.manager.save(ormRows).then(
    () => undefined,
    (e: unknown) => e,
  );
  const ormLog = [...log];
  const side = pair.subject();
  const mineStaff = await staff(side);
  const mineRows = scenario.change(mineStaff);
  const mineBefore = await rowsOf(side, 'cot_employee');
  log.length = 0;
  batches.length = 0;
  const outcome = await (call === 'insert'
    ? bulkInsert(side.dataSource, CotEmployee, mineRows, options)
    : call(side.dataSource, CotEmployee, mineRows, options)
  ).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return {
    ormError,
    ormLog,
    mine: [...log],
    ...outcome,
    ormTable: await table(orm, ormBefore),
    mineTable: await table(side, mineBefore),
    ormObjects: await objects(orm, ormStaff),
    mineObjects: await objects(side, mineStaff),
  };
}

const sharedManager: Scenario = {
  change: ({ m, e0, e1 }) => {
    e0.name = 'e0!';
    e1.name = 'e1!';
    m.name = 'm!';
    return [e0, e1];
  },
};

const onlyManager: Scenario = {
  change: ({ m, e0 }) => {
    m.name = 'm!';
    return [e0];
  },
};

const deep: Scenario = {
  change: ({ boss, m, e0, e2 }) => {
    e0.name = 'e0!';
    m.name = 'm!';
    boss.name = 'boss!';
    e2.name = 'e2!';
    return [e0, e2];
  },
};

const managerIsRow: Scenario = {
  change: ({ m, e0, e1 }) => {
    e0.name = 'e0!';
    m.name = 'm!';
    return [e0, m, e1];
  },
};

/** A second object with the manager's key, given as a row: save() takes the reached one for it. */
const copyIsRow: Scenario = {
  change: ({ m, e0 }) => {
    e0.name = 'e0!';
    m.name = 'm (reached)';
    const copy = make({ id: m.id, name: 'm (row)', version: m.version, manager: null });
    return [e0, copy];
  },
};

const failing: Scenario = {
  change: ({ m, e0, e1 }) => {
    e0.name = 'e0!';
    e1.name = 'e1!';
    m.name = 'boom!';
    return [e0, e1];
  },
};

const newRows: Scenario = {
  change: ({ m }) => {
    m.name = 'm!';
    return [make({ name: 'n0', manager: m }), make({ name: 'n1', manager: m })];
  },
};

/** A tree in the call: n0's manager is the new n1, whose manager is the changed stored m. */
const newTree: Scenario = {
  change: ({ m }) => {
    m.name = 'm!';
    const n1 = make({ name: 'n1', manager: m });
    return [make({ name: 'n0', manager: n1 }), n1];
  },
};

const events = (entries: string[]) => entries.filter((e) => !/^(UPDATE|INSERT)/.test(e)).sort();

describe("a changed stored entity of the rows' own table is updated with the rows, as save() updates it", () => {
  it('save(): every beforeUpdate in subject order (rows, then what they reach), one UPDATE per entity, then every afterUpdate — pinned', async () => {
    const r = await run(sharedManager, bulkUpdate);
    expect(r.ormError).toBeUndefined();
    expect(r.ormLog).toEqual([
      'listener beforeUpdate e0!',
      'beforeUpdate e0! [name] [] was e0',
      'listener beforeUpdate e1!',
      'beforeUpdate e1! [name] [] was e1',
      'listener beforeUpdate m!',
      'beforeUpdate m! [name] [] was m',
      'UPDATE cot_employee',
      'UPDATE cot_employee',
      'UPDATE cot_employee',
      'listener afterUpdate e0! v2',
      'afterUpdate e0! v2',
      'listener afterUpdate e1! v2',
      'afterUpdate e1! v2',
      'listener afterUpdate m! v2',
      'afterUpdate m! v2',
    ]);
  });

  for (const [call, batchSize] of [
    [bulkUpdate, undefined],
    [bulkUpdate, 1],
    [bulkSave, undefined],
    [bulkSave, 1],
  ] as const) {
    const label = `${call.name} (batchSize ${batchSize ?? 'default'})`;
    const options = batchSize ? { batchSize } : {};

    it(`${label}: two rows reaching one changed manager — same rows, objects, events; the manager once`, async () => {
      const r = await run(sharedManager, call, options);
      expect(r.error).toBeUndefined();
      expect(r.ormError).toBeUndefined();
      expect(r.mineTable).toEqual(r.ormTable);
      expect(r.mineObjects).toEqual(r.ormObjects);
      expect(events(r.mine)).toEqual(events(r.ormLog));
      expect(r.result?.byEntity).toEqual({ CotEmployee: { inserted: 0, updated: 3 } });
      if (batchSize === undefined) {
        // The rows' events, then the manager's (one more group of the class); the rows' UPDATE, then the manager's.
        expect(r.mine).toEqual([
          'listener beforeUpdate e0!',
          'beforeUpdate e0! [name] [] was e0',
          'listener beforeUpdate e1!',
          'beforeUpdate e1! [name] [] was e1',
          'listener beforeUpdate m!',
          'beforeUpdate m! [name] [] was m',
          'UPDATE cot_employee',
          'UPDATE cot_employee',
          'listener afterUpdate e0! v2',
          'afterUpdate e0! v2',
          'listener afterUpdate e1! v2',
          'afterUpdate e1! v2',
          'listener afterUpdate m! v2',
          'afterUpdate m! v2',
        ]);
        expect(batches).toEqual([
          'beforeBulkUpdate e0!,e1!',
          'beforeBulkUpdate m!',
          'afterBulkUpdate e0!,e1!',
          'afterBulkUpdate m!',
        ]);
      } else {
        // The manager goes with the first row's batch; the second finds it unchanged.
        expect(r.mine.filter((e) => e.startsWith('UPDATE'))).toHaveLength(3);
      }
    });

    it(`${label}: an unchanged row reaching a changed manager, and a manager of the manager (any depth)`, async () => {
      for (const scenario of [onlyManager, deep]) {
        const r = await run(scenario, call, options);
        expect(r.error).toBeUndefined();
        expect(r.ormError).toBeUndefined();
        expect(r.mineTable).toEqual(r.ormTable);
        expect(r.mineObjects).toEqual(r.ormObjects);
        expect(events(r.mine)).toEqual(events(r.ormLog));
      }
    });

    it(`${label}: the manager is a row of the call too — just a row`, async () => {
      const r = await run(managerIsRow, call, options);
      expect(r.error).toBeUndefined();
      expect(r.mineTable).toEqual(r.ormTable);
      expect(r.mineObjects).toEqual(r.ormObjects);
      expect(events(r.mine)).toEqual(events(r.ormLog));
      if (batchSize === undefined) expect(r.mine.filter((e) => e.startsWith('UPDATE'))).toHaveLength(1);
    });

    it(`${label}: a failing hook of the manager rolls everything back, objects as save() leaves them`, async () => {
      const r = await run(failing, call, options);
      expect(r.ormError).toBeInstanceOf(Error);
      expect(r.error).toBeInstanceOf(BulkHookError);
      expect(r.mineTable).toEqual(r.ormTable);
      expect(r.mineTable.every((row) => row.moved === false && (row as { version?: unknown }).version === 1)).toBe(true);
      expect(r.mineObjects).toEqual(r.ormObjects);
    });
  }

  it("bulkUpdate: another object with the manager's key given as a row — save() writes the row and not the reached object; so does cohort", async () => {
    const r = await run(copyIsRow, bulkUpdate);
    expect(r.error).toBeUndefined();
    expect(r.ormError).toBeUndefined();
    expect(r.mineTable).toEqual(r.ormTable);
    expect(r.mineObjects).toEqual(r.ormObjects);
    expect(events(r.mine)).toEqual(events(r.ormLog));
  });

  // With batchSize 1 the copy is a row of another batch: save() (one unit) writes the copy alone;
  // cohort would update the reached manager with e0's batch and the copy with its own, one over the
  // other. Refused at e0's batch (`cascade update`); the call's transaction rolls back the copy's
  // batch (an array goes in key order: the copy, the manager's key, first), nothing written.
  it("bulkUpdate, batchSize 1: the copy with the manager's key in another batch — refused (cascade update), nothing written", async () => {
    const r = await run(copyIsRow, bulkUpdate, { batchSize: 1 });
    expect(r.ormError).toBeUndefined();
    expect(r.error).toBeInstanceOf(UnsupportedFeatureError);
    expect(r.error).toMatchObject({ feature: 'cascade update', entityName: 'CotEmployee', property: 'manager', index: 0 });
    expect(r.mineTable.every((row) => row.moved === false && (row as { version?: unknown }).version === 1)).toBe(true);
    // Neither e0 nor the reached manager got to an UPDATE.
    expect(r.mine.filter((e) => /^(UPDATE|listener afterUpdate e0|beforeUpdate m \(reached\))/.test(e))).toEqual([
      'UPDATE cot_employee',
    ]);
  });

  for (const call of ['insert', bulkSave] as const) {
    it(`${call === 'insert' ? 'bulkInsert' : 'bulkSave'}: a tree among the new rows (n0 under the new n1) whose top reaches a changed stored manager — linked and updated, as save()`, async () => {
      const r = await run(newTree, call);
      expect(r.error).toBeUndefined();
      expect(r.ormError).toBeUndefined();
      expect(r.mineTable).toEqual(r.ormTable);
      expect(r.mineObjects).toEqual(r.ormObjects);
      expect(events(r.mine)).toEqual(events(r.ormLog));
    });
  }

  it('bulkInsert: new rows reaching a changed stored manager update it, as save()', async () => {
    const r = await run(newRows, 'insert');
    expect(r.error).toBeUndefined();
    expect(r.ormError).toBeUndefined();
    expect(r.mineTable).toEqual(r.ormTable);
    expect(r.mineObjects).toEqual(r.ormObjects);
    expect(events(r.mine)).toEqual(events(r.ormLog));
    expect(r.result?.byEntity).toEqual({ CotEmployee: { inserted: 2, updated: 1 } });
  });
});

/** The reviewer's case: stored m (name m, title t) and e0 (manager m), loaded as one unit holds them. */
async function srStaff(side: TypeormSide): Promise<{ m: SrEmp; e0: SrEmp }> {
  const repo = side.dataSource.getRepository(SrEmp);
  const m = await repo.save(Object.assign(new SrEmp(), { name: 'm' }));
  const { id } = await repo.save(Object.assign(new SrEmp(), { name: 'e0', manager: m }));
  const e0 = (await repo.findOne({ where: { id }, relations: { manager: true } })) as SrEmp;
  return { m, e0 };
}

type SrRows = (s: { m: SrEmp; e0: SrEmp }) => Iterable<SrEmp> | AsyncIterable<SrEmp>;

/** e0 changed, its manager's title changed, and another object with the manager's key as a row. */
const reviewerRows = ({ m, e0 }: { m: SrEmp; e0: SrEmp }): SrEmp[] => {
  e0.name = 'e0!';
  (e0.manager as SrEmp).title = 't!';
  return [e0, Object.assign(new SrEmp(), { id: m.id, name: 'm (row)' })];
};

async function srRun(rows: SrRows, options: { batchSize?: number } = {}) {
  const orm = pair.reference();
  const ormRows = rows(await srStaff(orm));
  const ormBefore = await rowsOf(orm, 'cot_sr_emp');
  const ormList: SrEmp[] = [];
  for await (const row of ormRows) ormList.push(row);
  const ormError = await orm.dataSource.manager.save(ormList).then(
    () => undefined,
    (e: unknown) => e,
  );
  const side = pair.subject();
  const mineRows = rows(await srStaff(side));
  const mineBefore = await rowsOf(side, 'cot_sr_emp');
  const error = await bulkUpdate(side.dataSource, SrEmp, mineRows, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  const strip = (list: Record<string, unknown>[], before: Record<string, unknown>[]): Record<string, unknown>[] =>
    list.map(({ updatedAt, ...rest }, i) => ({ ...rest, moved: String(updatedAt) !== String(before[i]?.updatedAt) }));
  return {
    ormError,
    error,
    ormTable: strip(await rowsOf(orm, 'cot_sr_emp'), ormBefore),
    mineTable: strip(await rowsOf(side, 'cot_sr_emp'), mineBefore),
    mineBefore: strip(mineBefore, mineBefore),
  };
}

describe("another object with the key of a reached entity of the rows' own table, as a row of another batch (no version column)", () => {
  it('batchSize default: one batch, the copy taken for the row — the same rows as save()', async () => {
    const r = await srRun(reviewerRows);
    expect(r.ormError).toBeUndefined();
    expect(r.error).toBeUndefined();
    expect(r.ormTable.map((row) => ({ name: row.name, title: row.title }))).toEqual([
      { name: 'm (row)', title: 't' },
      { name: 'e0!', title: 't' },
    ]);
    expect(r.mineTable).toEqual(r.ormTable);
  });

  it('batchSize 1, the copy in a later batch: refused (cascade update), nothing written — no silent write of the reached manager', async () => {
    const r = await srRun(reviewerRows, { batchSize: 1 });
    expect(r.ormError).toBeUndefined();
    expect(r.error).toBeInstanceOf(UnsupportedFeatureError);
    expect(r.error).toMatchObject({ feature: 'cascade update', entityName: 'SrEmp', property: 'manager', index: 0 });
    expect((r.error as Error).message).toMatch(/row 1 of the call, another object in another batch/);
    expect(r.mineTable).toEqual(r.mineBefore);
  });

  it('batchSize 1, the copy in an earlier batch, and a Set input: refused the same way, nothing written', async () => {
    for (const rows of [
      (s: { m: SrEmp; e0: SrEmp }) => reviewerRows(s).reverse(),
      (s: { m: SrEmp; e0: SrEmp }) => new Set(reviewerRows(s)),
    ]) {
      const r = await srRun(rows, { batchSize: 1 });
      expect(r.ormError).toBeUndefined();
      expect(r.error).toBeInstanceOf(UnsupportedFeatureError);
      expect(r.error).toMatchObject({ feature: 'cascade update', entityName: 'SrEmp', property: 'manager' });
      expect(r.mineTable).toEqual(r.mineBefore);
    }
  });

  it('a stream (async iterable): a changed reached entity of the own table is refused, even with no copy (later rows unknown)', async () => {
    const stream = ({ e0 }: { m: SrEmp; e0: SrEmp }) => {
      e0.name = 'e0!';
      (e0.manager as SrEmp).title = 't!';
      return (async function* () {
        yield e0;
      })();
    };
    const r = await srRun(stream);
    expect(r.ormError).toBeUndefined();
    expect(r.error).toBeInstanceOf(UnsupportedFeatureError);
    expect(r.error).toMatchObject({ feature: 'cascade update', entityName: 'SrEmp', property: 'manager', index: 0 });
    expect((r.error as Error).message).toMatch(/stream/);
    expect(r.mineTable).toEqual(r.mineBefore);
  });

  it('a stream whose reached manager did not change: written as save() writes it', async () => {
    const stream = ({ e0 }: { m: SrEmp; e0: SrEmp }) => {
      e0.name = 'e0!';
      return (async function* () {
        yield e0;
      })();
    };
    const r = await srRun(stream);
    expect(r.ormError).toBeUndefined();
    expect(r.error).toBeUndefined();
    expect(r.mineTable).toEqual(r.ormTable);
  });
});
