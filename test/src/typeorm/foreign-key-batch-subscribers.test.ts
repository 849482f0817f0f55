// Batch subscribers and the foreign-key UPDATEs of stored one-to-many items a save adds to or drops
// from a loaded collection (issue 22): save() gives per-entity subscribers beforeUpdate / afterUpdate
// per item, without an entity (a subject known by its key); a subscriber with beforeBulkUpdate /
// afterBulkUpdate gets those items instead as one batch per items' class (a BulkUpdateEvent with
// `foreignKeys: true`: each item a plain object with its key properties, the relation and its join
// columns as the change, the columns' new values), so an audit pipeline on batch methods sees them.
// The oracle: save()'s rows and its per-entity events (their number and order per class).
import { createSchema } from '@cohort/pg-harness';
import { type BulkUpdateEvent, bulkSave, type ForeignKeyUpdateEvent } from '@cohort/typeorm';
import {
  Column,
  DataSource,
  Entity,
  type EntityManager,
  type EntityMetadata,
  type EntitySubscriberInterface,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type UpdateEvent,
  VersionColumn,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('fkb_holder')
class Holder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 8 }) name!: string;
  @OneToMany(
    () => Item,
    (item) => item.holder,
  )
  items?: Item[];
  @OneToMany(
    () => Line,
    (line) => line.holder,
  )
  lines?: Line[];
}

@Entity('fkb_item')
class Item {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true }) holder?: Holder | null;
  @VersionColumn() version!: number;
}

@Entity('fkb_line')
class Line {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'delete' }) holder?: Holder | null;
}

const events: string[] = [];

/** What save() gives per-entity subscribers for the items: an update event without an entity. */
const perEntity: EntitySubscriberInterface = {
  beforeUpdate: (e: UpdateEvent<unknown>) => void events.push(`beforeUpdate ${e.metadata.name} ${e.entity === undefined}`),
  afterUpdate: (e: UpdateEvent<unknown>) => void events.push(`afterUpdate ${e.metadata.name} ${e.entity === undefined}`),
  afterRemove: (e) => void events.push(`afterRemove ${e.metadata.name} ${JSON.stringify(e.entityId)}`),
};

type Event = BulkUpdateEvent<object, EntityMetadata, EntityManager>;
interface Received {
  readonly method: string;
  readonly entity: string;
  readonly batch: number;
  readonly entities: unknown[];
  readonly indices: number[];
  readonly changes: unknown[];
  readonly values: unknown[];
  readonly plain: boolean;
  readonly transactional: boolean;
}
const received: Received[] = [];

/** An audit pipeline on batch methods, writing one audit statement per batch in the call's transaction. */
class Audit implements EntitySubscriberInterface {
  constructor(private readonly only?: () => unknown) {}
  listenTo() {
    return this.only?.() as never;
  }
  beforeBulkUpdate(e: Event) {
    if (e.foreignKeys) this.record('beforeBulkUpdate', e);
  }
  async afterBulkUpdate(e: Event) {
    if (!e.foreignKeys) return;
    this.record('afterBulkUpdate', e);
    if (this.only) return;
    await e.manager.query('INSERT INTO fkb_audit (entity, ids) SELECT $1, $2', [
      e.metadata.name,
      e.entities.map((item) => JSON.stringify(item)),
    ]);
  }
  afterBulkRemove(e: { metadata: EntityMetadata }) {
    events.push(`${this.only ? 'lines only' : 'audit'} afterBulkRemove ${e.metadata.name}`);
  }
  private record(method: string, e: ForeignKeyUpdateEvent<EntityMetadata, EntityManager>) {
    events.push(`${this.only ? 'lines only' : 'audit'} ${method} ${e.metadata.name}`);
    received.push({
      method: `${this.only ? 'lines only ' : ''}${method}`,
      entity: e.metadata.name,
      batch: e.batch,
      entities: e.entities.map((item) => ({ ...item })),
      indices: [...e.indices],
      changes: e.changes.map((c) => ({ ...c })),
      values: e.values.map((v) => ({ ...v })),
      plain: e.entities.every((item) => Object.getPrototypeOf(item) === Object.prototype),
      transactional: e.manager.queryRunner?.isTransactionActive === true,
    });
  }
}
const audit = new Audit();
const linesOnly = new Audit(() => Line);

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tfkb');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Holder, Item, Line],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  await ds.query('CREATE TABLE fkb_audit (id serial PRIMARY KEY, entity text NOT NULL, ids text[] NOT NULL)');
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query('TRUNCATE fkb_holder, fkb_item, fkb_line, fkb_audit RESTART IDENTITY CASCADE');
  events.length = 0;
  received.length = 0;
  ds.subscribers.length = 0;
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);

/** h0 holds items i0 i1 and line l0; h1 holds i2; i3 and l1 are held by nothing. */
async function seed(): Promise<void> {
  const [h0, h1] = await ds.manager.save([make(Holder, { name: 'h0' }), make(Holder, { name: 'h1' })]);
  await ds.manager.save([
    make(Item, { sku: 'i0', holder: h0 }),
    make(Item, { sku: 'i1', holder: h0 }),
    make(Item, { sku: 'i2', holder: h1 }),
    make(Item, { sku: 'i3', holder: null }),
  ]);
  await ds.manager.save([make(Line, { sku: 'l0', holder: h0 }), make(Line, { sku: 'l1', holder: null })]);
}

