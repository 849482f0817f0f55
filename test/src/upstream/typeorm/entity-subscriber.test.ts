// Scenarios from TypeORM's own tests of entity subscribers (test/functional/entity-subscriber:
// update-columns, query-data, transaction-flow): what a subscriber sees of a write — event.entity,
// updatedColumns, databaseEntity, queryRunner.data, entityId, the transaction events — with save()
// as the reference and cohort's bulkSave / bulkInsert / bulkUpdate as the subject.
import { BulkHookError, bulkInsert, bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type TransactionStartEvent,
  type UpdateEvent,
} from 'typeorm';
import { expect, it } from 'vitest';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

/** As upstream's update-columns Post: flags a subscriber sets on event.entity, not columns. */
@Entity('uta_es_flagged')
class Flagged {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar' }) title!: string;
  inserted = false;
  updated = false;
}

/** As upstream's query-data Example: a counter with a class-field default. */
@Entity('uta_es_counter')
class Counter {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) value: number = 0;
  @Column({ type: 'varchar', nullable: true }) label!: string | null;
}

/** Rows the audit subscriber writes with the event's manager, in the write's transaction. */
@Entity('uta_es_audit')
class AuditRow {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) action!: string;
  @Column({ type: 'integer' }) counterId!: number;
}

/** An entity no subscriber of this file listens to. */
@Entity('uta_es_unheard')
class Unheard {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
}

/** When set, the Counter subscriber throws in beforeUpdate for this label. */
let failOnLabel: string | undefined;

@EventSubscriber()
class FlagSubscriber implements EntitySubscriberInterface<Flagged> {
  listenTo() {
    return Flagged;
  }
  beforeInsert(event: InsertEvent<Flagged>) {
    event.entity.inserted = true;
  }
  beforeUpdate(event: UpdateEvent<Flagged>) {
    if (event.entity) (event.entity as Flagged).updated = true;
  }
}

@EventSubscriber()
class CounterSubscriber implements EntitySubscriberInterface<Counter> {
  listenTo() {
    return Counter;
  }
  beforeInsert(event: InsertEvent<Counter>) {
    journal.record('beforeInsert', { entity: { ...event.entity }, data: event.queryRunner.data });
  }
  async afterInsert(event: InsertEvent<Counter>) {
    journal.record('afterInsert', {
      entity: { ...event.entity },
      entityId: event.entityId,
      data: event.queryRunner.data,
      inTransaction: event.queryRunner.isTransactionActive,
    });
    await event.manager.insert(AuditRow, { action: 'insert', counterId: event.entity.id });
  }
  beforeUpdate(event: UpdateEvent<Counter>) {
    if (failOnLabel !== undefined && event.entity?.label === failOnLabel) throw new Error(`refusing ${failOnLabel}`);
    journal.record('beforeUpdate', {
      entity: { ...event.entity },
      databaseEntity: event.databaseEntity ? { ...event.databaseEntity } : event.databaseEntity,
      updatedColumns: event.updatedColumns.map((c) => c.propertyName),
      updatedRelations: event.updatedRelations.map((r) => r.propertyName),
      data: event.queryRunner.data,
    });
  }
  async afterUpdate(event: UpdateEvent<Counter>) {
    journal.record('afterUpdate', {
      entity: { ...event.entity },
      databaseEntity: event.databaseEntity ? { ...event.databaseEntity } : event.databaseEntity,
      updatedColumns: event.updatedColumns.map((c) => c.propertyName),
      data: event.queryRunner.data,
      inTransaction: event.queryRunner.isTransactionActive,
    });
    await event.manager.insert(AuditRow, { action: 'update', counterId: event.entity?.id });
  }
}

/** Transaction events, as upstream's transaction-flow PostSubscriber (no listenTo: all of them). */
@EventSubscriber()
class TransactionSubscriber implements EntitySubscriberInterface {
  beforeTransactionStart(event: TransactionStartEvent) {
    if (recordTransactions) journal.record('beforeTransactionStart', { data: event.queryRunner.data });
  }
  afterTransactionStart(event: TransactionStartEvent) {
    if (recordTransactions) journal.record('afterTransactionStart', { data: event.queryRunner.data });
  }
  beforeTransactionCommit(event: TransactionCommitEvent) {
    if (recordTransactions) journal.record('beforeTransactionCommit', { data: event.queryRunner.data });
  }
  afterTransactionCommit(event: TransactionCommitEvent) {
    if (recordTransactions) journal.record('afterTransactionCommit', { data: event.queryRunner.data });
  }
  beforeTransactionRollback(event: TransactionRollbackEvent) {
    if (recordTransactions) journal.record('beforeTransactionRollback', { data: event.queryRunner.data });
  }
  afterTransactionRollback(event: TransactionRollbackEvent) {
    if (recordTransactions) journal.record('afterTransactionRollback', { data: event.queryRunner.data });
  }
}
let recordTransactions = false;

