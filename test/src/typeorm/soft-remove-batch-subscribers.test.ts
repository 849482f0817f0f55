// Batch subscribers and soft removes (issue 22): a subscriber with beforeBulkSoftRemove /
// afterBulkSoftRemove gets each batch once instead of the per-entity beforeSoftRemove /
// afterSoftRemove — bulkSoftRemove's rows (the rows softRemove() fires its events for: before, the
// rows found; after, the rows soft-removed), and the one-to-many items a save soft-deletes
// (`orphanedRowAction: 'soft-delete'`) as an orphans batch of key objects. The oracle: the entities
// and keys softRemove() / save() hand a per-entity subscriber.
import { createSchema } from '@cohort/pg-harness';
import { type BulkRemoveEvent, bulkSave, bulkSoftRemove } from '@cohort/typeorm';
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
  type SoftRemoveEvent,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('sbs_doc')
class Doc {
  @PrimaryColumn('int') id!: number;
  @Column('varchar') title!: string;
  @DeleteDateColumn({ type: 'timestamptz' }) deletedAt?: Date | null;
}

@Entity('sbs_holder')
class Holder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 8 }) name!: string;
  @OneToMany(
    () => Soft,
    (soft) => soft.holder,
  )
  softs?: Soft[];
}

@Entity('sbs_soft')
class Soft {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) sku!: string;
  @ManyToOne(() => Holder, { nullable: true, orphanedRowAction: 'soft-delete' }) holder?: Holder | null;
  @DeleteDateColumn({ type: 'timestamptz' }) deletedAt?: Date | null;
}

const log: string[] = [];
const idOf = (e: SoftRemoveEvent<unknown>) => JSON.stringify((e.entity as { id?: number } | undefined)?.id ?? e.entityId);

/** What softRemove() / save() give per-entity subscribers. */
const perEntity: EntitySubscriberInterface = {
  beforeSoftRemove: (e) => void log.push(`beforeSoftRemove ${e.metadata.name} ${idOf(e)}`),
  afterSoftRemove: (e) => void log.push(`afterSoftRemove ${e.metadata.name} ${idOf(e)}`),
};

type Event = BulkRemoveEvent<object, EntityMetadata, EntityManager>;

/** An audit pipeline on batch methods; its per-entity methods must not be called for the same events. */
class Audit implements EntitySubscriberInterface {
  beforeBulkSoftRemove(e: Event) {
    this.record('beforeBulkSoftRemove', e);
  }
  async afterBulkSoftRemove(e: Event) {
    this.record('afterBulkSoftRemove', e);
    await e.manager.query('INSERT INTO sbs_audit (entity) VALUES ($1)', [e.metadata.name]);
  }
  beforeSoftRemove() {
    log.push('audit per-entity beforeSoftRemove');
  }
  private record(method: string, e: Event) {
    const ids = e.orphans
      ? e.entities.map((key) => JSON.stringify(key.id))
      : e.entities.map((doc) => JSON.stringify((doc as Doc).id));
    const plain = e.entities.every((item) => Object.getPrototypeOf(item) === Object.prototype);
    log.push(
      `audit ${method} ${e.metadata.name} [${ids.join(',')}] orphans=${e.orphans === true} plain=${plain} batch=${e.batch} indices=${e.indices.join(',')} tx=${e.manager.queryRunner?.isTransactionActive === true}`,
    );
  }
}

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'tsbs');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Doc, Holder, Soft],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  await ds.query('CREATE TABLE sbs_audit (id serial PRIMARY KEY, entity text NOT NULL)');
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query('TRUNCATE sbs_doc, sbs_holder, sbs_soft, sbs_audit RESTART IDENTITY CASCADE');
  log.length = 0;
  ds.subscribers.length = 0;
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);

/** Docs 1–3 stored; 9 is not. */
async function docs(): Promise<Doc[]> {
  await ds.query('TRUNCATE sbs_doc, sbs_audit');
  await ds.manager.save([1, 2, 3].map((id) => make(Doc, { id, title: `d${id}` })));
  return [1, 9, 3].map((id) => make(Doc, { id, title: `d${id}` }));
}

