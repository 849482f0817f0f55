// The events TypeORM's save() broadcasts for junction rows (issue 22): a many-to-many link it
// inserts or deletes is a subject without an entity, so every subscriber that admits the junction's
// class (one without listenTo, here) gets beforeInsert / afterInsert or beforeRemove / afterRemove
// per junction row, `entity` undefined, `metadata` the junction's, `entityId` its key map. cohort's
// bulk calls broadcast the same events, in the same order relative to the rows' own events.
import { createSchema } from '@cohort/pg-harness';
import { bulkInsert, bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  type InsertEvent,
  JoinTable,
  ManyToMany,
  PrimaryGeneratedColumn,
  type RemoveEvent,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('jev_label')
class Label {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToMany(
    () => Note,
    (note) => note.labels,
  )
  notes?: Note[];
}

@Entity('jev_note')
class Note {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToMany(
    () => Label,
    (label) => label.notes,
  )
  @JoinTable({ name: 'jev_note_label' })
  labels?: Label[];
}

/** What a catch-all subscriber sees: the event, the table, the entity's title/name or null, the key map. */
const log: unknown[][] = [];
const record =
  (event: string) =>
  (e: InsertEvent<any> | RemoveEvent<any>): void => {
    const entity = e.entity as { title?: string; name?: string } | undefined;
    log.push([
      event,
      e.metadata.tableName,
      entity ? (entity.title ?? entity.name) : null,
      'entityId' in e ? (e.entityId ?? null) : null,
    ]);
  };
const subscriber: EntitySubscriberInterface = {
  beforeInsert: record('beforeInsert'),
  afterInsert: record('afterInsert'),
  beforeRemove: record('beforeRemove'),
  afterRemove: record('afterRemove'),
};

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'jev');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [Label, Note],
    subscribers: [subscriber as never],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  // The subscriber object is used as given (not a class to instantiate).
  if (!ds.subscribers.includes(subscriber)) ds.subscribers.push(subscriber);
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query('TRUNCATE jev_label, jev_note, jev_note_label RESTART IDENTITY CASCADE');
});

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const junction = () => ds.query('SELECT * FROM jev_note_label ORDER BY 1, 2');

/** Stored labels a, b, c; the events of saving them left out. */
async function labels(): Promise<Label[]> {
  const saved = await ds.manager.save(['a', 'b', 'c'].map((name) => make(Label, { name })));
  log.length = 0;
  return saved;
}

describe('events of junction rows: as save() broadcasts them', () => {
  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call} of new notes with labels: beforeInsert / afterInsert per junction row`, async () => {
      const build = ([a, b, c]: Label[]) => [
        make(Note, { title: 'n0', labels: [a as Label, b as Label] }),
        make(Note, { title: 'n1', labels: [c as Label] }),
      ];
      await ds.manager.save(build(await labels()));
      const theirs = { events: [...log], rows: await junction() };
      await ds.query('TRUNCATE jev_label, jev_note, jev_note_label RESTART IDENTITY CASCADE');

      const notes = build(await labels());
      await (call === 'bulkInsert' ? bulkInsert(ds, Note, notes) : bulkSave(ds, Note, notes));
      expect({ events: log, rows: await junction() }).toEqual(theirs);
      expect(theirs.events.filter((e) => e[1] === 'jev_note_label')).toHaveLength(6);
    });
  }

  for (const call of ['bulkUpdate', 'bulkSave'] as const) {
    it(`${call} of loaded notes, a label added and one removed: the junction's insert and remove events`, async () => {
      const run = async (write: (notes: Note[]) => Promise<unknown>) => {
        const [a, b, c] = await labels();
        await ds.manager.save([make(Note, { title: 'n0', labels: [a as Label, b as Label] })]);
        const notes = await ds.getRepository(Note).find({ relations: { labels: true } });
        const note = notes[0] as Note;
        note.labels = [...(note.labels ?? []).filter((l) => l.name !== 'a'), c as Label];
        log.length = 0;
        await write(notes);
        return { events: [...log], rows: await junction() };
      };
      const theirs = await run((notes) => ds.manager.save(notes));
      await ds.query('TRUNCATE jev_label, jev_note, jev_note_label RESTART IDENTITY CASCADE');
      const mine = await run((notes) => (call === 'bulkUpdate' ? bulkUpdate(ds, Note, notes) : bulkSave(ds, Note, notes)));
      expect(mine).toEqual(theirs);
      expect(theirs.events.map((e) => e[0])).toEqual(['beforeInsert', 'beforeRemove', 'afterInsert', 'afterRemove']);
    });
  }

  it('hooks: false broadcasts none of them, as save({ listeners: false })', async () => {
    const [a] = await labels();
    await bulkInsert(ds, Note, [make(Note, { title: 'n0', labels: [a as Label] })], { hooks: false });
    expect(log).toEqual([]);
    expect(await junction()).toEqual([{ jevNoteId: 1, jevLabelId: 1 }]);
  });
});
