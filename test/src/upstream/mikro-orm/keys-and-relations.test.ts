// Scenarios from MikroORM's tests on keys and to-one properties (tests/features/batch-insert.test.ts:
// keys mapped back under a custom column name; custom-types/GH4548 'sets keys from references';
// `mapToPk` to-one properties), run once with persist()+flush() and once with cohort on equal inputs.
import { bulkInsert, bulkSave, bulkUpdate, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { expect, it } from 'vitest';
import { mikroOrmPair } from '../../harness/upstream-pair.js';
import { write as save } from './writes.js';

/** batch-insert.test.ts: keys under a custom column name. */
@Entity({ tableName: 'uma_kr_author' })
class Author {
  @PrimaryKey({ type: 'integer', name: 'author_id' }) id!: number;
  @Property({ type: 'string', length: 40, nullable: true }) name?: string | null;
}

@Entity({ tableName: 'uma_kr_book' })
class Book {
  @PrimaryKey({ type: 'integer', name: 'book_id' }) id!: number;
  @ManyToOne({ entity: () => Author }) author!: Author;
  @Property({ type: 'integer', default: 1, nullable: true }) value?: number;
}

/** A to-one mapped to its key: the property holds the author's id, not an entity. */
@Entity({ tableName: 'uma_kr_note' })
class Note {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) text!: string;
  @ManyToOne({ entity: () => Author, mapToPk: true, nullable: true }) author?: number | null;
}

const pair = mikroOrmPair('uma_kr', { entities: [Author, Book, Note] });

it('mikro-orm batch-insert: mapping of PKs with custom field name (authors first, then books)', async () => {
  await pair.compare(
    async (side) => {
      const authors = [new Author(), new Author(), new Author()];
      const books = [new Book(), new Book(), new Book()];
      books[1]!.value = 2;
      books.forEach((b, i) => {
        b.author = authors[i] as Author;
      });
      if (side.mode === 'orm') {
        side.em.persist(books);
        await side.em.flush();
      } else {
        await bulkInsert(side.em, Author, authors);
        await bulkInsert(side.em, Book, books);
      }
      return { objects: [...authors, ...books], value: books.map((b) => b.value) };
    },
    {
      tables: [
        { table: 'uma_kr_author', orderBy: 'author_id' },
        { table: 'uma_kr_book', orderBy: 'book_id' },
      ],
    },
  );
});

it('mikro-orm batch-insert: entities with nothing but a generated key (QB insert of empty rows)', async () => {
  await pair.compare(
    async (side) => {
      const authors = [new Author(), new Author(), new Author()];
      await save(side, Author, authors, 'insert');
      for (const a of authors) expect(a.id).toBeGreaterThan(0);
      return { objects: authors };
    },
    { tables: [{ table: 'uma_kr_author', orderBy: 'author_id' }] },
  );
});

it('mikro-orm batch-insert: a book added to a loaded author — the foreign key under a custom column name', async () => {
  await pair.compare(
    async (side) => {
      await side.query(`INSERT INTO "${side.schema}".uma_kr_author (name) VALUES ('loaded')`);
      const author = await side.em.findOneOrFail(Author, { name: 'loaded' });
      const books = [Object.assign(new Book(), { author }), Object.assign(new Book(), { author, value: 5 })];
      await save(side, Book, books);
      books[0]!.value = 9;
      await save(side, Book, books);
      return { objects: books };
    },
    { tables: [{ table: 'uma_kr_book', orderBy: 'book_id' }] },
  );
});

it('mikro-orm custom-types GH4548: a to-one given as a reference (em.getReference) writes its key', async () => {
  await pair.compare(
    async (side) => {
      await side.query(`INSERT INTO "${side.schema}".uma_kr_author (name) VALUES ('a'), ('b')`);
      const books = [1, 2].map((id) => Object.assign(new Book(), { author: side.em.getReference(Author, id) }));
      await save(side, Book, books);
      return { objects: books };
    },
    { tables: [{ table: 'uma_kr_book', orderBy: 'book_id' }] },
  );
});

it('mikro-orm mapToPk: a to-one mapped to its key is inserted and updated by that key', async () => {
  await pair.compare(
    async (side) => {
      await side.query(`INSERT INTO "${side.schema}".uma_kr_author (name) VALUES ('a'), ('b')`);
      const notes = [
        Object.assign(new Note(), { text: 'one', author: 1 }),
        Object.assign(new Note(), { text: 'two', author: null }),
        Object.assign(new Note(), { text: 'three' }),
      ];
      await save(side, Note, notes);
      notes[0]!.author = 2;
      notes[1]!.author = 1;
      await save(side, Note, notes);
      return { objects: notes };
    },
    { tables: ['uma_kr_note'] },
  );
});

it('mikro-orm mapToPk: a loaded entity with a mapToPk to-one, changed and saved again', async () => {
  await pair.compare(
    async (side) => {
      await side.query(`INSERT INTO "${side.schema}".uma_kr_author (name) VALUES ('a'), ('b')`);
      await side.query(`INSERT INTO "${side.schema}".uma_kr_note (text, author_author_id) VALUES ('n', 1)`);
      const note = await side.em.findOneOrFail(Note, { text: 'n' });
      expect(note.author).toBe(1);
      note.author = 2;
      await save(side, Note, [note], 'update');
      return { objects: [note] };
    },
    { tables: ['uma_kr_note'] },
  );
});

it('mikro-orm identity: a changed primary key on a managed entity — flush rewrites it, cohort refuses loudly', async () => {
  await pair.compare(
    async (side) => {
      const author = Object.assign(new Author(), { name: 'keyed' });
      await save(side, Author, [author], 'insert');
      const firstId = author.id;
      author.id = firstId + 100;
      author.name = 'rekeyed';
      if (side.mode === 'orm') {
        // docs/differences.md: flush sends UPDATE … SET author_id = new WHERE author_id = old.
        await side.em.flush();
        const [row] = await side.query(`SELECT * FROM "${side.schema}".uma_kr_author`);
        expect(row).toEqual({ author_id: firstId + 100, name: 'rekeyed' });
        return { value: 'refused' };
      }
      for (const op of [bulkUpdate, bulkSave]) {
        const error = await op(side.em, Author, [author]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        expect(error).toMatchObject({ feature: 'primary key change', entityName: 'Author', property: 'id', index: 0 });
        expect((error as Error).message).toMatch(/Author\.id of row 0 was changed on a managed entity \(from 1 to 101\)/);
      }
      expect(await side.query(`SELECT * FROM "${side.schema}".uma_kr_author`)).toEqual([{ author_id: firstId, name: 'keyed' }]);
      return { value: 'refused' };
    },
    { tables: [] },
  );
});
