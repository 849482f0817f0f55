// Cascade inserts (issue 22), TypeORM, reviewed against save() on equal inputs in two schemas: rows
// of every table, keys and relations on the objects, the beforeInsert hooks (as a set: save() fires
// them in another order, docs/differences.md), and what a following save() of the same objects
// sends — for graphs the conformance file does not build (cascade true / ['insert'] / ['update'],
// a new entity shared by rows, batches and relations, stored entities holding new ones, client-set
// and uuid keys, generated columns, an embedded, hooks, single-table inheritance, atomic: false).
// Where cohort does not write what save() writes it must refuse with a typed error and write nothing.
import type { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { TrAgent, TrAuthor, TrBook, TrComment, TrCountry, TrNote, TrPost } from './cascade-review-entities.js';
import { expectRefused, expectSameAsSave, make, newGraph, publisher, storedAuthor } from './cascade-review-harness.js';

describe('parity: new graphs save() inserts through cascade true and [insert]', () => {
  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    for (const batchSize of [undefined, 1]) {
      it(`${call}${batchSize ? ', one row per batch' : ''}: shared, twice-reached, uuid-keyed, hooked, embedded, child-class related entities`, async () => {
        await expectSameAsSave(async () => newGraph(), call, batchSize ? { batchSize } : {});
      });
    }
  }

  it('bulkSave: a changed stored post next to new posts sharing a new author', async () => {
    await expectSameAsSave(async (ds) => {
      await ds.manager.save(make(TrPost, { title: 's0' }));
      const stored = await ds.getRepository(TrPost).findOneByOrFail({ title: 's0' });
      stored.title = 's0x';
      const ann = make(TrAuthor, { name: 'ann' });
      return [make(TrPost, { title: 'n0', author: ann }), stored, make(TrPost, { title: 'n1', coauthor: ann })];
    }, 'bulkSave');
  });

  it("a stored client-keyed country, changed, through relations cascading ['insert'] with and without a foreign key: neither writes the change", async () => {
    await expectSameAsSave(async (ds) => {
      await ds.manager.save(make(TrCountry, { code: 'fr', name: 'France' }));
      const fr = await ds.getRepository(TrCountry).findOneByOrFail({ code: 'fr' });
      fr.name = 'Frankreich';
      return [make(TrPost, { title: 'p0', country: fr, origin: fr })];
    }, 'bulkInsert');
  });

  it("a new author reached by one row through author (['insert']) and by another through reviewer (['update'] only)", async () => {
    await expectSameAsSave(async () => {
      const ann = make(TrAuthor, { name: 'ann' });
      return [make(TrPost, { title: 'p0', author: ann }), make(TrPost, { title: 'p1', reviewer: ann })];
    }, 'bulkInsert');
  });

  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}, atomic: false, one row per batch (batches overlap): the new graph, each shared entity once`, async () => {
      await expectSameAsSave(async () => newGraph(), call, { batchSize: 1, atomic: false });
    });
  }

  it("a new agent's stored copy behind a relation without cascade holding a new publisher: neither writes it", async () => {
    await expectSameAsSave(async (ds) => {
      await ds.manager.save(make(TrAgent, { name: 'ag' }));
      const agent = await ds.getRepository(TrAgent).findOneByOrFail({ name: 'ag' });
      agent.publisher = publisher('hidden');
      return [make(TrPost, { title: 'p0', author: make(TrAuthor, { name: 'ann', agent }) })];
    }, 'bulkInsert');
  });

  it('new items of a one-to-many cascading updates only (notes): save() leaves them, so does cohort', async () => {
    await expectSameAsSave(async () => {
      const post = make(TrPost, { title: 'p0' });
      post.notes = [make(TrNote, { text: 'n0', post })];
      return [post];
    }, 'bulkInsert');
  });
});

describe('stored related entities holding new ones (save() walks into them): written as save() when the stored one is updated with the row, else refused, nothing written', () => {
  const storedAuthorWithNewPublisher = (relation: 'author' | 'coauthor') => async (ds: DataSource) => {
    const old = await storedAuthor(ds, 'old');
    old.publisher = publisher('np');
    return [make(TrPost, { title: 'p0', [relation]: old })];
  };
  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    // The changed coauthor is updated with the row (cascade update) and its new publisher inserted with it.
    it(`${call}: a stored coauthor (cascade true) set to a new publisher: inserted, the author's key set, as save()`, async () => {
      await expectSameAsSave(storedAuthorWithNewPublisher('coauthor'), call);
    });

    // save() never updates an entity reached through relations that cascade inserts only: the new
    // publisher goes in, the author's key to it is not written (cascade-insert-only-related.test.ts).
    it(`${call}: a stored author (cascade ['insert']) set to a new publisher: inserted, the author's key unchanged, as save()`, async () => {
      await expectSameAsSave(storedAuthorWithNewPublisher('author'), call);
    });

    // The coauthor did not change: it is not updated, but the new book it holds goes in with it.
    it(`${call}: a stored coauthor's loaded books given a new book (book.author set): the book inserted, as save()`, async () => {
      await expectSameAsSave(async (ds) => {
        const old = await storedAuthor(ds, 'old', { books: true });
        old.books?.push(make(TrBook, { title: 'nb', author: old }));
        return [make(TrPost, { title: 'p0' }), make(TrPost, { title: 'p1', coauthor: old })];
      }, call);
    });
  }

  it('a new author holding a stored agent (no cascade) holding a new publisher: not walked by save(), not refused', async () => {
    await expectSameAsSave(async (ds) => {
      await ds.manager.save(make(TrAgent, { name: 'ag' }));
      const agent = await ds.getRepository(TrAgent).findOneByOrFail({ name: 'ag' });
      agent.publisher = publisher('hidden');
      return [make(TrPost, { title: 'p0', coauthor: make(TrAuthor, { name: 'ann', agent }) })];
    }, 'bulkInsert');
  });

  // The changed stored author is updated with the row (cascade update), and the new publisher it holds
  // inserted with it (its class's cascades), before its UPDATE.
  it('a new comment by a stored author (cascade true) set to a new publisher: the publisher inserted, the author updated with its key, as save()', async () => {
    await expectSameAsSave(async (ds) => {
      const old = await storedAuthor(ds, 'old');
      old.publisher = publisher('np');
      const post = make(TrPost, { title: 'p0' });
      post.comments = [make(TrComment, { body: 'k0', post, by: old })];
      return [post];
    }, 'bulkInsert');
  });
});

