// Scenarios from MikroORM's tests of entity lifecycle hooks and event subscribers
// (tests/features/events/events.mysql.test.ts: 'hooks', 'subscribers'), each run once with
// persist()+flush() and once with cohort's bulkSave / bulkInsert / bulkUpdate on equal inputs:
// what the hooks see (keys, change sets, original entity data), what they set, and in which order.
import type { EventArgs, EventSubscriber, Opt } from '@mikro-orm/core';
import { AfterCreate, AfterUpdate, BeforeCreate, BeforeUpdate, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { expect, it } from 'vitest';
import { journal, mikroOrmPair } from '../../harness/upstream-pair.js';
import { write as save } from './writes.js';

const sorted = (o: object | undefined | null) => Object.keys(o ?? {}).sort();

/** As upstream's Author2: hooks keep a non-persistent counter and a text derived from it. */
@Entity({ tableName: 'uma_ev_writer' })
class Writer {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 60 }) name!: string;
  @Property({ type: 'string', length: 60 }) email!: string;
  @Property({ type: 'integer', nullable: true }) age?: number | null;
  @Property({ persist: false, type: 'integer' }) counter!: number & Opt;
  @Property({ persist: false, type: 'string' }) counterText!: string & Opt;

  @BeforeCreate() beforeCreate(args: EventArgs<Writer>) {
    this.counter = 1;
    journal.record('Writer.beforeCreate', {
      id: this.id ?? null,
      type: args.changeSet?.type,
      payload: args.changeSet?.payload,
      sameEntity: args.changeSet?.entity === this,
    });
  }
  @AfterCreate() afterCreate(args: EventArgs<Writer>) {
    this.counterText = `v${this.counter}`;
    journal.record('Writer.afterCreate', {
      id: this.id,
      type: args.changeSet?.type,
      payload: args.changeSet?.payload,
      sameEntity: args.changeSet?.entity === this,
    });
  }
  @BeforeUpdate() beforeUpdate(args: EventArgs<Writer>) {
    this.counter += 1;
    journal.record('Writer.beforeUpdate', {
      id: this.id,
      type: args.changeSet?.type,
      payload: args.changeSet?.payload,
      original: { name: args.changeSet?.originalEntity?.name, age: args.changeSet?.originalEntity?.age },
    });
  }
  @AfterUpdate() afterUpdate(args: EventArgs<Writer>) {
    this.counterText = `v${this.counter}`;
    journal.record('Writer.afterUpdate', {
      id: this.id,
      type: args.changeSet?.type,
      payload: args.changeSet?.payload,
      original: { name: args.changeSet?.originalEntity?.name, age: args.changeSet?.originalEntity?.age },
    });
  }
}

/** A plain entity only a subscriber listens to. */
@Entity({ tableName: 'uma_ev_press' })
class Press {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 60 }) name!: string;
  @Property({ type: 'string', length: 20, nullable: true }) stamp?: string | null;
}

/** Its `beforeCreate` sets a column, its `beforeUpdate` another: both must reach the row. */
@Entity({ tableName: 'uma_ev_ledger' })
class Ledger {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) title!: string;
  @Property({ type: 'string', length: 40, nullable: true }) createdBy?: string | null;
  @Property({ type: 'integer', nullable: true }) revision?: number | null;

  @BeforeCreate() stampCreation() {
    this.createdBy = `hook:${this.title}`;
    this.revision = 0;
  }
  @BeforeUpdate() bumpRevision() {
    this.revision = (this.revision ?? 0) + 1;
  }
}

/** Records every event of every entity, as upstream's EverythingSubscriber. */
class EverythingRecorder implements EventSubscriber {
  beforeCreate(args: EventArgs<object>) {
    journal.record('all.beforeCreate', { entity: args.entity.constructor.name });
  }
  afterCreate(args: EventArgs<object>) {
    journal.record('all.afterCreate', { entity: args.entity.constructor.name, id: (args.entity as { id?: number }).id });
  }
  beforeUpdate(args: EventArgs<object>) {
    journal.record('all.beforeUpdate', { entity: args.entity.constructor.name, changed: sorted(args.changeSet?.payload) });
  }
  afterUpdate(args: EventArgs<object>) {
    journal.record('all.afterUpdate', { entity: args.entity.constructor.name, changed: sorted(args.changeSet?.payload) });
  }
}

/** Only Press's events, as upstream's Author2Subscriber (getSubscribedEntities). */
class PressRecorder implements EventSubscriber<Press> {
  getSubscribedEntities() {
    return [Press];
  }
  beforeCreate(args: EventArgs<Press>) {
    args.entity.stamp = 'sub-created';
    journal.record('press.beforeCreate', { name: args.entity.name });
  }
  afterCreate(args: EventArgs<Press>) {
    journal.record('press.afterCreate', { id: args.entity.id, stamp: args.entity.stamp });
  }
  beforeUpdate(args: EventArgs<Press>) {
    args.entity.stamp = 'sub-updated';
    journal.record('press.beforeUpdate', { id: args.entity.id, payload: args.changeSet?.payload });
  }
  afterUpdate(args: EventArgs<Press>) {
    journal.record('press.afterUpdate', { id: args.entity.id, payload: args.changeSet?.payload });
  }
}

const pair = mikroOrmPair('uma_ev', {
  entities: [Writer, Press, Ledger],
  subscribers: [new EverythingRecorder(), new PressRecorder()],
});

const writer = (name: string, email: string, age?: number | null) => Object.assign(new Writer(), { name, email, age });

const withoutHookState = (w: Writer) => ({
  id: w.id,
  name: w.name,
  email: w.email,
  age: w.age,
  counter: w.counter,
  counterText: w.counterText,
});

