// The inverse side of a one-to-many, TypeORM specifics (test/src/conformance/inverse-side.test.ts
// compares both ORMs): save()'s UPDATE of an item's foreign key also sets its update date and
// increments its version, as cohort's; the orphaned row action of the items' relation decides what
// happens to an item removed (`nullify` written, `disable` left alone as save() leaves it, `delete`
// and `soft-delete` written as save() writes them — one DELETE / soft-delete UPDATE per batch and
// child table, subscribers' remove events without an entity, the item's own cascades not followed —
// and `nullify` of a non-nullable key, `soft-delete` without a delete date column refused); and save()
// gives subscribers beforeUpdate / afterUpdate per item with `entity` undefined, as cohort does.
import { createSchema } from '@cohort/pg-harness';
import {
  BulkWriteError,
  bulkInsert,
  bulkSave,
  bulkUpdate,
  ForeignKeyViolationError,
  trackEntityChanges,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '@cohort/typeorm';
import {
  AfterRemove,
  AfterSoftRemove,
  BeforeRemove,
  BeforeSoftRemove,
  Column,
  DataSource,
  DeleteDateColumn,
  Entity,
  type EntitySubscriberInterface,
  type Logger,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('holder')
class Holder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @OneToMany(
    () => Item,
    (item) => item.holder,
  )
  items?: Item[];
  @OneToMany(
    () => Kept,
    (kept) => kept.holder,
  )
  kept?: Kept[];
  @OneToMany(
    () => Owned,
    (owned) => owned.holder,
  )
  owned?: Owned[];
  @OneToMany(
    () => Soft,
    (soft) => soft.holder,
  )
  soft?: Soft[];
  @OneToMany(
    () => Bare,
    (bare) => bare.holder,
  )
  bare?: Bare[];
  @OneToMany(
    () => Strict,
    (strict) => strict.holder,
  )
  strict?: Strict[];
  @OneToMany(
    () => Slot,
    (slot) => slot.holder,
  )
  slots?: Slot[];
}

/** Nullable key, update date and version: save()'s UPDATE sets the one and increments the other. */
@Entity('item')
@Unique('item_sku_per_holder', ['holder', 'sku'])
class Item {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true }) holder?: Holder | null;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  @VersionColumn() version!: number;
}

/** `orphanedRowAction: 'disable'`: save() leaves a removed item as it is. */
@Entity('kept')
class Kept {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'disable' }) holder?: Holder | null;
}

/**
 * `orphanedRowAction: 'delete'`: save() deletes a removed item (by key: no version check, no
 * listener: the item is a subject without an entity). Its parts cascade removes, which save() does
 * not follow there (a part still referring to it fails the DELETE); its notes go with it (ON DELETE
 * CASCADE, the database's).
 */
@Entity('owned')
class Owned {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'delete' }) holder?: Holder | null;
  @VersionColumn() version!: number;
  @OneToMany(
    () => Part,
    (part) => part.owned,
    { cascade: true },
  )
  parts?: Part[];
  @BeforeRemove() beforeRemove() {
    events.push(`@BeforeRemove Owned ${this.sku}`);
  }
  @AfterRemove() afterRemove() {
    events.push(`@AfterRemove Owned ${this.sku}`);
  }
}

@Entity('part')
class Part {
  @PrimaryGeneratedColumn() id!: number;
  @ManyToOne(() => Owned, { nullable: true }) owned?: Owned | null;
}

@Entity('note')
class Note {
  @PrimaryGeneratedColumn() id!: number;
  @ManyToOne(() => Owned, { nullable: true, onDelete: 'CASCADE' }) owned?: Owned | null;
}

/** `orphanedRowAction: 'soft-delete'`: save() sets a removed item's delete date, update date and version. */
@Entity('soft')
class Soft {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'soft-delete' }) holder?: Holder | null;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  @VersionColumn() version!: number;
  @DeleteDateColumn({ type: 'timestamptz' }) deletedAt?: Date | null;
  @BeforeSoftRemove() beforeSoftRemove() {
    events.push(`@BeforeSoftRemove Soft ${this.sku}`);
  }
  @AfterSoftRemove() afterSoftRemove() {
    events.push(`@AfterSoftRemove Soft ${this.sku}`);
  }
}

/** The default `nullify` on a non-nullable key: save() deletes a removed item on TypeORM 1.x, fails on 0.3. */
@Entity('strict')
class Strict {
  @PrimaryGeneratedColumn() id!: number;
  @ManyToOne(() => Holder, { nullable: false }) holder!: Holder;
}

/** A composite key, `orphanedRowAction: 'delete'`: the remove events' `entityId` is the key map. */
@Entity('slot')
class Slot {
  @PrimaryColumn({ type: 'integer' }) shelf!: number;
  @PrimaryColumn({ type: 'integer' }) place!: number;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'delete' }) holder?: Holder | null;
}

