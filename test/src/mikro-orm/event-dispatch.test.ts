// Entity events of a bulk insert against flush's: each scenario runs once with persist() + flush()
// and once with cohort on equal input, and compares what the listeners recorded, in which order:
// entity hooks (by method name, sync and async) before subscribers, subscribers in registration
// order, each admitted by class, by class name or for all entities, a subscriber of another class
// left out, an async listener finished before the next one starts, and a synchronous one awaited
// too (a microtask it queues runs before the next listener), as MikroORM's dispatchEvent does.
import type { EntityName, EventArgs, EventSubscriber } from '@mikro-orm/core';
import { AfterCreate, BeforeCreate, BeforeUpdate, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { expect, it } from 'vitest';
import { journal, mikroOrmPair } from '../harness/upstream-pair.js';
import { write } from '../upstream/mikro-orm/writes.js';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

@Entity({ tableName: 'med_gadget' })
class Gadget {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({ type: 'string', length: 80, nullable: true }) trail?: string | null;

  @BeforeCreate() first() {
    this.trail = `${this.trail ?? ''}h1;`;
    journal.record('hook.first', { name: this.name });
    // MikroORM awaits a synchronous listener too: this runs before the next listener starts.
    queueMicrotask(() => journal.record('hook.first.microtask', { name: this.name }));
  }

  @BeforeCreate() async second() {
    journal.record('hook.second.start', { name: this.name });
    await tick();
    this.trail = `${this.trail ?? ''}h2;`;
    journal.record('hook.second.end', { name: this.name });
  }

  @AfterCreate() async created() {
    await tick();
    journal.record('hook.created', { id: this.id, name: this.name });
  }

  @BeforeUpdate() touched() {
    journal.record('hook.touched', { id: this.id });
  }
}

@Entity({ tableName: 'med_other' })
class Other {
  @PrimaryKey({ type: 'integer' }) id!: number;
}

/** Every entity's events, asynchronously. */
class AllAsync implements EventSubscriber {
  async beforeCreate(args: EventArgs<object>) {
    journal.record('all.beforeCreate.start', { entity: args.entity.constructor.name });
    await tick();
    const gadget = args.entity as Gadget;
    gadget.trail = `${gadget.trail ?? ''}all;`;
    journal.record('all.beforeCreate.end', { entity: args.entity.constructor.name });
  }
  afterCreate(args: EventArgs<object>) {
    journal.record('all.afterCreate', { id: (args.entity as { id?: number }).id });
  }
}

/** Gadget by name, synchronously; it sees what the hooks and the earlier subscriber did. */
class ByName implements EventSubscriber<Gadget> {
  getSubscribedEntities(): EntityName<Gadget>[] {
    // A class name: MikroORM's EventManager matches names as well as classes.
    return ['Gadget' as unknown as EntityName<Gadget>];
  }
  beforeCreate(args: EventArgs<Gadget>) {
    args.entity.trail = `${args.entity.trail ?? ''}name;`;
    journal.record('byName.beforeCreate', { trail: args.entity.trail, payload: args.changeSet?.payload });
  }
}

/** Another class only: never called for a Gadget. */
class OtherOnly implements EventSubscriber<Other> {
  getSubscribedEntities() {
    return [Other];
  }
  beforeCreate() {
    journal.record('other.beforeCreate');
  }
  afterCreate() {
    journal.record('other.afterCreate');
  }
}

const pair = mikroOrmPair('med', {
  entities: [Gadget, Other],
  subscribers: [new AllAsync(), new ByName(), new OtherOnly()],
});

const gadgets = () => ['a', 'b', 'c'].map((name) => Object.assign(new Gadget(), { name }));

it('hooks and subscribers, sync and async, are called as flush calls them, in the same order', async () => {
  await pair.compare(
    async (side) => {
      const rows = gadgets();
      await write(side, Gadget, rows, 'insert');
      return { objects: rows };
    },
    { tables: ['med_gadget'] },
  );
});

it('the listeners ran, and what they set was written', async () => {
  const side = pair.subject();
  const rows = gadgets();
  await write(side, Gadget, rows, 'insert');
  const entries = journal.take();
  expect(entries.filter((e) => Array.isArray(e) && e[0] === 'hook.second.end')).toHaveLength(3);
  expect(entries.some((e) => e === 'other.beforeCreate' || (Array.isArray(e) && String(e[0]).startsWith('other.')))).toBe(false);
  expect(await side.query(`SELECT trail FROM "${side.schema}"."med_gadget" ORDER BY id`)).toEqual([
    { trail: 'h1;h2;all;name;' },
    { trail: 'h1;h2;all;name;' },
    { trail: 'h1;h2;all;name;' },
  ]);
});
