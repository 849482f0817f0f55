/// <reference types="@cohort/typeorm/register" />
// TypeORM: bulkSoftRemove against repository.softRemove() on the same rows — the rows (delete date
// set, row still there), the objects afterwards, the listener and subscriber log; a hook that throws
// changes nothing; rows gone are `missing`; stale versions fail; no delete-date column is refused.
import { createSchema } from '@cohort/pg-harness';
import {
  BulkUsageError,
  bulkSoftRemove,
  OptimisticLockError,
  registerBulkRepository,
  UnsupportedFeatureError,
} from '@cohort/typeorm';
import {
  AfterSoftRemove,
  BeforeSoftRemove,
  Column,
  DataSource,
  DeleteDateColumn,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  type SoftRemoveEvent,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';

const log: string[] = [];
let throwFor: number | undefined;

@Entity('doc')
class Doc {
  @PrimaryColumn('int') id!: number;
  @Column('varchar') title!: string;
  @Column({ type: 'varchar', nullable: true }) note?: string | null;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  @VersionColumn() version!: number;
  @DeleteDateColumn({ type: 'timestamptz' }) deletedAt?: Date | null;

  @BeforeSoftRemove() beforeSoft() {
    log.push(`@BeforeSoftRemove ${this.id} deletedAt=${this.deletedAt ?? 'unset'}`);
    if (this.id === throwFor) throw new Error(`hook refuses ${this.id}`);
  }
  @AfterSoftRemove() afterSoft() {
    log.push(`@AfterSoftRemove ${this.id} deletedAt=${this.deletedAt instanceof Date} v${this.version}`);
  }
}

@Entity('plain')
class Plain {
  @PrimaryColumn('int') id!: number;
}

@Entity('folder')
class Folder {
  @PrimaryColumn('int') id!: number;
  @DeleteDateColumn() deletedAt?: Date | null;
  @OneToMany(
    () => Page,
    (p) => p.folder,
    { cascade: ['soft-remove'] },
  )
  pages?: Page[];
}

@Entity('page')
class Page {
  @PrimaryColumn('int') id!: number;
  @DeleteDateColumn() deletedAt?: Date | null;
  @ManyToOne(
    () => Folder,
    (f) => f.pages,
  )
  folder?: Folder;
}

@EventSubscriber()
class DocSubscriber implements EntitySubscriberInterface<Doc> {
  listenTo() {
    return Doc;
  }
  beforeSoftRemove(e: SoftRemoveEvent<Doc>) {
    log.push(`beforeSoftRemove ${e.entity?.id} id=${JSON.stringify(e.entityId)} db=${e.databaseEntity?.title}`);
  }
  afterSoftRemove(e: SoftRemoveEvent<Doc>) {
    log.push(`afterSoftRemove ${e.entity?.id} id=${JSON.stringify(e.entityId)} db=${e.databaseEntity?.title}`);
  }
}

let ds: DataSource;
let drop: () => Promise<void>;
const options = forcedStrategy ? { strategy: forcedStrategy } : {};

beforeAll(async () => {
  const schema = await createSchema(inject('databaseUrl'), 'softrm');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url: inject('databaseUrl'),
    schema: schema.name,
    entities: [Doc, Plain, Folder, Page],
    subscribers: [DocSubscriber],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
});
afterAll(async () => {
  await ds.destroy();
  await drop();
});
beforeEach(async () => {
  await ds.query('TRUNCATE doc, plain, page, folder');
  await ds.query(
    `INSERT INTO doc (id, title, note, "updatedAt", version) VALUES
     (1, 'a', 'x', '2020-01-01', 1), (2, 'b', NULL, '2020-01-01', 4), (3, 'c', 'z', '2020-01-01', 1)`,
  );
  log.length = 0;
  throwFor = undefined;
});

/** Objects as a caller has them: loaded, the nullable `note` of the second left unset. */
async function loaded(ids: number[]): Promise<Doc[]> {
  const docs = await ds.getRepository(Doc).findBy(ids.map((id) => ({ id })));
  const byId = new Map(docs.map((d) => [d.id, d]));
  return ids.map((id) => {
    const doc = byId.get(id) ?? Object.assign(new Doc(), { id, title: `new${id}`, version: 1 });
    if (id === 2) delete doc.note;
    return doc;
  });
}

async function rows() {
  const stored: Record<string, unknown>[] = await ds.query(
    'SELECT id, title, note, version, "deletedAt" IS NOT NULL AS deleted, "updatedAt" > \'2020-01-02\' AS touched FROM doc ORDER BY id',
  );
  return stored;
}

/** An object's state with its dates told as "a Date equal to the stored one". */
async function state(doc: Doc) {
  const [row] = await ds.query('SELECT "deletedAt", "updatedAt" FROM doc WHERE id = $1', [doc.id]);
  const same = (v: unknown, stored: unknown) =>
    v instanceof Date ? (stored instanceof Date && v.getTime() === stored.getTime() ? 'stored date' : 'other date') : v;
  return { ...doc, deletedAt: same(doc.deletedAt, row?.deletedAt), updatedAt: same(doc.updatedAt, row?.updatedAt) };
}

/** Runs `write` on fresh objects from the same rows; returns rows, objects and log afterwards. */
async function run(ids: number[], write: (docs: Doc[]) => Promise<unknown>) {
  log.length = 0;
  const docs = await loaded(ids);
  const error = await write(docs).then(
    () => undefined,
    (e: Error) => e.message,
  );
  return { error, rows: await rows(), objects: await Promise.all(docs.map(state)), log: [...log] };
}

async function reset() {
  await ds.query('UPDATE doc SET "deletedAt" = NULL, "updatedAt" = \'2020-01-01\', version = CASE id WHEN 2 THEN 4 ELSE 1 END');
}

describe('bulkSoftRemove vs repository.softRemove()', () => {
  it('sets the delete date (row kept), update date and version; objects and hooks as softRemove() leaves them', async () => {
    const theirs = await run([1, 2, 3], (docs) => ds.getRepository(Doc).softRemove(docs));
    await reset();
    let result: Awaited<ReturnType<typeof bulkSoftRemove<Doc>>> | undefined;
    const ours = await run([1, 2, 3], async (docs) => {
      result = await bulkSoftRemove(ds, Doc, docs, options);
    });
    expect(ours).toEqual(theirs);
    expect(ours.rows.map((r) => r.deleted)).toEqual([true, true, true]);
    expect(ours.objects.map((o) => [o.id, o.deletedAt, o.note])).toEqual([
      [1, 'stored date', 'x'],
      [2, 'stored date', null],
      [3, 'stored date', 'z'],
    ]);
    expect(result?.removed).toBe(3);
    expect(result?.outcomes).toEqual(['removed', 'removed', 'removed']);
  });

  it('a row that is not there: no hooks, object untouched, skipped as missing', async () => {
    const theirs = await run([1, 9], (docs) => ds.getRepository(Doc).softRemove(docs));
    await reset();
    let result: Awaited<ReturnType<typeof bulkSoftRemove<Doc>>> | undefined;
    const ours = await run([1, 9], async (docs) => {
      result = await bulkSoftRemove(ds, Doc, docs, options);
    });
    expect(ours).toEqual(theirs);
    expect(result?.removed).toBe(1);
    expect(result?.skipped.map((s) => [s.index, s.reason])).toEqual([[1, 'missing']]);
  });

  it('a hook that throws: nothing changed, as softRemove()', async () => {
    throwFor = 3;
    const theirs = await run([1, 2, 3], (docs) => ds.getRepository(Doc).softRemove(docs));
    const ours = await run([1, 2, 3], (docs) => bulkSoftRemove(ds, Doc, docs, options));
    expect(theirs.error).toBe('hook refuses 3');
    expect(ours.error).toContain('hook refuses 3');
    expect(ours.rows).toEqual(theirs.rows);
    expect(ours.rows.every((r) => r.deleted === false && r.touched === false)).toBe(true);
    expect(ours.objects).toEqual(theirs.objects);
  });

  it('a hook that throws in a later batch: rows rolled back, earlier objects as softRemove({ chunk }) leaves them', async () => {
    throwFor = 3;
    const theirs = await run([1, 2, 3], (docs) => ds.getRepository(Doc).softRemove(docs, { chunk: 2 }));
    const ours = await run([1, 2, 3], (docs) => bulkSoftRemove(ds, Doc, docs, { ...options, batchSize: 2 }));
    expect(ours.rows).toEqual(theirs.rows);
    expect(ours.rows.every((r) => r.deleted === false)).toBe(true);
    expect(ours.log).toEqual(theirs.log);
    // The stored dates are gone (rolled back): compare the objects' shapes only.
    const shape = (o: Record<string, unknown>) => ({ ...o, deletedAt: o.deletedAt !== undefined, updatedAt: typeof o.updatedAt });
    expect(ours.objects.map(shape)).toEqual(theirs.objects.map(shape));
  });

  it('the repository method, in batches, inside the caller’s transaction', async () => {
    const undo = registerBulkRepository();
    try {
      const theirs = await run([1, 2, 3], (docs) => ds.transaction((m) => m.getRepository(Doc).softRemove(docs, { chunk: 2 })));
      await reset();
      const ours = await run([1, 2, 3], (docs) =>
        ds.transaction((m) => m.getRepository(Doc).bulkSoftRemove(docs, { ...options, batchSize: 2 })),
      );
      expect(ours).toEqual(theirs);
    } finally {
      undo();
    }
  });
});

describe('bulkSoftRemove', () => {
  it('a row soft-removed already is skipped as missing, left as it was (softRemove() runs its after-hook)', async () => {
    await ds.query('UPDATE doc SET "deletedAt" = \'2021-01-01\' WHERE id = 1');
    const docs = await loaded([1]);
    const result = await bulkSoftRemove(ds, Doc, docs, options);
    expect(result.skipped.map((s) => s.reason)).toEqual(['missing']);
    expect((await rows())[0]).toMatchObject({ id: 1, version: 1, touched: false });
    expect(log.filter((l) => l.startsWith('@After') || l.startsWith('after'))).toEqual([]);
  });

  it('a stale version fails the call, nothing soft-removed; checkVersion: false soft-removes it', async () => {
    const docs = await loaded([1, 2]);
    (docs[1] as Doc).version = 3;
    await expect(bulkSoftRemove(ds, Doc, docs, options)).rejects.toBeInstanceOf(OptimisticLockError);
    expect((await rows()).map((r) => r.deleted)).toEqual([false, false, false]);
    const again = await bulkSoftRemove(ds, Doc, await loaded([2]), { ...options, checkVersion: false });
    expect(again.removed).toBe(1);
    expect((await rows())[1]).toMatchObject({ id: 2, version: 5, deleted: true });
  });

  it('an entity without a delete-date column is refused, as softRemove() refuses it', async () => {
    await ds.query('INSERT INTO plain (id) VALUES (1)');
    await expect(ds.getRepository(Plain).softRemove([Object.assign(new Plain(), { id: 1 })])).rejects.toThrow(
      /DeleteDateColumn|delete date/i,
    );
    const error = await bulkSoftRemove(ds, Plain, [Object.assign(new Plain(), { id: 1 })]).catch((e) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ entityName: 'Plain', feature: 'soft remove without a delete date column' });
  });

  it("takes remove()'s options: an unknown one is refused under its own name, nothing written", async () => {
    const error = await bulkSoftRemove(ds, Doc, await loaded([1]), { onConflict: 'ignore' } as never).catch((e) => e);
    expect(error).toBeInstanceOf(BulkUsageError);
    expect(error.message).toMatch(/bulkSoftRemove has no option "onConflict"/);
    expect((await rows())[0]).toMatchObject({ deleted: false });
  });

  it('a relation that cascades soft removes is refused before anything is sent (softRemove() would follow it)', async () => {
    await ds.query('INSERT INTO folder (id) VALUES (1)');
    const error = await bulkSoftRemove(ds, Folder, [Object.assign(new Folder(), { id: 1 })], options).catch((e) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'cascade soft remove', entityName: 'Folder', property: 'pages' });
    expect((await ds.query('SELECT "deletedAt" FROM folder'))[0].deletedAt).toBeNull();
  });
});