/** `orphanedRowAction: 'soft-delete'` without a delete date column: save() fails (MissingDeleteDateColumnError). */
@Entity('bare')
class Bare {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'soft-delete' }) holder?: Holder | null;
}

const events: string[] = [];
const subscriber: EntitySubscriberInterface = {
  beforeUpdate: (event) => {
    events.push(`beforeUpdate ${event.metadata.name} ${event.entity === undefined ? 'no entity' : 'entity'}`);
  },
  afterUpdate: (event) => {
    events.push(`afterUpdate ${event.metadata.name} ${event.entity === undefined ? 'no entity' : 'entity'}`);
  },
};
const removal =
  (name: string) => (event: { metadata: { name: string }; entity?: unknown; databaseEntity?: unknown; entityId?: unknown }) => {
    const shape = `${event.entity === undefined ? 'no entity' : 'entity'}, ${event.databaseEntity === undefined ? 'no row' : 'row'}`;
    events.push(`${name} ${event.metadata.name} ${shape}, id ${JSON.stringify(event.entityId)}`);
  };
const removals: EntitySubscriberInterface = {
  beforeRemove: removal('beforeRemove'),
  afterRemove: removal('afterRemove'),
  beforeSoftRemove: removal('beforeSoftRemove'),
  afterSoftRemove: removal('afterSoftRemove'),
};

/** The statements sent, as the DataSource's logger sees them. */
const sql: string[] = [];
const logger: Logger = {
  logQuery: (query) => {
    sql.push(query);
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
  const schema = await createSchema(url, 'tinv');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Holder, Item, Kept, Owned, Part, Note, Soft, Bare, Strict, Slot],
    subscribers: [],
    synchronize: true,
    logging: ['query'],
    logger,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  ds.subscribers.push(subscriber, removals);
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await truncate();
  events.length = 0;
});

const truncate = () =>
  ds.query('TRUNCATE holder, item, kept, owned, part, note, soft, bare, strict, slot RESTART IDENTITY CASCADE');

function make<T extends object>(cls: new () => T, data: Partial<T>): T {
  return Object.assign(new cls(), data);
}

/** h0 with items i0 (version 1) and i1; i2 at no holder; kept k0 and owned w0 at h0. */
async function seed(): Promise<void> {
  const [h0] = await ds.manager.save([make(Holder, { name: 'h0' })]);
  await ds.manager.save([
    make(Item, { sku: 'i0', holder: h0 }),
    make(Item, { sku: 'i1', holder: h0 }),
    make(Item, { sku: 'i2', holder: null }),
  ]);
  await ds.manager.save([make(Kept, { sku: 'k0', holder: h0 }), make(Owned, { sku: 'w0', holder: h0 })]);
  events.length = 0;
}

const load = () => ds.getRepository(Holder).find({ relations: { items: true, kept: true, owned: true } });
const itemRows = () =>
  ds.query('SELECT id, sku, "holderId", version, "updatedAt" > now() - interval \'1 minute\' AS recent FROM item ORDER BY id');

/** How the rows that drop and take an item are ordered in the input (see moveRun). */
const MOVES = [
  ['dropped, then taken', (h0: Holder, h1: Holder) => [h0, h1]],
  ['taken, then dropped', (h0: Holder, h1: Holder) => [h1, h0]],
  ['taken by two rows', (h0: Holder, h1: Holder, h2: Holder) => [h0, h1, h2]],
] as const;