/** h0 drops i1 (cleared), takes i3 and l1, drops l0 (deleted); h1 drops i2 (cleared). */
async function change(): Promise<Holder[]> {
  const [h0, h1] = await ds.getRepository(Holder).find({ relations: { items: true, lines: true }, order: { id: 'ASC' } });
  const i3 = (await ds.getRepository(Item).findOneBy({ sku: 'i3' })) as Item;
  const l1 = (await ds.getRepository(Line).findOneBy({ sku: 'l1' })) as Line;
  const a = h0 as Holder;
  const b = h1 as Holder;
  a.items = [...(a.items ?? []).filter((i) => i.sku === 'i0'), i3];
  a.lines = [l1];
  b.items = [];
  return [a, b];
}

const tables = async () => ({
  item: await ds.query('SELECT id, sku, "holderId", version FROM fkb_item ORDER BY id'),
  line: await ds.query('SELECT id, sku, "holderId" FROM fkb_line ORDER BY id'),
});

async function theirs() {
  await seed();
  ds.subscribers.push(perEntity);
  await ds.manager.save(await change());
  const log = [...events];
  const rows = await tables();
  ds.subscribers.length = 0;
  await ds.query('TRUNCATE fkb_holder, fkb_item, fkb_line, fkb_audit RESTART IDENTITY CASCADE');
  events.length = 0;
  return { log, rows };
}

describe('batch subscribers and the foreign keys of one-to-many items', () => {
  it('bulkSave: beforeBulkUpdate / afterBulkUpdate once per items class with `foreignKeys`, one entry per update save() fires', async () => {
    const save = await theirs();
    await seed();
    ds.subscribers.push(perEntity, audit, linesOnly);
    await bulkSave(ds, Holder, await change());
    expect(await tables()).toEqual(save.rows);
    // Per-entity subscribers get what save() gives them, unchanged.
    expect(events.filter((e) => !e.startsWith('audit') && !e.startsWith('lines only'))).toEqual(save.log);

    const bulk = received.filter((r) => !r.method.startsWith('lines only'));
    expect(bulk.map((r) => `${r.method} ${r.entity}`)).toEqual([
      'beforeBulkUpdate Item',
      'beforeBulkUpdate Line',
      'afterBulkUpdate Item',
      'afterBulkUpdate Line',
    ]);
    for (const r of bulk) {
      const perItem = r.method === 'beforeBulkUpdate' ? 'beforeUpdate' : 'afterUpdate';
      // As many entries as save() fires per-item events for the class.
      expect(r.entities).toHaveLength(save.log.filter((e) => e === `${perItem} ${r.entity} true`).length);
      expect(r).toMatchObject({ batch: 0, plain: true, transactional: true });
    }
    // Items: i3 set to h0, i1 cleared (row 0), i2 cleared (row 1); the line l1 set to h0.
    expect(bulk[0]).toMatchObject({
      entities: [{ id: 4 }, { id: 2 }, { id: 3 }],
      indices: [0, 0, 1],
      values: [{ holderId: 1 }, { holderId: null }, { holderId: null }],
    });
    expect(bulk[0]?.changes).toEqual([
      { properties: ['holder'], before: {}, columns: ['holderId'] },
      { properties: ['holder'], before: {}, columns: ['holderId'] },
      { properties: ['holder'], before: {}, columns: ['holderId'] },
    ]);
    expect(bulk[1]).toMatchObject({ entities: [{ id: 2 }], indices: [0], values: [{ holderId: 1 }] });
    // The values are what the rows hold now.
    const items = new Map((save.rows.item as { id: number; holderId: number | null }[]).map((r) => [r.id, r.holderId]));
    const afterItems = bulk[2] as Received;
    const stored = (afterItems.entities as { id: number }[]).map((key) => ({ holderId: items.get(key.id) }));
    expect(afterItems.values).toEqual(stored);
    // listenTo() is honoured.
    expect(received.filter((r) => r.method.startsWith('lines only')).map((r) => `${r.method} ${r.entity}`)).toEqual([
      'lines only beforeBulkUpdate Line',
      'lines only afterBulkUpdate Line',
    ]);
    // Batch calls after the per-item calls of the same event, the updates before the orphans' removes.
    expect(events.indexOf('audit afterBulkUpdate Item')).toBeGreaterThan(events.lastIndexOf('afterUpdate Line true'));
    expect(events.indexOf('audit afterBulkUpdate Line')).toBeLessThan(events.indexOf('audit afterBulkRemove Line'));
    // What the audit wrote with the event's manager committed with the call.
    const audited = await ds.query('SELECT entity FROM fkb_audit ORDER BY id');
    expect(audited.map((r: { entity: string }) => r.entity)).toEqual(['Item', 'Line']);
  });

  it('batchSize 1: one batch event per batch and class, numbered as the batch', async () => {
    const save = await theirs();
    await seed();
    ds.subscribers.push(audit);
    await bulkSave(ds, Holder, await change(), { batchSize: 1 });
    expect(await tables()).toEqual(save.rows);
    const after = received.filter((r) => r.method === 'afterBulkUpdate');
    expect(after.map((r) => [r.entity, r.batch, r.indices])).toEqual([
      ['Item', 0, [0, 0]],
      ['Line', 0, [0]],
      ['Item', 1, [1]],
    ]);
  });
});
