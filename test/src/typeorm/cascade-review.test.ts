// Cascade inserts (issue 22), TypeORM, reviewed against save() on equal inputs in two schemas: rows
// of every table, keys and relations on the objects, the beforeInsert hooks (as a set: save() fires
// them in another order, docs/differences.md), and what a following save() of the same objects
// sends — for graphs the conformance file does not build (cascade true / ['insert'] / ['update'],
// a new entity shared by rows, batches and relations, stored entities holding new ones, client-set
// and uuid keys, generated columns, an embedded, hooks, single-table inheritance, atomic: false).
// Where cohort does not write what save() writes it must refuse with a typed error and write nothing.
import {
  bulkInsert,
  bulkSave,
  PartialImportError,
  trackEntityChanges,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '@cohort/typeorm';
import type { DataSource, Logger } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { journal, normalizeState, rowsOf, type TypeormSide, typeormPair } from '../harness/upstream-pair.js';
import {
  REVIEW_ENTITIES,
  REVIEW_TABLES,
  TrAgent,
  TrAuthor,
  TrBook,
  TrComment,
  TrCountry,
  TrCover,
  TrFlyer,
  TrMedia,
  TrNote,
  TrPhoto,
  TrPost,
  TrProfile,
  TrPublisher,
  TrReply,
  TrTag,
} from './cascade-review-entities.js';

/** Statements the sides send while `capturing` (the following save()). */
const captured = { on: false, sql: [] as string[] };
const logger: Logger = {
  logQuery(query, parameters) {
    if (captured.on && /^\s*(insert|update|delete)\b/i.test(query)) captured.sql.push(`${query} ${JSON.stringify(parameters)}`);
  },
  logQueryError: () => {},
  logQuerySlow: () => {},
  logSchemaBuild: () => {},
  logMigration: () => {},
  log: () => {},
};
const pair = typeormPair('tyrev', { entities: REVIEW_ENTITIES, logger, maxQueryExecutionTime: 0 });

const strategy = forcedStrategy;
const opts = <O extends object>(options?: O): O => ({ ...(strategy && { strategy }), ...options }) as O;
const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const publisher = (name: string) => make(TrPublisher, { name, contact: { email: `${name}@x` } });

const ORDER: Record<string, string> = { tr_cover: 'image', tr_author_tags: '1, 2' };
const TABLES = REVIEW_TABLES.map((table) => (ORDER[table] ? { table, orderBy: ORDER[table] } : table));
const MASK = ['created', 'coverId', 'cover_id'];
type Call = 'bulkInsert' | 'bulkSave';

/** Every object reachable from the roots through own properties, each once, in the order met. */
function graphOf(roots: readonly object[]): object[] {
  const seen: object[] = [];
  const walk = (value: unknown) => {
    if (value === null || typeof value !== 'object' || value instanceof Date) return;
    if (Array.isArray(value)) return value.forEach(walk);
    if (seen.includes(value)) return;
    if (Object.getPrototypeOf(value) !== Object.prototype) seen.push(value);
    for (const item of Object.values(value)) walk(item);
  };
  roots.forEach(walk);
  return seen;
}

/** Every table's rows, as the sides compare them. */
async function tablesOf(side: TypeormSide): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {};
  for (const table of REVIEW_TABLES) all[table] = await rowsOf(side, table, ORDER[table] ?? '1');
  return all;
}

/** The writes of a following save() of the roots, schema names left out. */
async function followingSave(side: TypeormSide, roots: object[]): Promise<string[]> {
  captured.sql = [];
  captured.on = true;
  try {
    await side.dataSource.manager.save(roots);
  } finally {
    captured.on = false;
  }
  return captured.sql.map((sql) => sql.replaceAll(`"${side.schema}".`, ''));
}

/** The call of the side: save() of all the roots (the reference), or the cohort call. */
async function write(side: TypeormSide, roots: object[], call: Call, given: { target?: Function } = {}): Promise<void> {
  // The class the cohort call names: `target`, or the first root's.
  const { target, ...options } = given;
  const cls = (target ?? roots[0]?.constructor) as typeof TrPost;
  if (side.mode === 'orm') await side.dataSource.manager.save(roots);
  else if (call === 'bulkInsert') await bulkInsert(side.dataSource, cls, roots as TrPost[], opts(options));
  else await bulkSave(side.dataSource, cls, roots as TrPost[], opts(options));
}

