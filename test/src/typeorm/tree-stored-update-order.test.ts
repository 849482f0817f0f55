// The order of save()'s update events when one call updates stored rows and links a new tree of the
// same table (a new row whose parent is a new row: inserted with the join column NULL, then linked
// by an UPDATE). save() fires every afterUpdate in subject order — the input's — so a stored row's
// and a linked row's come interleaved; cohort fires them as one batch in input order.
// Differential: save() and cohort on equal inputs, the whole log of listeners and subscribers.
import { createSchema } from '@cohort/pg-harness';
import { bulkSave, type TypeormBulkUpdateEvent } from '@cohort/typeorm';
import {
  AfterInsert,
  AfterRemove,
  AfterUpdate,
  BeforeInsert,
  BeforeUpdate,
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  type InsertEvent,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type RemoveEvent,
  type UpdateEvent,
  VersionColumn,
} from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const log: string[] = [];

@Entity('tso_owner')
class Owner {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @AfterUpdate() afterUpdate() {
    log.push(`listener afterUpdate owner ${this.name}`);
  }
}

@Entity('tso_node')
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
  @ManyToOne(() => Owner, { nullable: true, cascade: ['update'] }) owner?: Owner | null;
  @VersionColumn() version!: number;
  @BeforeInsert() beforeInsert() {
    log.push(`listener beforeInsert ${this.name}`);
  }
  @AfterInsert() afterInsert() {
    log.push(`listener afterInsert ${this.name}`);
  }
  @BeforeUpdate() beforeUpdate() {
    log.push(`listener beforeUpdate ${this.name}`);
  }
  @AfterUpdate() afterUpdate() {
    log.push(`listener afterUpdate ${this.name} v${this.version}`);
  }
  @AfterRemove() afterRemove() {
    log.push(`listener afterRemove ${this.name}`);
  }
}

@Entity('tso_line')
class Line {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Node, { nullable: true, orphanedRowAction: 'delete' }) node?: Node | null;
}

type Named = { name?: string; sku?: string } | undefined;
const nameOf = (entity: unknown) => {
  const e = entity as Named;
  return e?.name ?? e?.sku ?? '-';
};

/** Every before- and after-event save() broadcasts, with the class and what identifies the row. */
const subscriber: EntitySubscriberInterface = {
  beforeInsert: (e: InsertEvent<unknown>) => void log.push(`beforeInsert ${e.metadata.name} ${nameOf(e.entity)}`),
  afterInsert: (e: InsertEvent<unknown>) => void log.push(`afterInsert ${e.metadata.name} ${nameOf(e.entity)}`),
  beforeUpdate: (e: UpdateEvent<unknown>) => void log.push(`beforeUpdate ${e.metadata.name} ${nameOf(e.entity)}`),
  afterUpdate: (e: UpdateEvent<unknown>) =>
    void log.push(
      `afterUpdate ${e.metadata.name} ${nameOf(e.entity)}${e.databaseEntity ? ' stored' : e.entity ? ' linked' : ''}`,
    ),
  beforeRemove: (e: RemoveEvent<unknown>) =>
    void log.push(`beforeRemove ${e.metadata.name} ${nameOf(e.entity)} ${JSON.stringify(e.entityId)}`),
  afterRemove: (e: RemoveEvent<unknown>) =>
    void log.push(`afterRemove ${e.metadata.name} ${nameOf(e.entity)} ${JSON.stringify(e.entityId)}`),
};

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'ttso');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Node, Line, Owner],
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

/** Stored s0, s1, s2; s1 holds lines k0, k1; k2 is held by nothing. */
async function seed(): Promise<void> {
  await ds.query('TRUNCATE tso_node, tso_line, tso_owner RESTART IDENTITY CASCADE');
  const o0 = await ds.manager.save(make(Owner, { name: 'o0' }));
  const [, s1] = await ds.manager.save(['s0', 's1', 's2'].map((name) => make(Node, { name, parent: null, owner: o0 })));
  await ds.manager.save([make(Line, { sku: 'k0', node: s1 }), make(Line, { sku: 'k1', node: s1 }), make(Line, { sku: 'k2' })]);
}

const stored = async (name: string, owner = false) =>
  (await ds.getRepository(Node).findOne({ where: { name }, relations: { lines: true, owner } })) as Node;

/**
 * Stored rows (renamed) between new rows: c1 before its parent p1, c2 after its parent p2; with
 * `items`, s1 keeps k0, drops k1 (deleted) and takes k2; with `owner`, s1's stored owner is renamed
 * (save() updates it with the rows: cascade update).
 */
async function mixedInput(items: boolean, owner = false): Promise<Node[]> {
  const [s0, s1, s2] = [await stored('s0'), await stored('s1', owner), await stored('s2')];
  for (const s of [s0, s1, s2]) s.name = `${s.name}x`;
  if (s1.owner) s1.owner.name = 'o0x';
  if (items) {
    const k2 = (await ds.getRepository(Line).findOneBy({ sku: 'k2' })) as Line;
    s1.lines = [...(s1.lines ?? []).filter((l) => l.sku === 'k0'), k2];
  } else delete s1.lines;
  for (const s of [s0, s2]) delete s.lines;
  const p1 = make(Node, { name: 'p1', parent: null });
  const p2 = make(Node, { name: 'p2', parent: null });
  return [make(Node, { name: 'c1', parent: p1 }), s0, p1, s1, p2, make(Node, { name: 'c2', parent: p2 }), s2];
}

const tables = async () => ({
  node: await ds.query('SELECT id, name, parent_id, version FROM tso_node ORDER BY name'),
  line: await ds.query('SELECT sku, "nodeId" FROM tso_line ORDER BY sku'),
});