const docRows = () => ds.query('SELECT id, "deletedAt" IS NOT NULL AS deleted FROM sbs_doc ORDER BY id');
const idsIn = (lines: string[], prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => l.split(' ').at(-1));

describe('batch subscribers and soft removes', () => {
  it('bulkSoftRemove: beforeBulkSoftRemove with the rows found, afterBulkSoftRemove with the rows soft-removed, as softRemove() per entity', async () => {
    const rows = await docs();
    ds.subscribers.push(perEntity);
    await ds.manager.softRemove(rows);
    const theirs = [...log];
    const stored = await docRows();
    ds.subscribers.length = 0;
    log.length = 0;

    const again = await docs();
    ds.subscribers.push(perEntity, new Audit());
    await bulkSoftRemove(ds, Doc, again);
    expect(await docRows()).toEqual(stored);
    // Per-entity subscribers get what softRemove() gives them.
    expect(log.filter((l) => !l.startsWith('audit'))).toEqual(theirs);
    expect(idsIn(theirs, 'beforeSoftRemove Doc')).toEqual(['1', '3']);
    // The batch subscriber: one call per event, the same rows, none of its per-entity calls.
    const audit = log.filter((l) => l.startsWith('audit'));
    expect(audit).toEqual([
      'audit beforeBulkSoftRemove Doc [1,3] orphans=false plain=false batch=0 indices=0,2 tx=true',
      'audit afterBulkSoftRemove Doc [1,3] orphans=false plain=false batch=0 indices=0,2 tx=true',
    ]);
    expect(idsIn(theirs, 'afterSoftRemove Doc')).toEqual(['1', '3']);
    expect(await ds.query('SELECT entity FROM sbs_audit')).toEqual([{ entity: 'Doc' }]);
  });

  it("orphanedRowAction 'soft-delete': the items a save soft-deletes as one orphans batch of key objects", async () => {
    const seed = async () => {
      await ds.query('TRUNCATE sbs_holder, sbs_soft, sbs_audit RESTART IDENTITY CASCADE');
      const [h0, h1] = await ds.manager.save([make(Holder, { name: 'h0' }), make(Holder, { name: 'h1' })]);
      await ds.manager.save(['s0', 's1', 's2'].map((sku) => make(Soft, { sku, holder: h0 })));
      await ds.manager.save([make(Soft, { sku: 's3', holder: h1 })]);
      const holders = await ds.getRepository(Holder).find({ relations: { softs: true }, order: { id: 'ASC' } });
      (holders[0] as Holder).softs = (holders[0] as Holder).softs?.filter((s) => s.sku === 's0');
      (holders[1] as Holder).softs = [];
      return holders;
    };
    const softRows = () => ds.query('SELECT id, "holderId", "deletedAt" IS NOT NULL AS deleted FROM sbs_soft ORDER BY id');
    const input = await seed();
    ds.subscribers.push(perEntity);
    await ds.manager.save(input);
    const theirs = [...log];
    const stored = await softRows();
    ds.subscribers.length = 0;
    log.length = 0;

    const again = await seed();
    ds.subscribers.push(perEntity, new Audit());
    await bulkSave(ds, Holder, again);
    expect(await softRows()).toEqual(stored);
    expect(log.filter((l) => !l.startsWith('audit'))).toEqual(theirs);
    const keys = idsIn(theirs, 'beforeSoftRemove Soft');
    expect(keys).toEqual(['2', '3', '4']);
    expect(log.filter((l) => l.startsWith('audit'))).toEqual([
      `audit beforeBulkSoftRemove Soft [${keys.join(',')}] orphans=true plain=true batch=0 indices=0,0,1 tx=true`,
      `audit afterBulkSoftRemove Soft [${idsIn(theirs, 'afterSoftRemove Soft').join(',')}] orphans=true plain=true batch=0 indices=0,0,1 tx=true`,
    ]);
  });
});
