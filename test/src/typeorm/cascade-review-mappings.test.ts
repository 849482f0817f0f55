// Cascade inserts (issue 22), TypeORM, reviewed against save(): the review's further graphs — hooks
// changing another entity of the graph, items whose own reference is unset, many-to-many links and
// trees of related classes, keys that are foreign keys, other mappings, afterInsert timing,
// atomic: false, relations that cascade updates only, trackEntityChanges (cascade-review.test.ts
// says how the sides are compared; the harness is cascade-review-harness.ts).
import {
  bulkInsert,
  PartialImportError,
  trackEntityChanges,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '@cohort/typeorm';
import { describe, expect, it } from 'vitest';
import { typeormPair } from '../harness/upstream-pair.js';
import {
  REVIEW_ENTITIES,
  TrAuthor,
  TrBook,
  TrComment,
  TrFlyer,
  TrMedia,
  TrPhoto,
  TrPost,
  TrProfile,
  TrReply,
  TrTag,
} from './cascade-review-entities.js';
import {
  captured,
  expectSameAsSave,
  failure,
  graphOf,
  logger,
  MASK,
  make,
  newGraph,
  opts,
  pair,
  publisher,
  TABLES,
  tablesOf,
  write,
} from './cascade-review-harness.js';

describe('hooks that change another entity of the graph (save() fires every beforeInsert before any INSERT)', () => {
  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}: the post's beforeInsert renames its new author: the new name is inserted, as save()`, async () => {
      await expectSameAsSave(async () => [make(TrPost, { title: 'h0', author: make(TrAuthor, { name: 'ann' }) })], call);
    });

    it(`${call}: a new comment's beforeInsert changes its post's title: the changed title is inserted, as save()`, async () => {
      await expectSameAsSave(async () => {
        const post = make(TrPost, { title: 'p0' });
        post.comments = [make(TrComment, { body: 'h0', post })];
        return [post];
      }, call);
    });
  }
});

describe("new items whose own reference is unset (save() takes the holder's key, leaves the reference unset)", () => {
  for (const [call, batchSize] of [
    ['bulkInsert', undefined],
    ['bulkSave', undefined],
    ['bulkInsert', 1],
  ] as const) {
    it(`${call}${batchSize ? ', one row per batch' : ''}: new comments pushed without comment.post, and a new author's books without book.author`, async () => {
      await expectSameAsSave(
        async () => {
          const p0 = make(TrPost, { title: 'p0' });
          p0.comments = [make(TrComment, { body: 'k0' }), make(TrComment, { body: 'k1' })];
          const author = make(TrAuthor, { name: 'hal' });
          author.books = [make(TrBook, { title: 'b0' })];
          const p1 = make(TrPost, { title: 'p1', author });
          p1.comments = [make(TrComment, { body: 'k2' })];
          return [p0, p1];
        },
        call,
        batchSize ? { batchSize } : {},
      );
    });
  }
});

describe('many-to-many links of related entities', () => {
  for (const [call, batchSize] of [
    ['bulkInsert', undefined],
    ['bulkSave', undefined],
    ['bulkInsert', 1],
  ] as const) {
    it(`${call}${batchSize ? ', one row per batch' : ''}: new authors (one shared by two rows) linked to stored tags: their junction rows, as save()`, async () => {
      await expectSameAsSave(
        async (ds) => {
          await ds.manager.save([make(TrTag, { name: 'red' }), make(TrTag, { name: 'blue' })]);
          const [red, blue] = await ds.getRepository(TrTag).find({ order: { id: 'ASC' } });
          const ann = make(TrAuthor, { name: 'ann', tags: [red as TrTag, blue as TrTag] });
          const bob = make(TrAuthor, { name: 'bob', tags: [blue as TrTag] });
          return [make(TrPost, { title: 'p0', author: ann }), make(TrPost, { title: 'p1', coauthor: ann, author: bob })];
        },
        call,
        batchSize ? { batchSize } : {},
      );
    });
  }
});

describe('a tree of a related class', () => {
  it('a new author whose new mentor is an author too (a tree of a related class): both inserted, the mentor linked, as save()', async () => {
    await expectSameAsSave(
      async () => [
        make(TrPost, { title: 'p0', author: make(TrAuthor, { name: 'ann', mentor: make(TrAuthor, { name: 'old' }) }) }),
      ],
      'bulkInsert',
    );
  });
});

describe('foreign keys that are properties of their own, keys that are foreign keys', () => {
  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}: a new editor through a relation whose join column is also the editorId property`, async () => {
      await expectSameAsSave(async () => [make(TrPost, { title: 'p0', editor: make(TrAuthor, { name: 'ed' }) })], call);
    });

    it(`${call}: new replies whose non-null postId property is unset (the post is new)`, async () => {
      await expectSameAsSave(async () => {
        const post = make(TrPost, { title: 'p0' });
        post.replies = [make(TrReply, { body: 'r0', post }), make(TrReply, { body: 'r1', post })];
        return [post];
      }, call);
    });

    it(`${call}: profiles keyed by their new authors' keys (a primary key that is a cascaded foreign key)`, async () => {
      await expectSameAsSave(
        async () => [
          make(TrProfile, { bio: 'b0', author: make(TrAuthor, { name: 'ann' }) }),
          make(TrProfile, { bio: 'b1', author: make(TrAuthor, { name: 'bob' }) }),
        ],
        call,
      );
    });
  }
});

