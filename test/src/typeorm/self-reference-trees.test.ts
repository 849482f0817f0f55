// TypeORM trees in one call, beyond the conformance fixture (test/src/conformance/self-referencing-trees.test.ts):
// with trackEntityChanges(dataSource, { reload: false }) the rows' snapshots hold the parents' keys the
// follow-up UPDATE wrote, so a following bulkSave finds them unchanged. (A NOT NULL self-reference TypeORM
// itself refuses when it builds its metadata: CircularRelationsError.) A stream links a parent in the
// same batch; a later one it cannot know of when the row is written, and refuses.
import { createSchema } from '@cohort/pg-harness';
import { bulkInsert, bulkSave, trackEntityChanges, UnsupportedFeatureError } from '@cohort/typeorm';
import { Column, DataSource, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

@Entity('tree_node')
class TreeNode {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => TreeNode, { nullable: true })
  @JoinColumn({ name: 'parent_id' })
  parent!: TreeNode | null;
}

let ds: DataSource;
let drop: () => Promise<void>;

beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tstree');
  drop = schema.drop;
  ds = new DataSource({ type: 'postgres', url, schema: schema.name, entities: [TreeNode], synchronize: true });
  await ds.initialize();
  trackEntityChanges(ds, { reload: false });
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});

const node = (name: string, parent: TreeNode | null) => Object.assign(new TreeNode(), { name, parent });

describe('trees with trackEntityChanges({ reload: false })', () => {
  it('a following bulkSave of the same objects finds the linked rows unchanged', async () => {
    const parent = node('parent', null);
    const child = node('child', parent);
    const grand = node('grand', child);
    const rows = [grand, child, parent];
    expect(await bulkInsert(ds.manager, TreeNode, rows)).toMatchObject({ inserted: 3 });
    const stored = await ds.query(`SELECT name, parent_id FROM ${ds.getMetadata(TreeNode).tablePath} ORDER BY id`);
    expect(stored).toEqual([
      { name: 'grand', parent_id: child.id },
      { name: 'child', parent_id: parent.id },
      { name: 'parent', parent_id: null },
    ]);
    const again = await bulkSave(ds.manager, TreeNode, rows);
    // Every row carries a snapshot that stands in for it: no look-up; the linked rows are unchanged.
    // The root is written again, as save() writes a null many-to-one again after its own save.
    expect(again).toMatchObject({ inserted: 0, updated: 1, outcomes: ['unchanged', 'unchanged', 'updated'], statements: 1 });
  });
});

describe('a stream', () => {
  async function* streamOf(rows: TreeNode[]) {
    for (const row of rows) yield row;
  }

  it('links a parent in the same batch; one in a later batch is unknown when the row is written: refused', async () => {
    const table = ds.getMetadata(TreeNode).tablePath;
    await ds.query(`TRUNCATE ${table} RESTART IDENTITY`);
    const parent = node('parent', null);
    expect(await bulkInsert(ds.manager, TreeNode, streamOf([node('child', parent), parent]))).toMatchObject({ inserted: 2 });
    expect(
      await ds.query(
        `SELECT c.name, p.name AS parent FROM ${table} c LEFT JOIN ${table} p ON p.id = c.parent_id ORDER BY c.name`,
      ),
    ).toEqual([
      { name: 'child', parent: 'parent' },
      { name: 'parent', parent: null },
    ]);
    await ds.query(`TRUNCATE ${table} RESTART IDENTITY`);
    const later = node('later', null);
    const error = await bulkInsert(ds.manager, TreeNode, streamOf([node('child', later), later]), { batchSize: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'unsaved reference', entityName: 'TreeNode', property: 'parent', index: 0 });
    expect(await ds.query(`SELECT * FROM ${table}`)).toEqual([]);
  });
});