async function run(items: boolean, write: (rows: Node[]) => Promise<unknown>, listener: object = subscriber, owner = false) {
  await seed();
  const rows = await mixedInput(items, owner);
  log.length = 0;
  ds.subscribers.push(listener as EntitySubscriberInterface);
  try {
    await write(rows);
  } finally {
    ds.subscribers.length = 0;
  }
  // Ids differ when the keys are given in a different order: the rows compared by name and parent name.
  const node = (await tables()).node as { id: number; name: string; parent_id: number | null; version: number }[];
  const byId = new Map(node.map((n) => [n.id, n.name]));
  const rows2 = node.map((n) => ({ name: n.name, parent: n.parent_id && byId.get(n.parent_id), version: n.version }));
  return { log: [...log], rows: { node: rows2, line: (await tables()).line } };
}

const updates = (entries: string[]) => entries.filter((e) => e.startsWith('afterUpdate'));

describe('stored rows and a new tree in one bulkSave: afterUpdate in input order, as save()', () => {
  for (const items of [false, true]) {
    const what = items ? 'with one-to-many items taken and dropped' : 'without items';
    it(`one batch, ${what}`, async () => {
      const own = await run(items, (rows) => ds.manager.save(rows));
      // save()'s order: the stored rows' and the linked rows' afterUpdate as the input gives them.
      expect(updates(own.log)).toEqual([
        'afterUpdate Node c1 linked',
        'afterUpdate Node s0x stored',
        'afterUpdate Node s1x stored',
        'afterUpdate Node c2 linked',
        'afterUpdate Node s2x stored',
        ...(items ? ['afterUpdate Line -'] : []),
      ]);
      const cohort = await run(items, (rows) => bulkSave(ds.manager, Node, rows));
      expect(cohort.rows).toEqual(own.rows);
      expect(cohort.log).toEqual(own.log);
    });
  }

  // A batch of one row: each batch's events before the next batch's. c1's parent p1 comes in a later
  // batch, whose UPDATE links c1 (its afterUpdate there); c2's parent p2 has its key by c2's batch, so
  // c2's INSERT writes it (no UPDATE, no update events), as save()'s chunk of one.
  for (const items of [false, true]) {
    const what = items ? 'with one-to-many items taken and dropped' : 'without items';
    it(`batchSize 1, ${what}: batch by batch`, async () => {
      const own = await run(items, (rows) => ds.manager.save(rows));
      const cohort = await run(items, (rows) => bulkSave(ds.manager, Node, rows, { batchSize: 1 }));
      const shape = (r: typeof own.rows) => ({ node: r.node.map(({ name, parent }) => ({ name, parent })), line: r.line });
      expect(shape(cohort.rows)).toEqual(shape(own.rows));
      expect(cohort.rows.node.find((n: { name: string }) => n.name === 'c2')).toMatchObject({ version: 1 });
      expect(updates(cohort.log)).toEqual([
        'afterUpdate Node s0x stored',
        'afterUpdate Node c1 linked',
        'afterUpdate Node s1x stored',
        ...(items ? ['afterUpdate Line -'] : []),
        'afterUpdate Node s2x stored',
      ]);
      // Every update event of a batch before its removes, and before the next batch's inserts.
      const at = (e: string) => cohort.log.indexOf(e);
      if (items) expect(at('afterUpdate Line -')).toBeLessThan(cohort.log.findIndex((e) => e.startsWith('afterRemove Line')));
      if (items)
        expect(cohort.log.filter((e) => e.startsWith('afterRemove'))).toEqual(own.log.filter((e) => e.startsWith('afterRemove')));
      expect(at('afterUpdate Node c1 linked')).toBeLessThan(at('beforeUpdate Node s1x'));
    });
  }

  it('a batch subscriber: one afterBulkUpdate with the stored and the linked rows, in input order', async () => {
    const bulk: string[] = [];
    const batchWise = {
      beforeBulkUpdate: (e: TypeormBulkUpdateEvent<Node>) => {
        if (!e.foreignKeys) bulk.push(`beforeBulkUpdate ${e.entities.map((n) => n.name).join(' ')}`);
      },
      afterBulkUpdate: (e: TypeormBulkUpdateEvent<Node>) => {
        if (e.foreignKeys) return;
        bulk.push(`afterBulkUpdate ${e.entities.map((n, i) => `${n.name}:${e.changes[i]?.properties.join(',')}`).join(' ')}`);
      },
    };
    await run(true, (rows) => bulkSave(ds.manager, Node, rows), batchWise);
    // The linked rows have no beforeUpdate (as save()'s: they become update subjects after its before-events).
    expect(bulk).toEqual(['beforeBulkUpdate s0x s1x s2x', 'afterBulkUpdate c1:parent s0x:name s1x:name c2:parent s2x:name']);
  });

  it('with a changed related entity (cascade update): the rows’ afterUpdate in input order, then the related class’s', async () => {
    const own = await run(false, (rows) => ds.manager.save(rows), subscriber, true);
    expect(updates(own.log)).toEqual([
      'afterUpdate Node c1 linked',
      'afterUpdate Node s0x stored',
      'afterUpdate Node s1x stored',
      'afterUpdate Node c2 linked',
      'afterUpdate Node s2x stored',
      'afterUpdate Owner o0x stored',
    ]);
    const cohort = await run(false, (rows) => bulkSave(ds.manager, Node, rows), subscriber, true);
    expect(cohort.rows).toEqual(own.rows);
    expect(await ds.query('SELECT name FROM tso_owner')).toEqual([{ name: 'o0x' }]);
    expect(cohort.log).toEqual(own.log);
  });
});