describe('other mappings', () => {
  it("a new publisher referred to by its slug (not its key), which the publisher's beforeInsert sets", async () => {
    await expectSameAsSave(async () => [make(TrPost, { title: 'p0', brand: publisher('acme') })], 'bulkInsert');
  });

  it('a new publisher through a lazy relation (assigned, not a promise)', async () => {
    await expectSameAsSave(async () => {
      const flyer = make(TrFlyer, { title: 'f0' });
      (flyer as { sponsor: unknown }).sponsor = publisher('lazy');
      return [flyer];
    }, 'bulkInsert');
  });

  it('a lazy relation left unset is not read (not cascade-specific): nothing loaded, as save()', async () => {
    await expectSameAsSave(async () => [make(TrFlyer, { title: 'f0' }), make(TrFlyer, { title: 'f1' })], 'bulkInsert');
  });

  it("single-table inheritance rows (bulkInsert of TrMedia): a photo's own relation (credit) to a new author", async () => {
    await expectSameAsSave(
      // (save() of a TrMedia itself fails in TypeORM: it runs TrPhoto's listener on it.)
      async () => [make(TrPhoto, { url: 'u0', credit: make(TrAuthor, { name: 'ann' }) }), make(TrPhoto, { url: 'u1' })],
      'bulkInsert',
      { target: TrMedia },
    );
  });
});

describe('afterInsert hooks (save() fires them after its last INSERT)', () => {
  it("a new author's afterInsert renames its new books: the books' old titles are inserted, as save()", async () => {
    await expectSameAsSave(async () => {
      const author = make(TrAuthor, { name: 'hal' });
      author.books = [make(TrBook, { title: 'b0', author })];
      return [make(TrPost, { title: 'p0', author })];
    }, 'bulkInsert');
  });
});

describe('atomic: false', () => {
  it('batch 0 lands with its new authors, batch 1 fails at its post: the rows save() leaves batch by batch', async () => {
    await pair.compare(
      async (side) => {
        await side.dataSource.manager.save(make(TrPost, { title: 'dup' }));
        const ann = make(TrAuthor, { name: 'ann' });
        const rows = [
          make(TrPost, { title: 'p0', author: ann }),
          make(TrPost, { title: 'p1', coauthor: ann }),
          make(TrPost, { title: 'dup', author: make(TrAuthor, { name: 'cy' }) }),
        ];
        let outcome: unknown;
        if (side.mode === 'orm') {
          // save() batch by batch, each in its own transaction, stopping at the first failure.
          await side.dataSource.manager.save(rows.slice(0, 2));
          outcome = await failure(side.dataSource.manager.save(rows.slice(2)));
          outcome = { landedBatches: [0], resumeFrom: 2, cause: (outcome as Error).constructor.name };
        } else {
          const error = await failure(bulkInsert(side.dataSource, TrPost, rows, opts({ batchSize: 2, atomic: false })));
          expect(error).toBeInstanceOf(PartialImportError);
          expect((error as Error).cause).toBeInstanceOf(UniqueViolationError);
          const { landedBatches, resumeFrom } = error as PartialImportError;
          outcome = { landedBatches, resumeFrom, cause: 'QueryFailedError' };
        }
        // cy keeps the key its rolled-back INSERT gave it (documented): only the landed objects compared.
        return { objects: graphOf(rows.slice(0, 2)), value: outcome };
      },
      { tables: TABLES, mask: MASK, ignoreJournal: true },
    );
  });
});

describe("relations that cascade updates only (['update'])", () => {
  it("a new reviewer (cascade ['update'], no insert): save() fails (UpdateValuesMissingError); refused (unsaved reference), nothing written", async () => {
    const ref = pair.reference();
    const refError = await failure(
      ref.dataSource.manager.save(make(TrPost, { title: 'p0', reviewer: make(TrAuthor, { name: 'rev' }) })),
    );
    expect((refError as Error).name).toBe('UpdateValuesMissingError');
    const side = pair.subject();
    const rows = [make(TrPost, { title: 'p0', reviewer: make(TrAuthor, { name: 'rev' }) })];
    const error = await failure(bulkInsert(side.dataSource, TrPost, rows, opts()));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'unsaved reference', entityName: 'TrPost', property: 'reviewer', index: 0 });
    for (const s of [ref, side]) expect(Object.values(await tablesOf(s)).flat()).toEqual([]);
  });
});

describe('trackEntityChanges: the snapshots of the related entities cohort inserted', () => {
  // A pair of its own: trackEntityChanges stays on for its DataSources.
  const tracked = typeormPair('tyrevsnap', { entities: REVIEW_ENTITIES, logger, maxQueryExecutionTime: 0 });
  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}, then bulkSave of the same posts: nothing changed, nothing written, nothing refused (as save() twice)`, async () => {
      await tracked.compare(
        async (side) => {
          trackEntityChanges(side.dataSource);
          const roots = newGraph();
          await write(side, roots, call);
          captured.sql = [];
          captured.on = true;
          try {
            await write(side, roots, 'bulkSave');
          } finally {
            captured.on = false;
          }
          // save() only sets p2's null author again (its known no-op UPDATE); the bulkSave writes nothing.
          const writes = captured.sql.map((sql) =>
            sql.replace(/^(\w+ "?\S+?"?)[ (].*$/s, '$1').replaceAll(`"${side.schema}".`, ''),
          );
          expect(writes).toEqual(side.mode === 'orm' ? ['UPDATE "tr_post"'] : []);
          return { objects: graphOf(roots) };
        },
        { tables: TABLES, mask: MASK, ignoreJournal: true },
      );
    });
  }
});
