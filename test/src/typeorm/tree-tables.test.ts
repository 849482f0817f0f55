// TypeORM trees that keep state of their own — a closure table's rows, a materialized path column, a
// nested set's bounds — are maintained by save() when it inserts an entity or moves it to another
// parent. cohort's statements would leave that state out or stale with no error, so a bulk write of
// such a class is refused (`tree table`) before anything is sent, rows of the call and related
// entities a cascade would write alike; save()'s own writes are pinned to show what would be missed.
// An adjacency-list tree is a plain self-reference (test/src/typeorm/self-reference-trees.test.ts).
import { bulkInsert, bulkSave, bulkUpdate, bulkUpsert, UnsupportedFeatureError } from '@cohort/typeorm';
import { Column, Entity, ManyToOne, PrimaryGeneratedColumn, Tree, TreeChildren, TreeParent } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { rowsOf, typeormPair } from '../harness/upstream-pair.js';

@Entity('tt_closure')
@Tree('closure-table')
class TtClosure {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @TreeParent() parent?: TtClosure | null;
  @TreeChildren() children?: TtClosure[];
}

@Entity('tt_path')
@Tree('materialized-path')
class TtPath {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @TreeParent() parent?: TtPath | null;
  @TreeChildren() children?: TtPath[];
}

@Entity('tt_nested')
@Tree('nested-set')
class TtNested {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @TreeParent() parent?: TtNested | null;
  @TreeChildren() children?: TtNested[];
}

@Entity('tt_product')
class TtProduct {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => TtClosure, { nullable: true, cascade: true }) category?: TtClosure | null;
}

const pair = typeormPair('tree_tables', { entities: [TtClosure, TtPath, TtNested, TtProduct] });
const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const TABLES = ['tt_closure', 'tt_closure_closure', 'tt_path', 'tt_nested', 'tt_product'];

describe('trees that keep state of their own', () => {
  it("save() writes that state: the closure table's rows, the path column", async () => {
    const side = pair.reference();
    const root = await side.dataSource.manager.save(make(TtClosure, { name: 'root' }));
    await side.dataSource.manager.save(make(TtClosure, { name: 'leaf', parent: root }));
    expect(await rowsOf(side, 'tt_closure_closure', '1, 2')).toEqual([
      { id_ancestor: 1, id_descendant: 1 },
      { id_ancestor: 1, id_descendant: 2 },
      { id_ancestor: 2, id_descendant: 2 },
    ]);
    const a = await side.dataSource.manager.save(make(TtPath, { name: 'a' }));
    const b = await side.dataSource.manager.save(make(TtPath, { name: 'b' }));
    const leaf = await side.dataSource.manager.save(make(TtPath, { name: 'leaf', parent: a }));
    leaf.parent = b;
    await side.dataSource.manager.save(leaf);
    expect((await rowsOf(side, 'tt_path')).find((r) => r.name === 'leaf')?.mpath).toBe(`${b.id}.${leaf.id}.`);
  });

  type Write = (side: ReturnType<typeof pair.subject>, cls: typeof TtClosure, rows: TtClosure[]) => Promise<unknown>;
  const calls: [string, Write][] = [
    ['bulkInsert', (side, cls, rows) => bulkInsert(side.dataSource, cls, rows)],
    ['bulkSave', (side, cls, rows) => bulkSave(side.dataSource, cls, rows)],
    ['bulkUpsert', (side, cls, rows) => bulkUpsert(side.dataSource, cls, rows, { target: ['name'] })],
  ];
  for (const cls of [TtClosure, TtPath, TtNested]) {
    for (const [name, call] of calls) {
      it(`${name} of ${cls.name}: refused (tree table) before anything is sent`, async () => {
        const side = pair.subject();
        const rows = [make(cls as new () => TtClosure, { name: 'root' })];
        const error = await call(side, cls as typeof TtClosure, rows).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({ feature: 'tree table', entityName: cls.name });
        expect((error as Error).message).toContain('save()');
        for (const table of TABLES) expect(await rowsOf(side, table)).toEqual([]);
      });
    }
  }

  it('bulkUpdate of a materialized-path entity moved to another parent: refused, its path left as it is', async () => {
    const side = pair.subject();
    const a = await side.dataSource.manager.save(make(TtPath, { name: 'a' }));
    const b = await side.dataSource.manager.save(make(TtPath, { name: 'b' }));
    const leaf = await side.dataSource.manager.save(make(TtPath, { name: 'leaf', parent: a }));
    const before = await rowsOf(side, 'tt_path');
    leaf.parent = b;
    const error = await bulkUpdate(side.dataSource, TtPath, [leaf]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'tree table', entityName: 'TtPath' });
    expect(await rowsOf(side, 'tt_path')).toEqual(before);
  });

  it('a new closure-table entity inserted by cascade with the rows: refused, nothing written', async () => {
    const side = pair.subject();
    const product = make(TtProduct, { name: 'p', category: make(TtClosure, { name: 'c' }) });
    const error = await bulkInsert(side.dataSource, TtProduct, [product]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'tree table', entityName: 'TtClosure' });
    expect((error as Error).message).toContain('TtProduct.category');
    for (const table of TABLES) expect(await rowsOf(side, table)).toEqual([]);
  });
});
