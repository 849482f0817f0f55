// Issue 22: the order of save()'s after-events when one batch links a tree (a new row whose parent is
// a new row after it, linked by a follow-up UPDATE) and also writes stored one-to-many items (a
// foreign key set, an orphan deleted) and removes junction rows. save() fires its after-events grouped
// by kind — every afterInsert, then every afterUpdate in subject order (the rows, the tree's linked
// rows among them, before the items the one-to-many builder adds), then every afterRemove (orphans,
// then junction rows) — so the tree's afterUpdate comes before the items' and before any remove;
// the same for a tree among the related entities a stored row's cascade inserts (bulkUpdate).
// Differential: save() and cohort on equal inputs, the whole log of listeners and subscribers.
import { createSchema } from '@cohort/pg-harness';
import { bulkInsert, bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  AfterInsert,
  AfterRemove,
  AfterUpdate,
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  type InsertEvent,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type RemoveEvent,
  type UpdateEvent,
  VersionColumn,
} from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const log: string[] = [];

@Entity('teo_tag')
class Tag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) label!: string;
}

@Entity('teo_node')
class Node {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => Node, { nullable: true })
  @JoinColumn({ name: 'parent_id' })
  parent?: Node | null;
  @OneToMany(
    () => Line,
    (line) => line.node,
  )
  lines?: Line[];
  @ManyToMany(() => Tag)
  @JoinTable({ name: 'teo_node_tag' })
  tags?: Tag[];
  @VersionColumn() version!: number;
  @AfterInsert() afterInsert() {
    log.push(`listener afterInsert ${this.name}`);
  }
  @AfterUpdate() afterUpdate() {
    log.push(`listener afterUpdate ${this.name}`);
  }
  @AfterRemove() afterRemove() {
    log.push(`listener afterRemove ${this.name}`);
  }
}

@Entity('teo_line')
class Line {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Node, { nullable: true, orphanedRowAction: 'delete' }) node?: Node | null;
  @AfterUpdate() afterUpdate() {
    log.push(`listener afterUpdate line ${this.sku}`);
  }
}

// A tree among related entities: a post's new author whose new mentor is an author too.
@Entity('teo_writer')
class Writer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => Writer, { nullable: true, cascade: ['insert'] }) mentor?: Writer | null;
}

@Entity('teo_post')
class Post {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => Writer, { nullable: true, cascade: ['insert'] }) author?: Writer | null;
  @OneToMany(
    () => PostLine,
    (line) => line.post,
  )
  lines?: PostLine[];
}

@Entity('teo_post_line')
class PostLine {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Post, { nullable: true, orphanedRowAction: 'delete' }) post?: Post | null;
}

type Named = { name?: string; sku?: string; label?: string } | undefined;
const nameOf = (entity: unknown) => {
  const e = entity as Named;
  return e?.name ?? e?.sku ?? e?.label ?? '-';
};

/** Every before- and after-event save() broadcasts, with the class and what identifies the row. */
const subscriber: EntitySubscriberInterface = {
  beforeInsert: (e: InsertEvent<unknown>) => void log.push(`beforeInsert ${e.metadata.name} ${nameOf(e.entity)}`),
  afterInsert: (e: InsertEvent<unknown>) => void log.push(`afterInsert ${e.metadata.name} ${nameOf(e.entity)}`),
  beforeUpdate: (e: UpdateEvent<unknown>) => void log.push(`beforeUpdate ${e.metadata.name} ${nameOf(e.entity)}`),
  afterUpdate: (e: UpdateEvent<unknown>) => void log.push(`afterUpdate ${e.metadata.name} ${nameOf(e.entity)}`),
  beforeRemove: (e: RemoveEvent<unknown>) =>
    void log.push(`beforeRemove ${e.metadata.name} ${nameOf(e.entity)} ${JSON.stringify(e.entityId)}`),
  afterRemove: (e: RemoveEvent<unknown>) =>
    void log.push(`afterRemove ${e.metadata.name} ${nameOf(e.entity)} ${JSON.stringify(e.entityId)}`),
};

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tteo');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Node, Line, Tag, Writer, Post, PostLine],
    subscribers: [],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);

/** n0 holds lines l0, l1 and tags t0, t1; l2 is held by nothing. */
async function seed(): Promise<void> {
  await ds.query('TRUNCATE teo_node, teo_line, teo_tag, teo_node_tag RESTART IDENTITY CASCADE');
  const [t0, t1] = await ds.manager.save([make(Tag, { label: 't0' }), make(Tag, { label: 't1' })]);
  const n0 = await ds.manager.save(make(Node, { name: 'n0', parent: null, tags: [t0 as Tag, t1 as Tag] }));
  await ds.manager.save([make(Line, { sku: 'l0', node: n0 }), make(Line, { sku: 'l1', node: n0 }), make(Line, { sku: 'l2' })]);
}

const tables = async () => ({
  node: await ds.query('SELECT id, name, parent_id, version FROM teo_node ORDER BY id'),
  line: await ds.query('SELECT id, sku, "nodeId" FROM teo_line ORDER BY id'),
  tag: await ds.query('SELECT * FROM teo_node_tag ORDER BY 1, 2'),
});

/**
 * A save of n0 (renamed; keeps l0, takes l2, drops l1 — deleted —, drops tag t1) and a new tree
 * whose child comes before its parent: the child's parent is linked by an UPDATE after the inserts.
 */