describe('client-set keys of cascaded entities (no row yet): save() looks the row up and inserts it; refused, nothing written', () => {
  it('a new country with its code, through a relation with a foreign key', async () => {
    await expectRefused(
      async () => [make(TrPost, { title: 'p0', country: make(TrCountry, { code: 'de', name: 'D' }) })],
      'bulkInsert',
      { feature: 'cascade insert', entityName: 'TrPost', property: 'country', index: 0 },
      (rows) => expect(rows.tr_country).toMatchObject([{ code: 'de' }]),
    );
  });

  it('a new country with its code, through a relation without a foreign key constraint (no dangling reference)', async () => {
    await expectRefused(
      async () => [make(TrPost, { title: 'p0', origin: make(TrCountry, { code: 'it', name: 'I' }) })],
      'bulkInsert',
      { feature: 'cascade insert', entityName: 'TrPost', property: 'origin', index: 0 },
      (rows) => expect(rows.tr_country).toMatchObject([{ code: 'it' }]),
    );
  });

  it("a new author's new country (nested, cascade ['insert']) with its code", async () => {
    await expectRefused(
      async () => [
        make(TrPost, {
          title: 'p0',
          author: make(TrAuthor, { name: 'ann', country: make(TrCountry, { code: 'es', name: 'E' }) }),
        }),
      ],
      'bulkInsert',
      { feature: 'cascade insert', entityName: 'TrPost', property: 'author.country', index: 0 },
      (rows) => expect(rows.tr_country).toMatchObject([{ code: 'es' }]),
    );
  });
});
