// Scenarios from MikroORM's own tests of lifecycle events (tests/features/events), run once with
// persist()+flush() and once with cohort's bulkSave on equal inputs.
import { bulkSave } from '@cohort/mikro-orm';
import type { EventArgs, EventSubscriber } from '@mikro-orm/core';
import { AfterCreate, BeforeCreate, BeforeUpdate, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { it } from 'vitest';
import { journal, type MikroOrmSide, mikroOrmPair } from '../../harness/upstream-pair.js';

@Entity({ tableName: 'evented_book' })
class EventedBook {
  @PrimaryKey() id!: number;
  @Property({ type: 'string' }) title!: string;
  @Property({ type: 'string', nullable: true }) slug?: string | null;

  @BeforeCreate() makeSlug() {
    this.slug = this.title.toLowerCase().replace(/\s+/g, '-');
    journal.record('beforeCreate', { title: this.title });
  }
  @AfterCreate() created() {
    journal.record('afterCreate', { id: this.id });
  }
  @BeforeUpdate() touched() {
    journal.record('beforeUpdate', { id: this.id });
  }
}

class ChangeSetRecorder implements EventSubscriber<EventedBook> {
  afterUpdate(args: EventArgs<EventedBook>) {
    journal.record('subscriber.afterUpdate', { id: args.entity.id, changed: Object.keys(args.changeSet?.payload ?? {}).sort() });
  }
}

const pair = mikroOrmPair('up_mevents', { entities: [EventedBook], subscribers: [new ChangeSetRecorder()] });

const save = async (side: MikroOrmSide, books: EventedBook[]) => {
  if (side.mode === 'cohort') return void (await bulkSave(side.em, EventedBook, books));
  side.em.persist(books);
  await side.em.flush();
};

it('mikro-orm events: beforeCreate sets a property that reaches the row', async () => {
  await pair.compare(
    async (side) => {
      const books = [
        Object.assign(new EventedBook(), { title: 'Dune Messiah' }),
        Object.assign(new EventedBook(), { title: 'Emma' }),
      ];
      await save(side, books);
      return { objects: books };
    },
    { tables: ['evented_book'] },
  );
});

it('mikro-orm events: an update runs beforeUpdate and the subscriber sees the changed properties', async () => {
  await pair.compare(
    async (side) => {
      const books = [Object.assign(new EventedBook(), { title: 'Ulysses' })];
      await save(side, books);
      books[0]!.title = 'Ulysses, revised';
      await save(side, books);
      return { objects: books };
    },
    { tables: ['evented_book'] },
  );
});
