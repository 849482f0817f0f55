// When save() works out a row's many-to-many links and fires their events, and cohort alike
// (found in review; the adapter declares `linksBeforeHooks`):
// 1. The order of a row's own update events and its junction rows' events. save()'s SubjectExecutor
// broadcasts the before-events of all insert subjects, then of all update subjects, then of all
// remove subjects (and the after-events the same way), so a note whose title changed and which gains
// one label and loses another gets
//   beforeInsert(junction) beforeUpdate(note) beforeRemove(junction) … afterInsert(junction) afterUpdate(note) afterRemove(junction)
// and so does cohort.
// 2. A before-hook that changes a many-to-many relation: save() builds its junction subjects before
// it broadcasts the before-events, so the links it writes are those the row held before its hooks
// (the hook's change is left for the next save); cohort works them out before the hooks too.
import { createSchema } from '@cohort/pg-harness';
import { bulkInsert, bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  BeforeInsert,
  BeforeUpdate,
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  JoinTable,
  ManyToMany,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('jeo_label')
class OrderLabel {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
}

@Entity('jeo_note')
class OrderNote {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToMany(() => OrderLabel)
  @JoinTable({ name: 'jeo_note_label' })
  labels?: OrderLabel[];
}

// The label a before-hook of OrderHookNote adds (none while undefined).
let hookLabel: OrderLabel | undefined;

@Entity('jeo_hook_note')
class OrderHookNote {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToMany(() => OrderLabel)
  @JoinTable({ name: 'jeo_hook_note_label' })
  labels?: OrderLabel[];
  @BeforeInsert()
  @BeforeUpdate()
  addHookLabel() {
    if (hookLabel) this.labels = [...(this.labels ?? []), hookLabel];
  }
}

const log: string[] = [];
const record = (event: string) => (e: { metadata: { tableName: string } }) => {
  log.push(`${event} ${e.metadata.tableName}`);
};
const subscriber: EntitySubscriberInterface = {
  beforeInsert: record('beforeInsert'),
  afterInsert: record('afterInsert'),
  beforeUpdate: record('beforeUpdate'),
  afterUpdate: record('afterUpdate'),
  beforeRemove: record('beforeRemove'),
  afterRemove: record('afterRemove'),
};

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'jeo');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [OrderLabel, OrderNote, OrderHookNote],
    subscribers: [subscriber as never],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  if (!ds.subscribers.includes(subscriber)) ds.subscribers.push(subscriber);
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query('TRUNCATE jeo_label, jeo_note, jeo_note_label, jeo_hook_note, jeo_hook_note_label RESTART IDENTITY CASCADE');
  hookLabel = undefined;
});

describe('a row updated with its links: its update events and its junction events, in save()’s order', () => {
  for (const call of ['bulkUpdate', 'bulkSave'] as const) {
    it(`${call} of a loaded note, title changed, a label added and one removed`, async () => {
      const run = async (write: (notes: OrderNote[]) => Promise<unknown>) => {
        const [a, b, c] = await ds.manager.save(['a', 'b', 'c'].map((name) => Object.assign(new OrderLabel(), { name })));
        await ds.manager.save(Object.assign(new OrderNote(), { title: 'n0', labels: [a, b] }));
        const notes = await ds.getRepository(OrderNote).find({ relations: { labels: true } });
        const note = notes[0] as OrderNote;
        note.title = 'n0 renamed';
        note.labels = [...(note.labels ?? []).filter((l) => l.name !== 'a'), c as OrderLabel];
        log.length = 0;
        await write(notes);
        return { events: [...log], rows: await ds.query('SELECT * FROM jeo_note_label ORDER BY 1, 2') };
      };
      const theirs = await run((notes) => ds.manager.save(notes));
      await ds.query('TRUNCATE jeo_label, jeo_note, jeo_note_label RESTART IDENTITY CASCADE');
      const mine = await run((notes) =>
        call === 'bulkUpdate' ? bulkUpdate(ds, OrderNote, notes) : bulkSave(ds, OrderNote, notes),
      );
      expect(mine).toEqual(theirs);
    });
  }
});

describe('a before-hook that changes a many-to-many relation: the links save() writes are those before the hooks', () => {
  /** Labels a, b; note n0 linked to a; then the hook adds b to every note it sees; `write` writes a new note (a) and n0, title changed. */
  const run = async (write: (fresh: OrderHookNote[], loaded: OrderHookNote[]) => Promise<unknown>) => {
    await ds.query('TRUNCATE jeo_label, jeo_hook_note, jeo_hook_note_label RESTART IDENTITY CASCADE');
    hookLabel = undefined;
    const [a, b] = await ds.manager.save(['a', 'b'].map((name) => Object.assign(new OrderLabel(), { name })));
    await ds.manager.save(Object.assign(new OrderHookNote(), { title: 'n0', labels: [a] }));
    const loaded = await ds.getRepository(OrderHookNote).find({ relations: { labels: true } });
    (loaded[0] as OrderHookNote).title = 'n0 renamed';
    hookLabel = b;
    await write([Object.assign(new OrderHookNote(), { title: 'n1', labels: [a] })], loaded);
    hookLabel = undefined;
    return ds.query('SELECT * FROM jeo_hook_note_label ORDER BY 1, 2');
  };

  it('bulkInsert of a new note and bulkUpdate of a stored one', async () => {
    const theirs = await run(async (fresh, loaded) => {
      await ds.manager.save(fresh);
      await ds.manager.save(loaded);
    });
    // save() wrote each note's links as they were before its hook: n0 → a, n1 → a.
    expect(theirs).toEqual([
      { jeoHookNoteId: 1, jeoLabelId: 1 },
      { jeoHookNoteId: 2, jeoLabelId: 1 },
    ]);
    const mine = await run(async (fresh, loaded) => {
      await bulkInsert(ds, OrderHookNote, fresh);
      await bulkUpdate(ds, OrderHookNote, loaded);
    });
    expect(mine).toEqual(theirs);
  });
});
