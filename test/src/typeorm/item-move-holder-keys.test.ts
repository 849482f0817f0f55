// One-to-many items moved across batches (`one-to-many move across batches`), by the type of the
// holder's key. The item UPDATE returns each item's old holder as PostgreSQL prints it; a later
// batch's row is that holder when PostgreSQL prints the row's key, cast to the foreign key's type,
// the same way. Before, cohort compared that text with its own (lower-cased) text of the row's key:
// a timestamptz key ('2026-01-01 00:00:00+00' against '2026-01-01T00:00:00.000Z') never matched, so
// the move went through and the items ended otherwise than save() leaves them, silently; a text key
// matched another row whose key differs in case, refused for nothing. The item UPDATE of a batch
// that no later batch follows reads no old holder at all.
import { createSchema } from '@cohort/pg-harness';
import { bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/typeorm';
import { Column, DataSource, Entity, type Logger, ManyToOne, OneToMany, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

@Entity('hk_tz_holder')
class TzHolder {
  @PrimaryColumn({ type: 'timestamptz' }) at!: Date;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @OneToMany(
    () => TzItem,
    (item) => item.holder,
  )
  items?: TzItem[];
}

@Entity('hk_tz_item')
class TzItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
  @ManyToOne(
    () => TzHolder,
    (holder) => holder.items,
    { nullable: true },
  )
  holder?: TzHolder | null;
}

@Entity('hk_text_holder')
class TextHolder {
  @PrimaryColumn({ type: 'varchar', length: 10 }) code!: string;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @OneToMany(
    () => TextItem,
    (item) => item.holder,
  )
  items?: TextItem[];
}

@Entity('hk_text_item')
class TextItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
  @ManyToOne(
    () => TextHolder,
    (holder) => holder.items,
    { nullable: true },
  )
  holder?: TextHolder | null;
}

/** The statements sent, as the DataSource's logger sees them. */
const sent: string[] = [];
const logger: Logger = {
  logQuery: (query) => {
    sent.push(query);
  },
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

let ds: DataSource;
let drop: () => Promise<void>;

beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'thkey');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [TzHolder, TzItem, TextHolder, TextItem],
    synchronize: true,
    logging: ['query'],
    logger,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
});

afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-02T00:00:00.250Z');

const tzTables = async () => ({
  holders: await ds.query('SELECT at, name FROM hk_tz_holder ORDER BY at'),
  items: await ds.query('SELECT id, label, "holderAt" FROM hk_tz_item ORDER BY id'),
});

/**
 * Holders h0 (no items) and h1 (item i1), timestamptz keys, loaded with their items; both renamed,
 * i1 added to h0's items and, unless `kept`, dropped from h1's. Rows in that order: h0 first.
 */
async function arrangeTz(kept: boolean): Promise<TzHolder[]> {
  await ds.query('TRUNCATE hk_tz_item, hk_tz_holder RESTART IDENTITY CASCADE');
  const [h0, h1] = await ds.manager.save([make(TzHolder, { at: T0, name: 'h0' }), make(TzHolder, { at: T1, name: 'h1' })]);
  await ds.manager.save(make(TzItem, { label: 'i1', holder: h1 }));
  const rows = await ds.getRepository(TzHolder).find({ relations: { items: true }, order: { at: 'ASC' } });
  const [l0, l1] = rows as [TzHolder, TzHolder];
  expect([l0.at, l1.at]).toEqual([h0?.at, h1?.at]);
  l0.name = 'h0 renamed';
  l1.name = 'h1 renamed';
  l0.items = [...(l0.items ?? []), ...(l1.items ?? [])];
  if (!kept) l1.items = [];
  return rows;
}