describe('the inverse side of a one-to-many, TypeORM', () => {
  it("items added and removed: the foreign key, update date and version as save()'s UPDATE; subscribers get save()'s entity-less events", async () => {
    await seed();
    await ds.query(`UPDATE item SET "updatedAt" = '2000-01-01'`);
    const change = async () => {
      const [h0] = await load();
      const i2 = await ds.getRepository(Item).findOneByOrFail({ sku: 'i2' });
      (h0 as Holder).items = [...((h0 as Holder).items ?? []).filter((i) => i.sku !== 'i1'), i2];
      (h0 as Holder).name = 'renamed';
      return [h0 as Holder, make(Holder, { name: 'new', items: [] })];
    };
    await ds.manager.save(await change());
    const theirs = await itemRows();
    const theirEvents = [...events];
    expect(theirs.map((r: { holderId: number | null }) => r.holderId)).toEqual([1, null, 1]);
    // Grouped as save() groups them: the holder's own update events, then the items' (no entity).
    expect(theirEvents).toEqual([
      'beforeUpdate Holder entity',
      'beforeUpdate Item no entity',
      'beforeUpdate Item no entity',
      'afterUpdate Holder entity',
      'afterUpdate Item no entity',
      'afterUpdate Item no entity',
    ]);

    await truncate();
    await seed();
    await ds.query(`UPDATE item SET "updatedAt" = '2000-01-01'`);
    await bulkSave(ds, Holder, await change());
    expect(await itemRows()).toEqual(theirs);
    expect(events).toEqual(theirEvents);
  });

  it('bulkInsert (a new holder) and bulkUpdate: the items and their events as save() writes them', async () => {
    const run = async (write: (rows: Holder[]) => Promise<unknown>, stored: boolean) => {
      await truncate();
      await seed();
      const i2 = await ds.getRepository(Item).findOneByOrFail({ sku: 'i2' });
      let rows: Holder[];
      if (stored) {
        const [h0] = await load();
        (h0 as Holder).items = [i2];
        rows = [h0 as Holder];
      } else rows = [make(Holder, { name: 'h9', items: [i2] })];
      events.length = 0;
      await write(rows);
      return { rows: await ds.query('SELECT id, sku, "holderId", version FROM item ORDER BY id'), events: [...events] };
    };
    for (const stored of [false, true]) {
      const theirs = await run((rows) => ds.manager.save(rows), stored);
      const mine = await run((rows) => (stored ? bulkUpdate(ds, Holder, rows) : bulkInsert(ds, Holder, rows)), stored);
      expect(mine).toEqual(theirs);
      expect(mine.events.filter((e) => e.includes('Item'))).toHaveLength(stored ? 6 : 2);
    }
  });

  it("orphanedRowAction 'disable': an item removed is left linked, as save() leaves it", async () => {
    await seed();
    const [h0] = await load();
    (h0 as Holder).kept = [];
    await bulkSave(ds, Holder, [h0 as Holder]);
    expect(await ds.query('SELECT sku, "holderId" FROM kept')).toEqual([{ sku: 'k0', holderId: 1 }]);
    await ds.manager.save(h0 as Holder);
    expect(await ds.query('SELECT sku, "holderId" FROM kept')).toEqual([{ sku: 'k0', holderId: 1 }]);
  });

  it('a failing UPDATE of the items names the class, relation and row; every table is left as it was', async () => {
    await seed();
    // i1 is at h0 already with sku 'i1': a second 'i1' there violates item_sku_per_holder.
    const [dup] = await ds.manager.save([make(Item, { sku: 'i1', holder: null })]);
    const before = { holders: await ds.query('SELECT * FROM holder'), items: await itemRows() };
    const [h0] = await load();
    (h0 as Holder).items = [...((h0 as Holder).items ?? []), dup as Item];
    const rows = [make(Holder, { name: 'h1', items: [] }), h0 as Holder];
    const error = await bulkSave(ds, Holder, rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ index: 1 });
    expect((error as Error).message).toMatch(/Holder\.items \(sets the foreign key of Item in/);
    expect(await ds.query('SELECT * FROM holder')).toEqual(before.holders);
    expect(await itemRows()).toEqual(before.items);
  });

  // save() sends one UPDATE per item and row whose collection took or dropped it, in the rows' order:
  // an item one row drops and another takes ends at the later of the two (at NULL when the row that
  // drops it comes last), its version moved on once per UPDATE; an item two rows take ends at the later.
  for (const [name, arrange] of MOVES) {
    it(`an item moved between rows of the batch, ${name}: its foreign key and version as save()'s UPDATEs leave them`, async () => {
      const theirs = await moveRun(name, arrange, (rows) => ds.manager.save(rows));
      expect(theirs.items.find((r: { sku: string }) => r.sku === 'i1')).toMatchObject({
        holderId: { 'dropped, then taken': 2, 'taken, then dropped': null, 'taken by two rows': 3 }[name],
        version: name === 'taken by two rows' ? 4 : 3,
      });
      for (const call of [bulkSave, bulkUpdate])
        expect(await moveRun(name, arrange, (rows) => call(ds, Holder, rows))).toEqual(theirs);
    });
  }

  for (const [how, relation] of CROSS) {
    it(`an item taken by a row of one batch from a row of a later batch, ${how} (${relation}): refused by name, nothing written, where save() (chunk or not) reads every row's items first`, async () => {
      const theirs = await crossRun(how, relation, (rows) => ds.manager.save(rows));
      const taken = relation === 'items' ? 'i1' : 'w0';
      const row = (tables: typeof theirs.after) =>
        (tables[relation] as { sku: string; holderId: number | null }[]).find((r) => r.sku === taken);
      // save(): the later row drops it (cleared, or deleted with orphanedRowAction 'delete'), or
      // still lists it (left with the row that took it: no UPDATE for the later row).
      expect(row(theirs.after)).toEqual(
        how === 'taken, then still listed'
          ? expect.objectContaining({ holderId: 1 })
          : relation === 'owned'
            ? undefined
            : expect.objectContaining({ holderId: null }),
      );
      expect((await crossRun(how, relation, (rows) => ds.manager.save(rows, { chunk: 1 }))).after).toEqual(theirs.after);
      // Within one batch cohort writes what save() writes.
      expect((await crossRun(how, relation, (rows) => bulkSave(ds, Holder, rows))).after).toEqual(theirs.after);
      const calls = [
        (rows: Holder[]) => bulkSave(ds, Holder, rows, { batchSize: 1 }),
        (rows: Holder[]) => bulkUpdate(ds, Holder, rows, { batchSize: 1, pipeline: false }),
        // A stream: refused when the holder's batch comes, no row known ahead.
        (rows: Holder[]) =>
          bulkSave(
            ds,
            Holder,
            (async function* () {
              yield* rows;
            })(),
            { batchSize: 1 },
          ),
      ];
      for (const call of calls) {
        const mine = await crossRun(how, relation, call);
        expect(mine.error).toBeInstanceOf(UnsupportedFeatureError);
        expect(mine.error).toMatchObject({
          feature: 'one-to-many move across batches',
          entityName: 'Holder',
          property: relation,
          index: 1,
        });
        expect((mine.error as Error).message).toMatch(
          new RegExp(
            `Holder\\.${relation}: row 0 \\(batch \\d+\\) took the stored item ${relation === 'items' ? 'Item' : 'Owned'} \\(\\d+\\) from the Holder of row 1`,
          ),
        );
        expect((mine.error as Error).message).toMatch(/a larger batchSize\), or use the ORM's save\(\)/);
        expect(mine.after).toEqual(mine.before);
        expect(mine.objects).toEqual(mine.objectsBefore);
      }
    });
  }

  it('items moved across batches from a row written earlier, or from a holder not in the call, are written as save() writes them', async () => {
    // h1 (batch 1) drops i1, h0 (batch 2) takes it: h1's items were read before either UPDATE.
    const dropped = (h0: Holder, h1: Holder) => {
      h0.items = [...(h0.items ?? []), ...(h1.items ?? [])];
      h1.items = [];
      return [h1, h0];
    };
    // h0 takes i1 from h1, which is not in the call.
    const notInCall = (h0: Holder, h1: Holder) => {
      h0.items = [...(h0.items ?? []), ...(h1.items ?? [])];
      return [h0];
    };
    for (const arrange of [dropped, notInCall]) {
      // save() with chunk 1 as the oracle of batchSize 1: its events per chunk, as cohort's per batch.
      const theirs = await crossRun('custom', 'items', (rows) => ds.manager.save(rows, { chunk: 1 }), arrange);
      expect((await crossRun('custom', 'items', (rows) => ds.manager.save(rows), arrange)).after).toEqual(theirs.after);
      for (const call of [bulkSave, bulkUpdate]) {
        // bulkUpdate cuts an array into batches in key order: h0 (row 1) then h1 (row 0), which
        // drops the item h0 took in the earlier batch, where save() clears it first: refused.
        if (call === bulkUpdate && arrange === dropped) continue;
        const mine = await crossRun('custom', 'items', (rows) => call(ds, Holder, rows, { batchSize: 1 }), arrange);
        expect(mine.error).toBeUndefined();
        expect(mine.after).toEqual(theirs.after);
        expect(mine.events).toEqual(theirs.events);
      }
    }
  });

  it('bulkUpdate, whose array goes in batches in key order: an item taken by a row and dropped by an earlier row of a later batch is refused (save() clears it first, then sets it)', async () => {
    const dropped = (h0: Holder, h1: Holder) => {
      h0.items = [...(h0.items ?? []), ...(h1.items ?? [])];
      h1.items = [];
      return [h1, h0];
    };
    const theirs = await crossRun('custom', 'items', (rows) => ds.manager.save(rows, { chunk: 1 }), dropped);
    expect((theirs.after.items as { sku: string; holderId: number | null }[]).find((r) => r.sku === 'i1')?.holderId).toBe(1);
    for (const pipeline of [true, false]) {
      const mine = await crossRun('custom', 'items', (rows) => bulkUpdate(ds, Holder, rows, { batchSize: 1, pipeline }), dropped);
      expect(mine.error).toBeInstanceOf(UnsupportedFeatureError);
      expect(mine.error).toMatchObject({ feature: 'one-to-many move across batches', entityName: 'Holder', property: 'items' });
      expect(mine.after).toEqual(mine.before);
      expect(mine.objects).toEqual(mine.objectsBefore);
    }
  });
});

