// Batch subscribers and the one-to-many items a save removes (`orphanedRowAction: 'delete'`):
// save() gives per-entity subscribers beforeRemove / afterRemove per item without an entity, with
// the item's key as `entityId`; a subscriber with beforeBulkRemove / afterBulkRemove gets those
// items instead as one batch per items' class (BulkRemoveEvent with `orphans: true`, each item a
// plain object with its key properties), so an audit pipeline built on batch methods sees every
// deletion. The audit here has no soft-remove batch method: beforeSoftRemove per item (its batch
// method: soft-remove-batch-subscribers.test.ts).
// The oracle: the keys save() hands a per-entity subscriber.
import { createSchema } from '@cohort/pg-harness';
import { type BulkRemoveEvent, BulkValidationError, bulkRemove, bulkSave } from '@cohort/typeorm';
import {
  Column,
  DataSource,
  DeleteDateColumn,
  Entity,
  type EntityManager,
  type EntityMetadata,
  type EntitySubscriberInterface,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  VersionColumn,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('ob_holder')
class Holder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 8 }) name!: string;
  @OneToMany(
    () => Line,
    (line) => line.holder,
  )
  lines?: Line[];
  @OneToMany(
    () => Slot,
    (slot) => slot.holder,
  )
  slots?: Slot[];
  @OneToMany(
    () => Soft,
    (soft) => soft.holder,
  )
  softs?: Soft[];
}

@Entity('ob_line')
class Line {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'delete' }) holder?: Holder | null;
  @VersionColumn() version!: number;
}

@Entity('ob_slot')
class Slot {
  @PrimaryColumn({ type: 'integer' }) shelf!: number;
  @PrimaryColumn({ type: 'integer' }) place!: number;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'delete' }) holder?: Holder | null;
}

@Entity('ob_soft')
class Soft {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'soft-delete' }) holder?: Holder | null;
  @DeleteDateColumn({ type: 'timestamptz' }) deletedAt?: Date | null;
}

type Log = string[];
const events: Log = [];

/** What save() gives per-entity subscribers for the removed items: the item's key as `entityId`. */
const perEntity: EntitySubscriberInterface = {
  beforeRemove: (e) => void events.push(`beforeRemove ${e.metadata.name} ${JSON.stringify(e.entityId)}`),
  afterRemove: (e) => void events.push(`afterRemove ${e.metadata.name} ${JSON.stringify(e.entityId)}`),
  beforeSoftRemove: (e) => void events.push(`beforeSoftRemove ${e.metadata.name} ${JSON.stringify(e.entityId)}`),
  afterSoftRemove: (e) => void events.push(`afterSoftRemove ${e.metadata.name} ${JSON.stringify(e.entityId)}`),
};

interface Received {
  readonly method: string;
  readonly entity: string;
  readonly batch: number;
  readonly orphans: boolean;
  readonly entities: unknown[];
  readonly indices: number[];
  readonly plain: boolean;
  readonly transactional: boolean;
}
const received: Received[] = [];

type Event = BulkRemoveEvent<object, EntityMetadata, EntityManager>;

/** An audit pipeline on batch methods: one audit statement per batch, in the call's transaction. */
class Audit implements EntitySubscriberInterface {
  constructor(private readonly only?: () => unknown) {}
  listenTo() {
    return this.only?.() as never;
  }
  beforeBulkRemove(e: Event) {
    return this.record('beforeBulkRemove', e);
  }
  async afterBulkRemove(e: Event) {
    await this.record('afterBulkRemove', e);
    if (this.only) return;
    await e.manager.query('INSERT INTO ob_audit (entity, ids) SELECT $1, $2', [
      e.metadata.name,
      e.entities.map((item) => JSON.stringify(item)),
    ]);
  }
  // No batch method for soft removes: per item, as save() gives it.
  beforeSoftRemove(e: { metadata: EntityMetadata; entityId?: unknown }) {
    events.push(`audit beforeSoftRemove ${e.metadata.name} ${JSON.stringify(e.entityId)}`);
  }
  private record(method: string, e: Event) {
    events.push(`${this.only ? 'slots only' : 'audit'} ${method} ${e.metadata.name}`);
    received.push({
      method: `${this.only ? 'slots only ' : ''}${method}`,
      entity: e.metadata.name,
      batch: e.batch,
      orphans: e.orphans === true,
      entities: e.entities.map((item) => ({ ...item })),
      indices: [...e.indices],
      plain: e.entities.every((item) => Object.getPrototypeOf(item) === Object.prototype),
      transactional: e.manager.queryRunner?.isTransactionActive === true,
    });
  }
}
const audit = new Audit();
const slotsOnly = new Audit(() => Slot);

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tobs');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Holder, Line, Slot, Soft],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  await ds.query('CREATE TABLE ob_audit (id serial PRIMARY KEY, entity text NOT NULL, ids text[] NOT NULL)');
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query('TRUNCATE ob_holder, ob_line, ob_slot, ob_soft, ob_audit RESTART IDENTITY CASCADE');
  events.length = 0;
  received.length = 0;
  ds.subscribers.length = 0;
});

