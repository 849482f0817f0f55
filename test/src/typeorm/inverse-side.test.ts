// The inverse side of a one-to-many, TypeORM specifics (test/src/conformance/inverse-side.test.ts
// compares both ORMs): save()'s UPDATE of an item's foreign key also sets its update date and
// increments its version, as cohort's; the orphaned row action of the items' relation decides what
// happens to an item removed (`nullify` written, `disable` left alone as save() leaves it, `delete`,
// `soft-delete` and `nullify` of a non-nullable key — save() deletes the item — refused); and save()
// gives subscribers beforeUpdate / afterUpdate per item with `entity` undefined, as cohort does.
import { createSchema } from '@cohort/pg-harness';
import {
  bulkInsert,
  bulkSave,
  bulkUpdate,
  trackEntityChanges,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '@cohort/typeorm';
import {
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  ManyToOne,
  OneToMany,
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

/** `orphanedRowAction: 'delete'`: save() deletes a removed item. */
@Entity('owned')
class Owned {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'delete' }) holder?: Holder | null;
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
    entities: [Holder, Item, Kept, Owned],
    subscribers: [],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  ds.subscribers.push(subscriber);
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query('TRUNCATE holder, item, kept, owned RESTART IDENTITY CASCADE');
  events.length = 0;
});

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

    await ds.query('TRUNCATE holder, item, kept, owned RESTART IDENTITY CASCADE');
    await seed();
    await ds.query(`UPDATE item SET "updatedAt" = '2000-01-01'`);
    await bulkSave(ds, Holder, await change());
    expect(await itemRows()).toEqual(theirs);
    expect(events).toEqual(theirEvents);
  });

  it('bulkInsert (a new holder) and bulkUpdate: the items and their events as save() writes them', async () => {
    const run = async (write: (rows: Holder[]) => Promise<unknown>, stored: boolean) => {
      await ds.query('TRUNCATE holder, item, kept, owned RESTART IDENTITY CASCADE');
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

  it("orphanedRowAction 'delete': an item removed is refused naming the action (save() deletes it); an item added is written", async () => {
    await seed();
    const [h0] = await load();
    const [w1] = await ds.manager.save([make(Owned, { sku: 'w1', holder: null })]);
    (h0 as Holder).owned = [...((h0 as Holder).owned ?? []), w1 as Owned];
    await bulkSave(ds, Holder, [h0 as Holder]);
    expect(await ds.query('SELECT sku, "holderId" FROM owned ORDER BY id')).toEqual([
      { sku: 'w0', holderId: 1 },
      { sku: 'w1', holderId: 1 },
    ]);

    const [again] = await load();
    (again as Holder).owned = [];
    const error = await bulkSave(ds, Holder, [again as Holder]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'inverse side', entityName: 'Holder', property: 'owned', index: 0 });
    expect((error as Error).message).toMatch(/orphanedRowAction 'delete'/);
    expect(await ds.query('SELECT count(*)::int AS n FROM owned WHERE "holderId" = 1')).toEqual([{ n: 2 }]);
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