/** Moves across batches: how the later row leaves the item, and the relation (`owned`: orphanedRowAction 'delete'). */
const CROSS = [
  ['taken, then dropped', 'items'],
  ['taken, then still listed', 'items'],
  ['taken, then dropped', 'owned'],
] as const;

/**
 * h0 (item i0, owned w0 moved to h1) and h1 (items i1, owned w0) stored; h0, then h1 loaded with
 * `relation`: by default h0 takes h1's item (i1 or w0), which h1 drops or still lists; `write` gets
 * the rows [h0, h1] (key order: an update's batches go in key order). What every table and the
 * rows' objects are before and after, the event log, and the error the call threw.
 */
async function crossRun(
  how: (typeof CROSS)[number][0] | 'custom',
  relation: 'items' | 'owned',
  write: (rows: Holder[]) => Promise<unknown>,
  arrange?: (h0: Holder, h1: Holder) => Holder[],
) {
  await truncate();
  await seed();
  await ds.manager.save([make(Holder, { name: 'h1' })]);
  await ds.query(`UPDATE item SET "holderId" = 2 WHERE sku = 'i1'`);
  await ds.query(`UPDATE owned SET "holderId" = 2 WHERE sku = 'w0'`);
  await ds.query(`UPDATE item SET "updatedAt" = '2000-01-01'`);
  const tables = async () => ({
    holder: await ds.query('SELECT * FROM holder ORDER BY id'),
    items: await ds.query(`SELECT id, sku, "holderId", version, "updatedAt" > '2001-01-01' AS "updatedAt" FROM item ORDER BY id`),
    owned: await ds.query('SELECT * FROM owned ORDER BY id'),
    kept: await ds.query('SELECT * FROM kept ORDER BY id'),
  });
  const [h0, h1] = (await ds.getRepository(Holder).find({ relations: { [relation]: true }, order: { id: 'ASC' } })) as [
    Holder,
    Holder,
  ];
  let rows: Holder[];
  if (arrange) rows = arrange(h0, h1);
  else {
    const lists = (h: Holder) => h as unknown as Record<typeof relation, unknown[] | undefined>;
    lists(h0)[relation] = [...(lists(h0)[relation] ?? []), ...(lists(h1)[relation] ?? [])];
    if (how === 'taken, then dropped') lists(h1)[relation] = [];
    rows = [h0, h1];
  }
  const before = await tables();
  const objectsBefore = asData(rows);
  events.length = 0;
  const error = await write(rows).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { before, after: await tables(), objectsBefore, objects: asData(rows), events: [...events], error };
}