/**
 * Compares save() and the cohort call on the roots `build` makes (on each side): every table right
 * after the call, every object of the graph, the set of beforeInsert hooks, a following save()'s
 * writes, and the tables after it.
 */
async function expectSameAsSave(build: (ds: DataSource) => Promise<object[]>, call: Call, options: object = {}) {
  await pair.compare(
    async (side) => {
      const roots = await build(side.dataSource);
      journal.take();
      await write(side, roots, call, options);
      const hooks = journal
        .take()
        .map((h) => JSON.stringify(h))
        .sort();
      const objects = graphOf(roots);
      const afterCall = { rows: await tablesOf(side), objects: objects.map((o) => normalizeState(o)) };
      const following = await followingSave(side, roots);
      return { objects, value: { afterCall, hooks, following } };
    },
    { tables: TABLES, mask: MASK, ignoreJournal: true },
  );
}

/** The error a call fails with (undefined when it succeeds). */
const failure = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (e: unknown) => e,
  );

/** Stored rows made with save() (on each side), then loaded back as the caller would load them. */
async function storedAuthor(ds: DataSource, name: string, relations: object = {}): Promise<TrAuthor> {
  await ds.manager.save(make(TrAuthor, { name }));
  return ds.getRepository(TrAuthor).findOneOrFail({ where: { name }, relations });
}

/**
 * p0: author ann (new, her new publisher "pub" and new book), coauthor bob (new, same publisher), a
 * new uuid cover, a new photo (child class), comment k0 by bob (reached twice); p1: author and
 * coauthor ann (the same new entity through two relations), comment k1 by new cy; p2: nothing.
 */
function newGraph(): TrPost[] {
  const pub = publisher('pub');
  const ann = make(TrAuthor, { name: 'ann', publisher: pub });
  ann.books = [make(TrBook, { title: 'b1', author: ann })];
  const bob = make(TrAuthor, { name: 'bob', publisher: pub });
  const p0 = make(TrPost, {
    title: 'p0',
    author: ann,
    coauthor: bob,
    cover: make(TrCover, { image: 'c0' }),
    media: make(TrPhoto, { url: 'u0' }),
  });
  p0.comments = [make(TrComment, { body: 'k0', post: p0, by: bob })];
  const p1 = make(TrPost, { title: 'p1', author: ann, coauthor: ann });
  p1.comments = [make(TrComment, { body: 'k1', post: p1, by: make(TrAuthor, { name: 'cy' }) })];
  const p2 = make(TrPost, { title: 'p2', author: null });
  return [p0, p1, p2];
}

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

/**
 * save() writes the graph `build` makes (the reference side shows it); the cohort call refuses it with
 * `UnsupportedFeatureError` (`refusal`) and leaves every table as it was.
 */
async function expectRefused(
  build: (ds: DataSource) => Promise<object[]>,
  call: Call,
  refusal: { feature: string; entityName: string; property: string; index: number; relation?: object },
  saveWrites: (rows: Record<string, unknown[]>) => void,
) {
  const ref = pair.reference();
  await write(ref, await build(ref.dataSource), call);
  saveWrites(await tablesOf(ref));
  const side = pair.subject();
  const roots = await build(side.dataSource);
  const before = await tablesOf(side);
  const error = await failure(write(side, roots, call));
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect(error).toMatchObject(refusal);
  expect(await tablesOf(side)).toEqual(before);
}

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

    it(`${call}: a stored author (cascade ['insert']) set to a new publisher: save() inserts it, the author's key unchanged`, async () => {
      await expectRefused(
        storedAuthorWithNewPublisher('author'),
        call,
        { feature: 'cascade insert', entityName: 'TrPost', property: 'author.publisher', index: 0 },
        (rows) => {
          expect(rows.tr_publisher).toMatchObject([{ id: 1, name: 'np' }]);
          expect(rows.tr_author).toMatchObject([{ name: 'old', publisherId: null }]);
        },
      );
    });

    it(`${call}: a stored coauthor's loaded books given a new book (book.author set): save() inserts the book`, async () => {
      await expectRefused(
        async (ds) => {
          const old = await storedAuthor(ds, 'old', { books: true });
          old.books?.push(make(TrBook, { title: 'nb', author: old }));
          return [make(TrPost, { title: 'p0' }), make(TrPost, { title: 'p1', coauthor: old })];
        },
        call,
        { feature: 'cascade insert', entityName: 'TrPost', property: 'coauthor.books', index: 1 },
        (rows) => expect(rows.tr_book).toMatchObject([{ title: 'nb', authorId: 1 }]),
      );
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