async function saveInput(): Promise<Node[]> {
  const n0 = (await ds.getRepository(Node).findOne({ where: { name: 'n0' }, relations: { lines: true, tags: true } })) as Node;
  const l2 = (await ds.getRepository(Line).findOneBy({ sku: 'l2' })) as Line;
  n0.name = 'n0x';
  n0.lines = [...(n0.lines ?? []).filter((l) => l.sku === 'l0'), l2];
  n0.tags = (n0.tags ?? []).filter((t) => t.label === 't0');
  const parent = make(Node, { name: 'parent', parent: null });
  return [n0, make(Node, { name: 'child', parent }), parent];
}

/** New rows only: a child (before its parent) that takes the stored l2. */
async function insertInput(): Promise<Node[]> {
  const l2 = (await ds.getRepository(Line).findOneBy({ sku: 'l2' })) as Line;
  const parent = make(Node, { name: 'parent', parent: null });
  return [make(Node, { name: 'child', parent, lines: [l2] }), parent];
}

async function run(input: () => Promise<Node[]>, write: (rows: Node[]) => Promise<unknown>) {
  await seed();
  const rows = await input();
  log.length = 0;
  ds.subscribers.push(subscriber);
  try {
    await write(rows);
  } finally {
    ds.subscribers.length = 0;
  }
  return { log: [...log], rows: await tables() };
}

/** A stored post (lines x0, x1) renamed, given a new author whose new mentor comes with it, dropping x1. */
async function updateInput(): Promise<Post[]> {
  await ds.query('TRUNCATE teo_post, teo_post_line, teo_writer RESTART IDENTITY CASCADE');
  const stored = await ds.manager.save(make(Post, { name: 'p0', author: null }));
  await ds.manager.save([make(PostLine, { sku: 'x0', post: stored }), make(PostLine, { sku: 'x1', post: stored })]);
  const post = (await ds.getRepository(Post).findOne({ where: { id: stored.id }, relations: { lines: true } })) as Post;
  post.name = 'p0x';
  post.author = make(Writer, { name: 'ann', mentor: make(Writer, { name: 'old', mentor: null }) });
  post.lines = (post.lines ?? []).filter((l) => l.sku === 'x0');
  return [post];
}

const postTables = async () => ({
  writer: await ds.query('SELECT id, name, "mentorId" FROM teo_writer ORDER BY id'),
  post: await ds.query('SELECT id, name, "authorId" FROM teo_post ORDER BY id'),
  line: await ds.query('SELECT id, sku, "postId" FROM teo_post_line ORDER BY id'),
});

async function runPosts(write: (rows: Post[]) => Promise<unknown>) {
  const rows = await updateInput();
  log.length = 0;
  ds.subscribers.push(subscriber);
  try {
    await write(rows);
  } finally {
    ds.subscribers.length = 0;
  }
  return { log: [...log], rows: await postTables() };
}

describe('a tree and one-to-many items in one batch: after-events in save()’s order', () => {
  it('bulkSave: the tree’s afterUpdate with the rows’ updates, before the items’ updates and every remove', async () => {
    const own = await run(saveInput, (rows) => ds.manager.save(rows));
    const cohort = await run(saveInput, (rows) => bulkSave(ds.manager, Node, rows));
    expect(cohort.rows).toEqual(own.rows);
    expect(own.rows.line).toEqual([
      { id: 1, sku: 'l0', nodeId: 1 },
      { id: 3, sku: 'l2', nodeId: 1 },
    ]);
    const after = own.log.filter((e) => e.includes('after'));
    // The oracle's shape: updates (rows, the tree's child, the item) before removes (orphan, junction).
    expect(after.filter((e) => !e.startsWith('listener'))).toEqual([
      'afterInsert Node child',
      'afterInsert Node parent',
      'afterUpdate Node n0x',
      'afterUpdate Node child',
      'afterUpdate Line -',
      'afterRemove Line - 2',
      'afterRemove teo_node_tag - {"teoNodeId":1,"teoTagId":2}',
    ]);
    expect(cohort.log).toEqual(own.log);
  });

  it('bulkInsert: the tree’s afterUpdate before the afterUpdate of the item the new row takes', async () => {
    const own = await run(insertInput, (rows) => ds.manager.save(rows));
    const cohort = await run(insertInput, (rows) => bulkInsert(ds.manager, Node, rows));
    expect(cohort.rows).toEqual(own.rows);
    expect(own.log.filter((e) => e.startsWith('afterUpdate'))).toEqual(['afterUpdate Node child', 'afterUpdate Line -']);
    expect(cohort.log).toEqual(own.log);
  });

  it('bulkUpdate: a related class’s tree’s afterUpdate before the orphan’s afterRemove', async () => {
    const own = await runPosts((rows) => ds.manager.save(rows));
    expect(own.log.filter((e) => e.startsWith('after'))).toEqual([
      'afterInsert Writer ann',
      'afterInsert Writer old',
      'afterUpdate Post p0x',
      'afterUpdate Writer ann',
      'afterRemove PostLine - 2',
    ]);
    const cohort = await runPosts((rows) => bulkUpdate(ds.manager, Post, rows));
    expect(cohort.rows).toEqual(own.rows);
    expect(cohort.log).toEqual(own.log);
  });
});