/** h0 (items i0, i1), h1 and h2 stored; i1 dropped by h0 and taken by h1 (and h2); `write` gets the rows as `arrange` orders them. */
async function moveRun(
  name: (typeof MOVES)[number][0],
  arrange: (h0: Holder, h1: Holder, h2: Holder) => readonly Holder[],
  write: (rows: Holder[]) => Promise<unknown>,
) {
  await truncate();
  await seed();
  await ds.manager.save([make(Holder, { name: 'h1' }), make(Holder, { name: 'h2' })]);
  await ds.query(`UPDATE item SET "updatedAt" = '2000-01-01'`);
  const [h0, h1, h2] = (await ds.getRepository(Holder).find({ relations: { items: true }, order: { id: 'ASC' } })) as [
    Holder,
    Holder,
    Holder,
  ];
  const i1 = (h0.items ?? []).find((i) => i.sku === 'i1') as Item;
  h0.items = (h0.items ?? []).filter((i) => i !== i1);
  h1.items = [i1];
  if (name === 'taken by two rows') h2.items = [i1];
  events.length = 0;
  await write([...arrange(h0, h1, h2)]);
  return { items: await itemRows(), events: [...events] };
}

/** h0 with owned w0–w2 (a note on w2) and soft s0–s2, h1 with w3 and s3; w4 and s4 at no holder; bare b0 at h0. */
async function seedOrphans(): Promise<void> {
  const [h0, h1] = await ds.manager.save([make(Holder, { name: 'h0' }), make(Holder, { name: 'h1' })]);
  const at = [h0, h0, h0, h1, null];
  const owned = await ds.manager.save(at.map((holder, i) => make(Owned, { sku: `w${i}`, holder })));
  await ds.manager.save(at.map((holder, i) => make(Soft, { sku: `s${i}`, holder })));
  await ds.manager.save([make(Note, { owned: owned[2] }), make(Bare, { sku: 'b0', holder: h0 })]);
  await ds.manager.save([make(Strict, { holder: h0 })]);
  await ds.query(`UPDATE soft SET "updatedAt" = '2000-01-01'`);
}

/** Every table the orphans touch; the soft items' dates as whether the call set them. */
async function orphanTables() {
  const recent = (column: string) => `("${column}" IS NOT NULL AND "${column}" > now() - interval '1 minute') AS "${column}"`;
  return {
    holder: await ds.query('SELECT * FROM holder ORDER BY id'),
    owned: await ds.query('SELECT * FROM owned ORDER BY id'),
    soft: await ds.query(
      `SELECT id, sku, "holderId", version, ${recent('updatedAt')}, ${recent('deletedAt')} FROM soft ORDER BY id`,
    ),
    part: await ds.query('SELECT * FROM part ORDER BY id'),
    note: await ds.query('SELECT * FROM note ORDER BY id'),
    bare: await ds.query('SELECT * FROM bare ORDER BY id'),
    strict: await ds.query('SELECT * FROM strict ORDER BY id'),
  };
}