function make<T extends object>(cls: new () => T, data: Partial<T>): T {
  return Object.assign(new cls(), data);
}

/** h0 with lines l0–l2, slots (1,1) (1,2), softs s0 s1; h1 with l3 and slot (2,1). */
async function seed(): Promise<void> {
  const [h0, h1] = await ds.manager.save([make(Holder, { name: 'h0' }), make(Holder, { name: 'h1' })]);
  await ds.manager.save(['l0', 'l1', 'l2'].map((sku) => make(Line, { sku, holder: h0 })));
  await ds.manager.save([make(Line, { sku: 'l3', holder: h1 })]);
  await ds.manager.save([
    make(Slot, { shelf: 1, place: 1, holder: h0 }),
    make(Slot, { shelf: 1, place: 2, holder: h0 }),
    make(Slot, { shelf: 2, place: 1, holder: h1 }),
  ]);
  await ds.manager.save(['s0', 's1'].map((sku) => make(Soft, { sku, holder: h0 })));
}

/** h0 drops l1, l2, slot (1,2) and s1; h1 drops l3 and slot (2,1); a new h2 holds nothing. */
async function dropItems(): Promise<Holder[]> {
  const [h0, h1] = await ds.getRepository(Holder).find({
    relations: { lines: true, slots: true, softs: true },
    order: { id: 'ASC' },
  });
  const a = h0 as Holder;
  const b = h1 as Holder;
  a.lines = (a.lines ?? []).filter((l) => l.sku === 'l0');
  a.slots = (a.slots ?? []).filter((s) => s.place === 1);
  a.softs = (a.softs ?? []).filter((s) => s.sku === 's0');
  b.lines = [];
  b.slots = [];
  return [a, b, make(Holder, { name: 'h2' })];
}

const tables = async () => ({
  line: await ds.query('SELECT * FROM ob_line ORDER BY id'),
  slot: await ds.query('SELECT * FROM ob_slot ORDER BY shelf, place'),
  soft: await ds.query('SELECT id, sku, "holderId", "deletedAt" IS NOT NULL AS deleted FROM ob_soft ORDER BY id'),
});

/** save()'s per-entity remove events of one class and event, as their keys (`entityId`). */
const keysIn = (log: Log, event: string, entity: string) =>
  log.filter((e) => e.startsWith(`${event} ${entity} `)).map((e) => e.slice(event.length + entity.length + 2));

/** A batch item as the per-entity event's `entityId`: the value of a single key, the map of a composite one. */
const asEntityId = (item: unknown) => {
  const values = Object.values(item as object);
  return JSON.stringify(values.length === 1 ? values[0] : item);
};

async function theirs() {
  await seed();
  ds.subscribers.push(perEntity);
  await ds.manager.save(await dropItems());
  const log = [...events];
  const rows = await tables();
  ds.subscribers.length = 0;
  await ds.query('TRUNCATE ob_holder, ob_line, ob_slot, ob_soft, ob_audit RESTART IDENTITY CASCADE');
  events.length = 0;
  return { log, rows };
}