it('mikro-orm events: hooks — afterCreate sees the generated id and the create change set', async () => {
  await pair.compare(
    async (side) => {
      const w = writer('Jon Snow', 'snow@wall.st');
      await save(side, Writer, [w], 'insert');
      return { objects: [withoutHookState(w)] };
    },
    { tables: ['uma_ev_writer'] },
  );
});

it('mikro-orm events: hooks — an update passes payload and originalEntity to before/afterUpdate', async () => {
  await pair.compare(
    async (side) => {
      const w = writer('Jon Snow', 'snow@wall.st', 30);
      await save(side, Writer, [w]);
      w.name = 'John Snow';
      await save(side, Writer, [w], 'update');
      return { objects: [withoutHookState(w)] };
    },
    { tables: ['uma_ev_writer'] },
  );
});

it('mikro-orm events: hooks — a second update counts on from the first (non-persistent state kept)', async () => {
  await pair.compare(
    async (side) => {
      const w = writer('Arya', 'arya@winterfell', 11);
      await save(side, Writer, [w]);
      w.age = 12;
      await save(side, Writer, [w]);
      w.age = 13;
      w.name = 'Arya Stark';
      await save(side, Writer, [w]);
      return { objects: [withoutHookState(w)] };
    },
    { tables: ['uma_ev_writer'] },
  );
});

it('mikro-orm events: hooks — setting a nullable property to null is in the update payload', async () => {
  await pair.compare(
    async (side) => {
      const w = writer('Sansa', 'sansa@winterfell', 14);
      await save(side, Writer, [w]);
      w.age = null;
      await save(side, Writer, [w]);
      return { objects: [withoutHookState(w)] };
    },
    { tables: ['uma_ev_writer'] },
  );
});

it('mikro-orm events: hooks — an unchanged managed entity fires no update hook', async () => {
  await pair.compare(
    async (side) => {
      const w = writer('Bran', 'bran@winterfell', 9);
      await save(side, Writer, [w]);
      await save(side, Writer, [w]);
      return { objects: [withoutHookState(w)] };
    },
    { tables: ['uma_ev_writer'] },
  );
});

it('mikro-orm events: subscribers — every create fires before its after, per entity, in input order', async () => {
  await pair.compare(
    async (side) => {
      const presses = ['Penguin', 'Faber', 'Vintage'].map((name) => Object.assign(new Press(), { name }));
      await save(side, Press, presses, 'insert');
      return { objects: presses };
    },
    { tables: ['uma_ev_press'] },
  );
});

it('mikro-orm events: subscribers — a subscriber limited to one entity sees only that one', async () => {
  await pair.compare(
    async (side) => {
      const ws = [writer('God', 'hello@heaven.god'), writer('Lol', 'lol@lol.lol')];
      const ps = [Object.assign(new Press(), { name: 'Publisher2' })];
      await save(side, Press, ps);
      await save(side, Writer, ws);
      return { objects: [...ps, ...ws.map(withoutHookState)] };
    },
    { tables: ['uma_ev_press', 'uma_ev_writer'] },
  );
});

it('mikro-orm events: subscribers — a value set in the subscriber beforeCreate reaches the row', async () => {
  await pair.compare(
    async (side) => {
      const ps = [Object.assign(new Press(), { name: 'Tor' }), Object.assign(new Press(), { name: 'Orbit' })];
      await save(side, Press, ps);
      return { objects: ps };
    },
    { tables: ['uma_ev_press'] },
  );
});

it('mikro-orm events: subscribers — a value set in the subscriber beforeUpdate reaches the row and the update', async () => {
  await pair.compare(
    async (side) => {
      const ps = [Object.assign(new Press(), { name: 'Tor' }), Object.assign(new Press(), { name: 'Orbit' })];
      await save(side, Press, ps);
      ps[0]!.name = 'Tor Books';
      await save(side, Press, ps);
      const stored = await side.query(`SELECT stamp FROM "${side.schema}".uma_ev_press ORDER BY id`);
      return { objects: ps, value: stored };
    },
    { tables: ['uma_ev_press'] },
  );
});

it('mikro-orm events: subscribers — a mix of new and changed entities: creates, then updates with their changed properties', async () => {
  await pair.compare(
    async (side) => {
      const old = [Object.assign(new Press(), { name: 'Old A' }), Object.assign(new Press(), { name: 'Old B' })];
      await save(side, Press, old);
      old[1]!.name = 'Old B2';
      const fresh = Object.assign(new Press(), { name: 'New C' });
      await save(side, Press, [old[0]!, old[1]!, fresh]);
      return { objects: [...old, fresh] };
    },
    { tables: ['uma_ev_press'] },
  );
});

it('mikro-orm events: entity hooks — beforeCreate and beforeUpdate values are written', async () => {
  await pair.compare(
    async (side) => {
      const ls = [Object.assign(new Ledger(), { title: 'a' }), Object.assign(new Ledger(), { title: 'b' })];
      await save(side, Ledger, ls);
      ls[1]!.title = 'b2';
      await save(side, Ledger, ls);
      return { objects: ls };
    },
    { tables: ['uma_ev_ledger'] },
  );
});

it('mikro-orm events: hooks — a later flush after the bulk write sends nothing (snapshots taken)', async () => {
  await pair.compare(
    async (side) => {
      const w = writer('Tyrion', 'tyrion@rock', 30);
      await save(side, Writer, [w]);
      w.age = 31;
      await save(side, Writer, [w]);
      journal.record('flush after');
      await side.em.flush();
      const found = await side.em.findOneOrFail(Writer, { email: 'tyrion@rock' });
      expect(found).toBe(w);
      return { objects: [withoutHookState(w)] };
    },
    { tables: ['uma_ev_writer'] },
  );
});