/** Objects as data, dates as whether they are the seeded ones. */
const asData = (value: unknown) =>
  JSON.parse(
    JSON.stringify(value, (key, v) =>
      (key === 'updatedAt' || key === 'deletedAt') && v != null ? (String(v).startsWith('2000') ? 'seeded' : 'set') : v,
    ),
  );

interface Stored {
  readonly holders: Holder[];
  readonly w4: Owned;
  readonly s4: Soft;
}

/**
 * Seeds, loads the holders with their owned and soft items as a caller would, applies `change`, and
 * runs `write` on the rows it returns: what every table, the objects (the rows and every item loaded,
 * the removed ones included) and the event log are afterwards, and the statements sent.
 */
async function orphanRun(
  change: (stored: Stored) => Holder[],
  write: (rows: Holder[]) => Promise<unknown>,
  extra?: () => Promise<void>,
) {
  await truncate();
  await seedOrphans();
  await extra?.();
  const holders = await ds.getRepository(Holder).find({ relations: { owned: true, soft: true }, order: { id: 'ASC' } });
  const w4 = await ds.getRepository(Owned).findOneByOrFail({ sku: 'w4' });
  const s4 = await ds.getRepository(Soft).findOneByOrFail({ sku: 's4' });
  const loaded = holders.flatMap((h) => [...(h.owned ?? []), ...(h.soft ?? [])]);
  const rows = change({ holders, w4, s4 });
  events.length = 0;
  sql.length = 0;
  const error = await write(rows).then(
    () => undefined,
    (e: unknown) => e,
  );
  const sent = [...sql];
  return { error, tables: await orphanTables(), objects: asData({ rows, loaded }), events: [...events], sent };
}

/** h0 keeps w0 and s0 (and is renamed), h1 gets w1 from h0 and loses s3, a new h2 holds w4 and s4. */
function moveAndRemove({ holders: [h0, h1], w4, s4 }: Stored): Holder[] {
  const a = h0 as Holder;
  const b = h1 as Holder;
  const w1 = (a.owned ?? []).find((w) => w.sku === 'w1') as Owned;
  a.owned = (a.owned ?? []).filter((w) => w.sku === 'w0');
  a.soft = (a.soft ?? []).filter((x) => x.sku === 's0');
  a.name = 'renamed';
  b.owned = [...(b.owned ?? []), w1];
  b.soft = [];
  return [a, b, make(Holder, { name: 'h2', owned: [w4], soft: [s4] })];
}

/** Statements of `sent` that write `table`, by kind (cohort's in a CTE too). */
const writes = (sent: readonly string[], table: string, kind: 'DELETE FROM' | 'UPDATE') =>
  sent.filter((q) => q.includes(`${kind} "`) && new RegExp(`${kind} ("[\\w$]+"\\.)?"${table}"`).test(q));