describe("batch subscribers and orphanedRowAction 'delete' / 'soft-delete'", () => {
  it('bulkSave: beforeBulkRemove / afterBulkRemove once per items class, with the keys save() hands per-entity subscribers; soft removes per item', async () => {
    const save = await theirs();
    await seed();
    ds.subscribers.push(perEntity, audit, slotsOnly);
    await bulkSave(ds, Holder, await dropItems());
    expect(await tables()).toEqual(save.rows);

    const bulk = received.filter((r) => !r.method.startsWith('slots only'));
    expect(bulk.map((r) => `${r.method} ${r.entity}`)).toEqual([
      'beforeBulkRemove Line',
      'beforeBulkRemove Slot',
      'afterBulkRemove Line',
      'afterBulkRemove Slot',
    ]);
    for (const r of bulk) {
      const before = r.method === 'beforeBulkRemove' ? 'beforeRemove' : 'afterRemove';
      expect(r.entities.map(asEntityId)).toEqual(keysIn(save.log, before, r.entity));
      expect(r).toMatchObject({ batch: 0, orphans: true, plain: true, transactional: true });
    }
    // Input index of the row that dropped each item: l1, l2 from h0 (0), l3 from h1 (1).
    expect(bulk[0]?.indices).toEqual([0, 0, 1]);
    expect(bulk[0]?.entities).toEqual([{ id: 2 }, { id: 3 }, { id: 4 }]);
    expect(bulk[1]?.entities).toEqual([
      { shelf: 1, place: 2 },
      { shelf: 2, place: 1 },
    ]);
    // listenTo() is honoured: the slots-only subscriber gets the slots' batches alone.
    expect(received.filter((r) => r.method.startsWith('slots only')).map((r) => `${r.method} ${r.entity}`)).toEqual([
      'slots only beforeBulkRemove Slot',
      'slots only afterBulkRemove Slot',
    ]);
    // Per-entity subscribers still get save()'s events; the batch subscribers' calls come after the
    // per-item ones for the same items, before the soft removes.
    expect(events.filter((e) => !e.includes('audit') && !e.includes('slots only'))).toEqual(save.log);
    expect(events.indexOf('audit beforeBulkRemove Line')).toBeGreaterThan(
      events.lastIndexOf(`beforeRemove Slot ${keysIn(save.log, 'beforeRemove', 'Slot').at(-1)}`),
    );
    expect(events.indexOf('audit beforeBulkRemove Slot')).toBeLessThan(events.findIndex((e) => e.startsWith('beforeSoftRemove')));
    // Soft removes: this subscriber has no soft-remove batch method, so per item as save() gives them.
    expect(keysIn(events, 'audit beforeSoftRemove', 'Soft')).toEqual(keysIn(save.log, 'beforeSoftRemove', 'Soft'));
    expect(keysIn(save.log, 'beforeSoftRemove', 'Soft')).toHaveLength(1);
    // What the audit wrote with the event's manager committed with the call.
    const audited = await ds.query('SELECT entity, ids FROM ob_audit ORDER BY id');
    expect(audited.map((r: { entity: string }) => r.entity)).toEqual(['Line', 'Slot']);
  });

  it('batchSize 1: one batch event per batch and class, numbered as the batch; every item once', async () => {
    const save = await theirs();
    await seed();
    ds.subscribers.push(audit);
    await bulkSave(ds, Holder, await dropItems(), { batchSize: 1 });
    expect(await tables()).toEqual(save.rows);
    const after = received.filter((r) => r.method === 'afterBulkRemove');
    expect(after.map((r) => [r.entity, r.batch])).toEqual([
      ['Line', 0],
      ['Slot', 0],
      ['Line', 1],
      ['Slot', 1],
    ]);
    for (const r of after) expect(r.indices.every((i) => i === r.batch)).toBe(true);
    for (const entity of ['Line', 'Slot'])
      expect(after.filter((r) => r.entity === entity).flatMap((r) => r.entities.map(asEntityId))).toEqual(
        keysIn(save.log, 'afterRemove', entity),
      );
  });

  it("a later batch fails: the earlier batch's orphans and the audit rows written with the event's manager roll back", async () => {
    await seed();
    ds.subscribers.push(audit);
    const rows = await dropItems();
    const before = await tables();
    (rows[2] as Holder).name = 'a name too long';
    const error = await bulkSave(ds, Holder, rows, { batchSize: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkValidationError);
    expect((error as BulkValidationError).failures).toMatchObject([{ index: 2, property: 'name' }]);
    // The first batch's orphans reached the audit (before and after its DELETE), then everything rolled back.
    expect(received.filter((r) => r.method === 'afterBulkRemove').map((r) => r.entity)).toEqual(['Line', 'Slot']);
    expect(await tables()).toEqual(before);
    expect(await ds.query('SELECT * FROM ob_audit')).toEqual([]);
  });

  it('bulkRemove: the remove batch carries the entities themselves, no `orphans`', async () => {
    await seed();
    ds.subscribers.push(audit);
    const lines = await ds.getRepository(Line).find({ order: { id: 'ASC' } });
    await bulkRemove(ds, Line, lines.slice(0, 2));
    const before = received.find((r) => r.method === 'beforeBulkRemove');
    expect(before).toMatchObject({ entity: 'Line', orphans: false, plain: false, indices: [0, 1] });
  });
});