const pair = typeormPair('uta_es', {
  entities: [Flagged, Counter, AuditRow, Unheard],
  subscribers: [FlagSubscriber, CounterSubscriber, TransactionSubscriber],
});

const save = <E extends object>(side: TypeormSide, cls: new () => E, entities: E[], options?: { data?: unknown }) =>
  side.mode === 'orm' ? side.dataSource.manager.save(cls, entities, options) : bulkSave(side.dataSource, cls, entities, options);

const counter = (value: number, label: string | null = null) => Object.assign(new Counter(), { value, label });
const tables = ['uta_es_counter', 'uta_es_audit'];

it('typeorm entity-subscriber: beforeInsert sets a flag on event.entity, beforeUpdate on a loaded entity (update-columns)', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new Flagged(), { id: 1, title: 'hello world' });
      await save(side, Flagged, [post]);
      const afterInsert = { inserted: post.inserted, updated: post.updated };
      const loaded = await side.dataSource.getRepository(Flagged).findOneByOrFail({ id: 1 });
      loaded.title = 'updated world';
      if (side.mode === 'orm') await side.dataSource.manager.save(loaded);
      else await bulkUpdate(side.dataSource, Flagged, [loaded]);
      return { objects: [post, loaded], value: afterInsert };
    },
    { tables: ['uta_es_flagged'] },
  );
});

it('typeorm entity-subscriber: beforeUpdate is not called for a loaded entity saved unchanged (update-columns)', async () => {
  await pair.compare(
    async (side) => {
      const post = Object.assign(new Flagged(), { id: 1, title: 'hello world' });
      await side.dataSource.manager.save(post);
      const loaded = await side.dataSource.getRepository(Flagged).findOneByOrFail({ id: 1 });
      await save(side, Flagged, [loaded]);
      return { objects: [loaded] };
    },
    { tables: ['uta_es_flagged'] },
  );
});

it('typeorm entity-subscriber: afterUpdate sees updatedColumns, databaseEntity and the entity as written', async () => {
  await pair.compare(
    async (side) => {
      const items = [counter(1, 'a'), counter(2, 'b'), counter(3, 'c')];
      await side.dataSource.manager.save(items);
      journal.take();
      const loaded = await side.dataSource.getRepository(Counter).find({ order: { id: 'ASC' } });
      loaded[0]!.value = 10;
      loaded[1]!.label = null;
      loaded[2]!.value = 30;
      loaded[2]!.label = 'cc';
      await save(side, Counter, loaded);
      return { objects: loaded };
    },
    { tables },
  );
});

it('typeorm entity-subscriber: bulkUpdate gives beforeUpdate the changed columns only, per row', async () => {
  await pair.compare(
    async (side) => {
      const items = [counter(1, 'a'), counter(2, 'b')];
      await side.dataSource.manager.save(items);
      journal.take();
      items[0]!.label = 'A';
      items[1]!.value = 20;
      if (side.mode === 'orm') await side.dataSource.manager.save(items);
      else await bulkUpdate(side.dataSource, Counter, items);
      return { objects: items };
    },
    { tables },
  );
});

it('typeorm entity-subscriber: afterInsert sees the generated key as event.entityId, inside the transaction', async () => {
  await pair.compare(
    async (side) => {
      const items = [counter(5), counter(6, 'six')];
      if (side.mode === 'orm') await side.dataSource.manager.save(items);
      else await bulkInsert(side.dataSource, Counter, items);
      return { objects: items };
    },
    { tables },
  );
});

it('typeorm entity-subscriber: passes query data to the subscriber (query-data)', async () => {
  await pair.compare(
    async (side) => {
      const example = new Counter();
      await side.dataSource.manager.save(example);
      example.value++;
      await save(side, Counter, [example], { data: { Hello: 'World' } });
      return { objects: [example] };
    },
    { tables },
  );
});