describe("orphanedRowAction 'delete' and 'soft-delete'", () => {
  it('bulkSave, several rows per batch: the orphans deleted and soft-deleted as save() removes them; one DELETE and one soft-delete UPDATE per child table', async () => {
    const theirs = await orphanRun(moveAndRemove, (rows) => ds.manager.save(rows));
    const mine = await orphanRun(moveAndRemove, (rows) => bulkSave(ds, Holder, rows));
    expect(theirs.error).toBeUndefined();
    expect(mine.error).toBeUndefined();
    expect(mine.tables).toEqual(theirs.tables);
    expect(mine.objects).toEqual(theirs.objects);
    expect(mine.events).toEqual(theirs.events);
    // w1, moved to h1 and removed from h0, is updated then deleted, as save() does; w2's note goes
    // with it (ON DELETE CASCADE); s1–s3 soft-deleted (update date, version), still linked.
    expect(mine.tables.owned.map((r: { sku: string; holderId: number | null }) => [r.sku, r.holderId])).toEqual([
      ['w0', 1],
      ['w3', 2],
      ['w4', 3],
    ]);
    expect(mine.tables.note).toEqual([]);
    expect(mine.tables.soft).toEqual([
      { id: 1, sku: 's0', holderId: 1, version: 1, updatedAt: false, deletedAt: false },
      { id: 2, sku: 's1', holderId: 1, version: 2, updatedAt: true, deletedAt: true },
      { id: 3, sku: 's2', holderId: 1, version: 2, updatedAt: true, deletedAt: true },
      { id: 4, sku: 's3', holderId: 2, version: 2, updatedAt: true, deletedAt: true },
      { id: 5, sku: 's4', holderId: 3, version: 2, updatedAt: true, deletedAt: false },
    ]);
    // Subject without an entity: no listener, the subscribers' events with the item's key only.
    expect(mine.events).toEqual([
      'beforeUpdate Holder entity',
      'beforeUpdate Owned no entity',
      'beforeUpdate Owned no entity',
      'beforeUpdate Soft no entity',
      'beforeRemove Owned no entity, no row, id 2',
      'beforeRemove Owned no entity, no row, id 3',
      'beforeSoftRemove Soft no entity, no row, id 2',
      'beforeSoftRemove Soft no entity, no row, id 3',
      'beforeSoftRemove Soft no entity, no row, id 4',
      'afterUpdate Holder entity',
      'afterUpdate Owned no entity',
      'afterUpdate Owned no entity',
      'afterUpdate Soft no entity',
      'afterRemove Owned no entity, no row, id 2',
      'afterRemove Owned no entity, no row, id 3',
      'afterSoftRemove Soft no entity, no row, id 2',
      'afterSoftRemove Soft no entity, no row, id 3',
      'afterSoftRemove Soft no entity, no row, id 4',
    ]);
    expect(writes(mine.sent, 'owned', 'DELETE FROM')).toHaveLength(1);
    expect(writes(mine.sent, 'soft', 'UPDATE').filter((q) => q.includes('"deletedAt" = CURRENT_TIMESTAMP'))).toHaveLength(1);
  });

  it('bulkSave with batchSize 1 as save() with chunk 1: batch by batch, the same rows, objects and events', async () => {
    const theirs = await orphanRun(moveAndRemove, (rows) => ds.manager.save(rows, { chunk: 1 }));
    const mine = await orphanRun(moveAndRemove, (rows) => bulkSave(ds, Holder, rows, { batchSize: 1 }));
    expect(theirs.error).toBeUndefined();
    expect(mine.error).toBeUndefined();
    expect(mine.tables).toEqual(theirs.tables);
    expect(mine.objects).toEqual(theirs.objects);
    expect(mine.events).toEqual(theirs.events);
    expect(writes(mine.sent, 'owned', 'DELETE FROM')).toHaveLength(1);
    expect(writes(mine.sent, 'soft', 'UPDATE').filter((q) => q.includes('"deletedAt" = CURRENT_TIMESTAMP'))).toHaveLength(2);
  });

  it("bulkUpdate: the stored holders' orphans as save() removes them", async () => {
    const change = (stored: Stored) => moveAndRemove(stored).slice(0, 2);
    const theirs = await orphanRun(change, (rows) => ds.manager.save(rows));
    const mine = await orphanRun(change, (rows) => bulkUpdate(ds, Holder, rows));
    expect(mine.error).toBeUndefined();
    expect(mine).toMatchObject({ tables: theirs.tables, objects: theirs.objects, events: theirs.events });
  });

  it('bulkInsert: new holders take stored items (one of them from a stored holder, which is not saved), nothing is removed', async () => {
    const change = ({ holders: [, h1], w4, s4 }: Stored) => [
      make(Holder, { name: 'n0', owned: [w4], soft: [s4] }),
      make(Holder, { name: 'n1', owned: [...((h1 as Holder).owned ?? [])], soft: [] }),
    ];
    const theirs = await orphanRun(change, (rows) => ds.manager.save(rows));
    const mine = await orphanRun(change, (rows) => bulkInsert(ds, Holder, rows));
    expect(mine.error).toBeUndefined();
    expect(mine).toMatchObject({ tables: theirs.tables, objects: theirs.objects, events: theirs.events });
    expect(mine.tables.owned.map((r: { holderId: number | null }) => r.holderId)).toEqual([1, 1, 1, 4, 3]);
    expect(writes(mine.sent, 'owned', 'DELETE FROM')).toEqual([]);
  });

  it("the orphan's own cascades are not followed, as in save(): a part still referring to it fails the DELETE, naming the holder's relation and row; every table is left as it was", async () => {
    // Owned.parts cascades removes; save() deletes the orphan w2 without looking at its parts.
    const addPart = async () => {
      const w2 = await ds.getRepository(Owned).findOneByOrFail({ sku: 'w2' });
      await ds.manager.save([make(Part, { owned: w2 })]);
    };
    const before = async () => {
      await truncate();
      await seedOrphans();
      await addPart();
      return orphanTables();
    };
    const expected = await before();
    const theirs = await orphanRun(moveAndRemove, (rows) => ds.manager.save(rows), addPart);
    expect((theirs.error as { code?: string }).code).toBe('23503');
    expect(theirs.tables).toEqual(expected);
    const mine = await orphanRun(moveAndRemove, (rows) => bulkSave(ds, Holder, rows), addPart);
    expect(mine.error).toBeInstanceOf(ForeignKeyViolationError);
    expect(mine.error).toMatchObject({ index: 0 });
    expect((mine.error as Error).message).toMatch(/Holder\.owned \(deletes the orphaned Owned in .*"owned"\)/);
    expect(mine.tables).toEqual(expected);
  });

  it("a later batch fails: the earlier batches' orphans are back, every table as before the call", async () => {
    const expected = await (async () => {
      await truncate();
      await seedOrphans();
      return orphanTables();
    })();
    const tooLong = (stored: Stored) => {
      const rows = moveAndRemove(stored);
      (rows[2] as Holder).name = 'x'.repeat(41);
      return rows;
    };
    const mine = await orphanRun(tooLong, (rows) => bulkSave(ds, Holder, rows, { batchSize: 1 }));
    expect(mine.error).toBeInstanceOf(BulkWriteError);
    expect(mine.error).toMatchObject({ index: 2 });
    expect(writes(mine.sent, 'owned', 'DELETE FROM')).toHaveLength(1);
    expect(mine.tables).toEqual(expected);
  });

  it('a composite key: one DELETE matched on both columns, the events with the key map, as save()', async () => {
    const run = async (write: (rows: Holder[]) => Promise<unknown>) => {
      await truncate();
      const [h0, h1] = await ds.manager.save([make(Holder, { name: 'h0' }), make(Holder, { name: 'h1' })]);
      const at = [h0, h0, h1, h1];
      await ds.manager.save(at.map((holder, i) => make(Slot, { shelf: 1 + (i % 2), place: i, holder })));
      const holders = await ds.getRepository(Holder).find({ relations: { slots: true }, order: { id: 'ASC' } });
      for (const h of holders) h.slots = (h.slots ?? []).filter((slot) => slot.place % 2 === 0);
      events.length = 0;
      sql.length = 0;
      await write(holders);
      const sent = writes(sql, 'slot', 'DELETE FROM');
      return { slots: await ds.query('SELECT * FROM slot ORDER BY place'), events: [...events], objects: asData(holders), sent };
    };
    const theirs = await run((rows) => ds.manager.save(rows));
    const mine = await run((rows) => bulkSave(ds, Holder, rows));
    expect(mine.slots).toEqual(theirs.slots);
    expect(mine.slots.map((r: { place: number }) => r.place)).toEqual([0, 2]);
    expect(mine.events).toEqual(theirs.events);
    expect(mine.events).toContain('afterRemove Slot no entity, no row, id {"shelf":2,"place":3}');
    expect(mine.objects).toEqual(theirs.objects);
    expect(mine.sent).toHaveLength(1);
  });

  it("'nullify' on a non-nullable key stays refused (save() deletes the item on 1.x, fails on 0.3), naming the relation", async () => {
    await seedOrphans();
    const [h0] = await ds.getRepository(Holder).find({ relations: { strict: true }, order: { id: 'ASC' } });
    (h0 as Holder).strict = [];
    const before = await orphanTables();
    const error = await bulkSave(ds, Holder, [h0 as Holder]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'inverse side', entityName: 'Holder', property: 'strict', index: 0 });
    expect((error as Error).message).toMatch(/orphanedRowAction 'nullify' on a non-nullable foreign key/);
    expect(await orphanTables()).toEqual(before);
  });

  it("'soft-delete' of items without a @DeleteDateColumn stays refused (save() fails), naming the relation, before anything is written", async () => {
    await seedOrphans();
    const [h0] = await ds.getRepository(Holder).find({ relations: { bare: true }, order: { id: 'ASC' } });
    (h0 as Holder).bare = [];
    (h0 as Holder).name = 'renamed';
    const before = await orphanTables();
    const error = await bulkSave(ds, Holder, [h0 as Holder]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'inverse side', entityName: 'Holder', property: 'bare', index: 0 });
    expect((error as Error).message).toMatch(/orphanedRowAction 'soft-delete' and Bare has no @DeleteDateColumn/);
    expect(await orphanTables()).toEqual(before);
    const theirs = await ds.manager.save(h0 as Holder).catch((e: unknown) => e);
    expect((theirs as Error).name).toBe('MissingDeleteDateColumnError');
  });
});

describe('trackEntityChanges with reload: false', () => {
  it('items set on a holder loaded without its relation are refused (its snapshot knows none of the stored items save() diffs against)', async () => {
    const tracked = new DataSource({ ...ds.options, synchronize: false } as typeof ds.options);
    await tracked.initialize();
    try {
      trackEntityChanges(tracked, { reload: false });
      await seed();
      const h0 = await tracked.getRepository(Holder).findOneByOrFail({ name: 'h0' });
      const i2 = await tracked.getRepository(Item).findOneByOrFail({ sku: 'i2' });
      h0.items = [i2];
      const before = await itemRows();
      const error = await bulkSave(tracked, Holder, [h0]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'inverse side', entityName: 'Holder', property: 'items', index: 0 });
      expect((error as Error).message).toMatch(/load these rows with their items relation/);
      expect(await itemRows()).toEqual(before);
    } finally {
      await tracked.destroy();
    }
  });
});