describe('items moved across batches, by the type of the holder key (TypeORM)', () => {
  for (const kept of [true, false]) {
    const how = kept ? 'the later holder still lists it' : 'the later holder drops it';
    it(`a timestamptz key: an item taken by batch 0's holder from batch 1's, ${how}, is refused, nothing written (before: written, the item ending otherwise than save() leaves it)`, async () => {
      await ds.manager.save(await arrangeTz(kept));
      const saved = await tzTables();
      // save() reads every holder's items first: the item ends with h0 (kept) or cleared (dropped).
      expect(saved.items).toEqual([{ id: 1, label: 'i1', holderAt: kept ? T0 : null }]);
      await ds.manager.save(await arrangeTz(kept), { chunk: 1 });
      expect(await tzTables()).toEqual(saved);

      for (const call of [
        (rows: TzHolder[]) => bulkSave(ds, TzHolder, rows, { batchSize: 1 }),
        (rows: TzHolder[]) => bulkUpdate(ds, TzHolder, rows, { batchSize: 1, pipeline: false }),
      ]) {
        const rows = await arrangeTz(kept);
        const before = await tzTables();
        const error = await failure(call(rows));
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({
          feature: 'one-to-many move across batches',
          entityName: 'TzHolder',
          property: 'items',
          index: 1,
        });
        expect(await tzTables()).toEqual(before);
      }
      // One batch: written as save() writes it.
      for (const call of [bulkSave, bulkUpdate]) {
        await call(ds, TzHolder, await arrangeTz(kept));
        expect(await tzTables()).toEqual(saved);
      }
    });
  }

  it("a text key is compared with its case: an item taken from holder 'a' (not in the call) is no move from holder 'A' of a later batch, written as save() writes it (before: refused)", async () => {
    const arrange = async () => {
      await ds.query('TRUNCATE hk_text_item, hk_text_holder RESTART IDENTITY CASCADE');
      await ds.manager.save(['B', 'A', 'a'].map((code) => make(TextHolder, { code, name: code })));
      await ds.manager.save(make(TextItem, { label: 'i1', holder: make(TextHolder, { code: 'a' }) }));
      await ds.manager.save(make(TextItem, { label: 'i2', holder: make(TextHolder, { code: 'A' }) }));
      const repo = ds.getRepository(TextHolder);
      const [b, upper, lower] = await Promise.all(
        ['B', 'A', 'a'].map((code) => repo.findOneOrFail({ where: { code }, relations: { items: true } })),
      );
      // B (batch 0) takes i1 from 'a', which is not in the call; 'A' (batch 1) is renamed and keeps i2.
      b.items = [...(lower.items ?? [])];
      upper.name = 'A renamed';
      return [b, upper];
    };
    const tables = async () => ({
      holders: await ds.query('SELECT code, name FROM hk_text_holder ORDER BY code COLLATE "C"'),
      items: await ds.query('SELECT id, label, "holderCode" FROM hk_text_item ORDER BY id'),
    });
    await ds.manager.save(await arrange(), { chunk: 1 });
    const saved = await tables();
    expect(saved.items).toEqual([
      { id: 1, label: 'i1', holderCode: 'B' },
      { id: 2, label: 'i2', holderCode: 'A' },
    ]);
    for (const call of [
      (rows: TextHolder[]) => bulkSave(ds, TextHolder, rows, { batchSize: 1 }),
      (rows: TextHolder[]) => bulkUpdate(ds, TextHolder, rows, { batchSize: 1, pipeline: false }),
    ]) {
      await call(await arrange());
      expect(await tables()).toEqual(saved);
    }
  });

  it("a later batch's holder whose relation is not loaded: save() does not look at its items, and neither does cohort (before: refused)", async () => {
    const arrange = async () => {
      const rows = await arrangeTz(false);
      // h1 as loaded without its relation, renamed: save() builds no subject for its items.
      const h1 = rows[1] as TzHolder;
      delete h1.items;
      return rows;
    };
    await ds.manager.save(await arrange(), { chunk: 1 });
    const saved = await tzTables();
    expect(saved.items).toEqual([{ id: 1, label: 'i1', holderAt: T0 }]);
    for (const call of [
      (rows: TzHolder[]) => bulkSave(ds, TzHolder, rows, { batchSize: 1 }),
      (rows: TzHolder[]) => bulkUpdate(ds, TzHolder, rows, { batchSize: 1, pipeline: false }),
    ]) {
      await call(await arrange());
      expect(await tzTables()).toEqual(saved);
    }
  });

  it("the item UPDATE reads each item's old holder only where a later batch of the call may come", async () => {
    const itemUpdates = () =>
      sent.filter((q) => /^UPDATE "[\w$]+"\."hk_tz_item" AS j /.test(q) || q.startsWith('UPDATE "hk_tz_item" AS j '));
    const readsHolders = (q: string) => q.includes('"hk_tz_item" AS o') && q.includes('RETURNING');
    // One batch (an array, a Set): no later batch, no old holder read.
    for (const input of [(rows: TzHolder[]) => rows, (rows: TzHolder[]) => new Set(rows)]) {
      const rows = input(await arrangeTz(false));
      sent.length = 0;
      await bulkSave(ds, TzHolder, rows);
      // Two UPDATEs (h0 takes i1, then h1 drops it, in the rows' order), neither reading old holders;
      // the item ends as save() leaves it (the first test), cleared.
      expect(itemUpdates().map(readsHolders)).toEqual([false, false]);
      expect((await tzTables()).items).toEqual([{ id: 1, label: 'i1', holderAt: null }]);
    }
    // Two batches whose items do not move between them: the first reads the old holders, the last does not.
    const arrangeApart = async () => {
      await ds.query('TRUNCATE hk_tz_item, hk_tz_holder RESTART IDENTITY CASCADE');
      await ds.manager.save([make(TzHolder, { at: T0, name: 'h0' }), make(TzHolder, { at: T1, name: 'h1' })]);
      await ds.manager.save([make(TzItem, { label: 'i1' }), make(TzItem, { label: 'i2' })]);
      const items = await ds.getRepository(TzItem).find({ order: { id: 'ASC' } });
      const rows = await ds.getRepository(TzHolder).find({ relations: { items: true }, order: { at: 'ASC' } });
      rows.forEach((row, i) => {
        row.items = [items[i] as TzItem];
      });
      return rows;
    };
    for (const call of [
      (rows: TzHolder[]) => bulkSave(ds, TzHolder, rows, { batchSize: 1 }),
      (rows: TzHolder[]) => bulkUpdate(ds, TzHolder, rows, { batchSize: 1 }),
    ]) {
      const rows = await arrangeApart();
      sent.length = 0;
      await call(rows);
      expect(itemUpdates().map(readsHolders)).toEqual([true, false]);
      expect((await tzTables()).items).toEqual([
        { id: 1, label: 'i1', holderAt: T0 },
        { id: 2, label: 'i2', holderAt: T1 },
      ]);
    }
    // A stream: its last batch is known once the stream has ended.
    const rows = await arrangeApart();
    sent.length = 0;
    await bulkSave(
      ds,
      TzHolder,
      (async function* () {
        yield* rows;
      })(),
      { batchSize: 1 },
    );
    expect(itemUpdates().map(readsHolders)).toEqual([true, true]);
  });
});
