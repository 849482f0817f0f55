// One-to-many items moved across batches, on a hand-made schema whose items' foreign key column is
// narrower than the holder key it references (holder bigint or numeric, item foreign key int4). After
// a move, a later batch's rows are matched against the moved items' old holders by casting each
// row's key to the foreign key's type; a key that does not fit (2^40, 1.5) made PostgreSQL fail
// (22003, 22P02), untyped, and the call with it. A key that does not fit the foreign key's type holds
// no item: the row is no old holder, and the call writes what save() writes. Where the row's items
// are loaded, TypeORM's own load of its stored items fails on that key, in save() and cohort alike.
import { createSchema } from '@cohort/pg-harness';
import { bulkSave, bulkUpdate } from '@cohort/typeorm';
import { Column, DataSource, Entity, ManyToOne, OneToMany, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

@Entity('nk_big_holder')
class BigHolder {
  @PrimaryColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @OneToMany(
    () => BigItem,
    (item) => item.holder,
  )
  items?: BigItem[];
}

@Entity('nk_big_item')
class BigItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
  @ManyToOne(
    () => BigHolder,
    (holder) => holder.items,
    { nullable: true },
  )
  holder?: BigHolder | null;
}

@Entity('nk_num_holder')
class NumHolder {
  @PrimaryColumn({ type: 'numeric' }) id!: string;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @OneToMany(
    () => NumItem,
    (item) => item.holder,
  )
  items?: NumItem[];
}

@Entity('nk_num_item')
class NumItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
  @ManyToOne(
    () => NumHolder,
    (holder) => holder.items,
    { nullable: true },
  )
  holder?: NumHolder | null;
}

let ds: DataSource;
let drop: () => Promise<void>;

beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tnkey');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [BigHolder, BigItem, NumHolder, NumItem],
    synchronize: false,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  // By hand: the items' foreign key is int4, narrower than the key it references.
  for (const [name, keyType] of [
    ['big', 'bigint'],
    ['num', 'numeric'],
  ]) {
    await ds.query(`CREATE TABLE nk_${name}_holder (id ${keyType} PRIMARY KEY, name varchar(40) NOT NULL)`);
    await ds.query(
      `CREATE TABLE nk_${name}_item (id serial PRIMARY KEY, label varchar(40) NOT NULL, "holderId" int4 REFERENCES nk_${name}_holder (id))`,
    );
  }
});

afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});

type Holder = BigHolder | NumHolder;
type HolderClass = typeof BigHolder | typeof NumHolder;
const kinds: { name: string; cls: HolderClass; unfit: string; code: string }[] = [
  { name: 'big', cls: BigHolder, unfit: '1099511627776', code: '22003' },
  { name: 'num', cls: NumHolder, unfit: '1.5', code: '22P02' },
];

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('items moved across batches, the foreign key narrower than the holder key (TypeORM)', () => {
  for (const { name, cls, unfit, code } of kinds) {
    const tables = async () => ({
      holders: await ds.query(`SELECT id::text AS id, name FROM nk_${name}_holder ORDER BY id`),
      items: await ds.query(`SELECT id, label, "holderId" FROM nk_${name}_item ORDER BY id`),
    });
    /**
     * Holders 1 (no items), 2 (item i1) and `unfit`, loaded with their items; holder 1 takes i1 from
     * holder 2, which is not in the call; holder `unfit` is renamed, its items loaded or not.
     * Rows: holder 1, then `unfit`.
     */
    const arrange = async (loaded: boolean): Promise<Holder[]> => {
      await ds.query(`TRUNCATE nk_${name}_item, nk_${name}_holder RESTART IDENTITY CASCADE`);
      await ds.query(`INSERT INTO nk_${name}_holder (id, name) VALUES (1, 'h1'), (2, 'h2'), (${unfit}, 'unfit')`);
      await ds.query(`INSERT INTO nk_${name}_item (label, "holderId") VALUES ('i1', 2)`);
      const repo = ds.getRepository<Holder>(cls);
      const [h1, h2, other] = await Promise.all(
        ['1', '2', unfit].map((id) => repo.findOneOrFail({ where: { id }, relations: { items: true } })),
      );
      h1.items = [...(h1.items ?? []), ...(h2.items ?? [])];
      other.name = 'unfit renamed';
      expect(other.items).toEqual([]);
      if (!loaded) delete other.items;
      return [h1, other];
    };
    const calls = [
      (rows: Holder[]) => bulkSave(ds, cls, rows, { batchSize: 1 }),
      (rows: Holder[]) => bulkUpdate(ds, cls, rows, { batchSize: 1 }),
      (rows: Holder[]) => bulkUpdate(ds, cls, rows, { batchSize: 1, pipeline: false }),
    ];

    it(`a later batch's ${cls.name} whose key (${unfit}) does not fit the int4 foreign key, its items not loaded: written as save() writes it (before: PostgreSQL's ${code}, untyped)`, async () => {
      await ds.manager.save(await arrange(false), { chunk: 1 });
      const saved = await tables();
      expect(saved.items).toEqual([{ id: 1, label: 'i1', holderId: 1 }]);
      expect(saved.holders).toContainEqual({ id: unfit, name: 'unfit renamed' });
      for (const call of calls) {
        await call(await arrange(false));
        expect(await tables()).toEqual(saved);
      }
    });

    it(`a later batch's ${cls.name} whose key (${unfit}) does not fit, its items loaded (none): TypeORM's load of its stored items fails with PostgreSQL's ${code}, in save() and in cohort alike; nothing written`, async () => {
      // A pipelined bulkUpdate sends that load ahead of batch 0's statement, which then finds the
      // transaction aborted: the load's failure is reported (before: BulkDatabaseError 25P02 at row 0).
      for (const call of [(rows: Holder[]) => ds.manager.save(rows, { chunk: 1 }), ...calls]) {
        const rows = await arrange(true);
        const before = await tables();
        const error = await failure(call(rows));
        expect(error).toMatchObject({ driverError: { code } });
        expect(await tables()).toEqual(before);
      }
      // In the caller's transaction: the transaction usable after, as before the call.
      const rows = await arrange(true);
      const before = await tables();
      await ds.transaction(async (manager) => {
        const error = await failure(bulkSave(manager, cls, rows, { batchSize: 1 }));
        expect(error).toMatchObject({ driverError: { code } });
        expect(await manager.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      });
      expect(await tables()).toEqual(before);
    });
  }
});