it('typeorm entity-subscriber: cleans up the data after the save completes (query-data)', async () => {
  await pair.compare(
    async (side) => {
      const example = new Counter();
      await side.dataSource.manager.save(example);
      example.value++;
      await save(side, Counter, [example], { data: { Hello: 'World' } });
      example.value++;
      await save(side, Counter, [example]);
      return { objects: [example] };
    },
    { tables },
  );
});

it("typeorm entity-subscriber: query data in subscribers on a caller's query runner (transaction-flow)", async () => {
  await pair.compare(
    async (side) => {
      const example = new Counter();
      const data = { hello: ['world'] };
      const queryRunner = side.dataSource.createQueryRunner();
      try {
        await queryRunner.startTransaction();
        if (side.mode === 'orm') await queryRunner.manager.save(example, { data });
        else await bulkSave(queryRunner.manager, Counter, [example], { data });
        await queryRunner.commitTransaction();
        return { objects: [example], value: queryRunner.data };
      } finally {
        await queryRunner.release();
      }
    },
    { tables },
  );
});

it('typeorm entity-subscriber: transaction start and commit events around a save (transaction-flow)', async () => {
  recordTransactions = true;
  try {
    await pair.compare(
      async (side) => {
        const items = [counter(1), counter(2)];
        await save(side, Counter, items, { data: { run: 'commit' } });
        return { objects: items };
      },
      { tables },
    );
  } finally {
    recordTransactions = false;
  }
});

it('typeorm entity-subscriber: a subscriber that throws rolls the save back, with rollback events (transaction-flow)', async () => {
  recordTransactions = true;
  failOnLabel = 'boom';
  try {
    await pair.compare(
      async (side) => {
        const items = [counter(1, 'ok'), counter(2, 'fine')];
        await side.dataSource.manager.save(items);
        journal.take();
        items[0]!.value = 100;
        items[1]!.label = 'boom';
        const error = await save(side, Counter, items).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(Error);
        if (side.mode === 'cohort') expect(error).toBeInstanceOf(BulkHookError);
        const cause = side.mode === 'cohort' ? (error as BulkHookError).cause : error;
        return { value: (cause as Error).message };
      },
      { tables },
    );
  } finally {
    recordTransactions = false;
    failOnLabel = undefined;
  }
});

it('typeorm entity-subscriber: a subscriber listening to one entity is not called for another', async () => {
  await pair.compare(
    async (side) => {
      const items = [Object.assign(new Unheard(), { name: 'x' }), Object.assign(new Unheard(), { name: 'y' })];
      await save(side, Unheard, items);
      items[0]!.name = 'xx';
      await save(side, Unheard, items);
      return { objects: items };
    },
    { tables: ['uta_es_unheard', 'uta_es_audit'] },
  );
});

/** A note whose subscriber stamps a column in beforeUpdate and records what the after events see. */
@Entity('uta_es_note')
class Note {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) body!: string;
  @Column({ type: 'varchar', nullable: true }) stamp?: string | null;
  @Column({ type: 'varchar', nullable: true }) extra?: string | null;
}

@EventSubscriber()
class NoteSubscriber implements EntitySubscriberInterface<Note> {
  listenTo() {
    return Note;
  }
  afterInsert(event: InsertEvent<Note>) {
    journal.record('afterInsert', { entity: { ...event.entity }, hasExtra: 'extra' in event.entity });
  }
  beforeUpdate(event: UpdateEvent<Note>) {
    if (event.entity) event.entity.stamp = `stamped ${event.entity.body}`;
  }
  afterUpdate(event: UpdateEvent<Note>) {
    journal.record('afterUpdate', {
      entity: { ...event.entity },
      updatedColumns: event.updatedColumns.map((c) => c.propertyName),
    });
  }
}

const notes = typeormPair('uta_es2', { entities: [Note], subscribers: [NoteSubscriber] });

it('typeorm entity-subscriber: a column a subscriber sets in beforeUpdate is written; after events see nulls filled', async () => {
  await notes.compare(
    async (side) => {
      const items = [Object.assign(new Note(), { body: 'a' }), Object.assign(new Note(), { body: 'b', extra: 'x' })];
      await save(side, Note, items);
      const loaded = await side.dataSource.getRepository(Note).find({ order: { id: 'ASC' } });
      loaded[0]!.body = 'a2';
      loaded[1]!.extra = undefined;
      loaded[1]!.body = 'b2';
      await save(side, Note, loaded);
      return { objects: [...items, ...loaded] };
    },
    { tables: ['uta_es_note'] },
  );
});
