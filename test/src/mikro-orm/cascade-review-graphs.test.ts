// Cascade inserts (issue 22), MikroORM, reviewed against em.persist() + em.flush() on equal inputs
// in two schemas (as cascade-review.test.ts), for what was verified for TypeORM only: embeddables of
// the related entities a cascade inserts (inline, nested, object/JSON, arrays, a relation inside
// one), trees among related entities (a related class's self-reference with both ends new), and
// mappings of related classes a cascade may get wrong: property defaults and initializers, onCreate,
// custom types, JSON properties, version properties, Reference wrappers, composite keys, related
// entities already in the identity map or made with em.create().
import { bulkInsert, bulkSave, bulkUpdate, bulkUpsert, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { Collection, helper, type Ref, Reference, ref, Type } from '@mikro-orm/core';
import {
  BeforeCreate,
  Embeddable,
  Embedded,
  Entity,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryKey,
  Property,
} from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Graph, graphDifferential, graphStateOf, nextFlushOf, tablesOf } from '../harness/mikro-orm-graph-differential.js';
import { type OwnMikroOrmPair, type OwnSide, ownMikroOrmPair, withForcedStrategy } from '../harness/own-mikro-orm-pair.js';

/** Stored upper-case, read back lower-case: flush converts the value, not the object. */
class ShoutType extends Type<string, string> {
  override convertToDatabaseValue(value: string): string {
    return value?.toUpperCase();
  }
  override convertToJSValue(value: string): string {
    return value?.toLowerCase();
  }
  override getColumnType(): string {
    return 'varchar(20)';
  }
}

@Embeddable()
class Geo {
  @Property({ type: 'double' }) lat!: number;
  @Property({ type: 'double' }) lng!: number;
  @Property({ type: 'string', length: 10, nullable: true, onCreate: () => 'wgs84' }) datum?: string | null;
}

@Embeddable()
class Place {
  @Property({ type: 'string', length: 20 }) city!: string;
  @Property({ type: 'string', length: 10, nullable: true }) zip?: string | null;
  @Embedded(() => Geo, { nullable: true }) geo?: Geo | null;
}

@Embeddable()
class Alias {
  @Property({ type: 'string', length: 20 }) name!: string;
  @Property({ type: 'string', length: 20 }) kind: string = 'pen';
}

@Entity({ tableName: 'country' })
class Country {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
}

@Embeddable()
class Origin {
  @Property({ type: 'string', length: 20, nullable: true }) region?: string | null;
  @ManyToOne(() => Country, { nullable: true }) country?: Country | null;
}

@Entity({ tableName: 'writer' })
class Writer {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: 'writer_name_unique' }) name!: string;
  @Embedded(() => Place, { nullable: true }) home?: Place | null;
  @Embedded(() => Place, { object: true, nullable: true }) office?: Place | null;
  @Embedded(() => Alias, { array: true }) aliases: Alias[] = [];
  @ManyToOne(() => Writer, { nullable: true }) mentor?: Writer | null;
  @OneToMany(
    () => Book,
    (book) => book.writer,
  )
  books = new Collection<Book>(this);
  @Property({ type: 'json', nullable: true }) prefs?: { theme: string; sizes: number[] } | null;
  @Property({ type: 'string', length: 20, default: 'active' }) status?: string;
  @Property({ type: 'string', length: 20 }) rank: string = 'novice';
  @Property({ type: 'string', length: 20, onCreate: (w: Writer) => `by-${w.name}` }) byline?: string;
  @Property({ type: ShoutType, nullable: true }) motto?: string | null;
  @Property({ version: true }) version!: number;
  @Property({ type: 'string', length: 20, nullable: true }) hooked?: string | null;

  @BeforeCreate() stamp(): void {
    this.hooked = `hook-${this.name}`;
  }
}

@Entity({ tableName: 'book' })
class Book {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) title!: string;
  @ManyToOne(() => Writer) writer!: Writer;
  @Embedded(() => Place, { nullable: true }) printed?: Place | null;

  /** Fills in an embeddable (nested one included) of a related entity in its hook. */
  @BeforeCreate() defaultPrint(): void {
    this.printed ??= Object.assign(new Place(), { city: 'hooked', geo: Object.assign(new Geo(), { lat: 0, lng: 1 }) });
  }
}

@Entity({ tableName: 'topic' })
class Topic {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @Embedded(() => Place, { object: true, nullable: true }) where?: Place | null;
  @Embedded(() => Alias, { array: true }) aliases: Alias[] = [];
}

@Entity({ tableName: 'post' })
class Post {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: 'post_title_unique' }) title!: string;
  @ManyToOne(() => Writer, { nullable: true }) writer?: Writer | null;
  @ManyToOne(() => Writer, { nullable: true, ref: true }) editor?: Ref<Writer> | null;
  @OneToMany(
    () => Comment,
    (comment) => comment.post,
  )
  comments = new Collection<Comment>(this);
  @OneToMany(
    () => Edition,
    (edition) => edition.post,
  )
  editions = new Collection<Edition>(this);
  @ManyToMany(() => Topic) topics = new Collection<Topic>(this);
  @Embedded(() => Origin, { nullable: true }) origin?: Origin | null;
  @ManyToOne(() => Stub, { nullable: true }) stub?: Stub | null;
  @ManyToOne(() => Region, { nullable: true }) region?: Region | null;
}

@Entity({ tableName: 'comment' })
class Comment {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) text!: string;
  @ManyToOne(() => Post) post!: Post;
  @ManyToOne(() => Comment, { nullable: true }) parent?: Comment | null;
  @Embedded(() => Place, { nullable: true }) place?: Place | null;
  @Embedded(() => Alias, { array: true }) tags: Alias[] = [];
}

/** Keyed by its new post's key and its language: a composite key holding a cascaded foreign key. */
@Entity({ tableName: 'edition' })
class Edition {
  @ManyToOne(() => Post, { primary: true }) post!: Post;
  @PrimaryKey({ type: 'string', length: 5 }) lang!: string;
  @Property({ type: 'string', length: 20 }) blurb!: string;
}

/** A related class holding an embeddable with a relation (Origin.country). */
@Entity({ tableName: 'stub' })
class Stub {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @Embedded(() => Origin, { nullable: true }) origin?: Origin | null;
}

/** Relations inside an object (JSON) embeddable and an array of embeddables: flush writes their keys into the JSON. */
@Entity({ tableName: 'region' })
class Region {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @Embedded(() => Origin, { object: true, nullable: true }) origin?: Origin | null;
  @Embedded(() => Origin, { array: true }) origins: Origin[] = [];
}

/** An embeddable holding the embeddable with a relation: nested (Route.leg.from.country). */
@Embeddable()
class Leg {
  @Property({ type: 'string', length: 20, nullable: true }) label?: string | null;
  @Embedded(() => Origin, { nullable: true }) from?: Origin | null;
}

/** Relations inside nested embeddables, inline and object (JSON), beside a plain to-one to the same class. */
@Entity({ tableName: 'route' })
class Route {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @Embedded(() => Leg, { nullable: true }) leg?: Leg | null;
  @Embedded(() => Leg, { object: true, nullable: true }) legs?: Leg | null;
  @ManyToOne(() => Country, { nullable: true }) home?: Country | null;
}

/** An embeddable pointing at its holder's own class (Spot.mark.parent): nothing links such a reference. */
@Embeddable()
class Mark {
  @Property({ type: 'string', length: 20, nullable: true }) note?: string | null;
  @ManyToOne(() => Spot, { nullable: true }) parent?: Spot | null;
}

@Entity({ tableName: 'spot' })
class Spot {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @Embedded(() => Mark, { object: true, nullable: true }) mark?: Mark | null;
  @Embedded(() => Mark, { array: true }) marks: Mark[] = [];
}

const ENTITIES = [Country, Writer, Book, Topic, Post, Comment, Edition, Stub, Region, Route, Spot];
const TABLES = [
  'country',
  'writer',
  'book',
  'topic',
  'post',
  'post_topics',
  'comment',
  'edition',
  'stub',
  'region',
  'route',
  'spot',
];
const ORDERED: Record<string, string> = { post_topics: 'post_id', edition: 'lang' };

type Named = { title?: string; name?: string; text?: string; lang?: string };
const labelOf = (e: object) => {
  const n = e as Named;
  return n.title ?? n.name ?? n.text ?? n.lang ?? '?';
};

let pair: OwnMikroOrmPair;
let reference: OwnSide;
let subject: OwnSide;

/** The side with `rows()` ordered by a column each table has. */
const ordered = (side: OwnSide): OwnSide => ({ ...side, rows: (table, orderBy) => side.rows(table, orderBy ?? ORDERED[table]) });

beforeAll(async () => {
  pair = await ownMikroOrmPair('mcasgraph', { entities: ENTITIES }, labelOf);
  reference = ordered(pair.reference);
  subject = ordered(pair.subject);
});
beforeEach(() => pair.reset(TABLES));
afterAll(() => pair?.close());

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const place = (city: string, geo?: [number, number]) =>
  make(Place, { city, zip: `z-${city}`.slice(0, 10), ...(geo && { geo: make(Geo, { lat: geo[0], lng: geo[1] }) }) });
const alias = (name: string, kind?: string) => make(Alias, { name, ...(kind && { kind }) });
const writer = (name: string, data: Partial<Writer> = {}) => make(Writer, { name, ...data });
const post = (title: string, data: Partial<Post> = {}) => make(Post, { title, ...data });
const comment = (p: Post, text: string, data: Partial<Comment> = {}) => {
  const c = make(Comment, { text, post: p, ...data });
  p.comments.add(c);
  return c;
};

const differential = (
  build: (side: OwnSide, em: EntityManager) => Promise<Graph> | Graph,
  call: (em: EntityManager, rows: object[]) => Promise<unknown>,
  opts: { events?: 'exact' | 'sorted' } = {},
) => graphDifferential({ reference, subject, tables: TABLES }, build, call, opts);

const insert =
  (options: object = {}) =>
  (em: EntityManager, rows: object[]) =>
    bulkInsert(em, Post, rows as Post[], withForcedStrategy(options));
const save =
  (options: object = {}) =>
  (em: EntityManager, rows: object[]) =>
    bulkSave(em, Post, rows as Post[], withForcedStrategy(options));
const CALLS = [
  ['bulkInsert', insert],
  ['bulkSave', save],
] as const;

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** A writer with every kind of embeddable filled in (inline with a nested one, object, array) and a JSON property. */
const fullWriter = (name: string) =>
  writer(name, {
    home: place(`h-${name}`, [1.5, 2.5]),
    office: place(`o-${name}`, [3, 4]),
    aliases: [alias(`${name}1`), alias(`${name}2`, 'pseudo')],
    prefs: { theme: 'dark', sizes: [1, 2] },
    motto: `go ${name}`,
  });

describe('embeddables of related entities', () => {
  for (const [name, call] of CALLS) {
    for (const batchSize of [1, 10]) {
      it(`${name} (batchSize ${batchSize}): to-one targets, Ref-wrapped targets, one-to-many items and many-to-many items carrying inline, nested, object and array embeddables`, async () => {
        const graph = (): Graph => {
          const ann = fullWriter('ann');
          const bob = writer('bob', { home: place('rome'), office: null, aliases: [] });
          const cy = writer('cy', { home: place('kyiv', [0, 0]), aliases: [alias('c')] });
          const rows = [post('p0', { writer: ann }), post('p1', { writer: ann, editor: ref(cy) }), post('p2', { writer: bob })];
          const comments = [
            comment(rows[0] as Post, 'c0', { place: place('oslo', [5, 6]), tags: [alias('t1'), alias('t2', 'x')] }),
            comment(rows[2] as Post, 'c1', { place: null }),
          ];
          const topics = [
            make(Topic, { name: 'tech', where: place('lab', [7, 8]), aliases: [alias('it')] }),
            make(Topic, { name: 'art', where: null }),
          ];
          (rows[0] as Post).topics.add(topics);
          (rows[1] as Post).topics.add(topics[1] as Topic);
          const book = make(Book, { title: 'b1', writer: bob, printed: place('print', [9, 10]) });
          const hooked = make(Book, { title: 'b2', writer: bob });
          bob.books.add([book, hooked]);
          return { rows, entities: [...rows, ann, bob, cy, ...comments, ...topics, book, hooked] };
        };
        const { result } = await differential(graph, call({ batchSize }), { events: batchSize === 1 ? 'sorted' : 'exact' });
        expect(result).toMatchObject({
          byEntity: {
            Post: { inserted: 3 },
            Writer: { inserted: 3 },
            Comment: { inserted: 2 },
            Topic: { inserted: 2 },
            Book: { inserted: 2 },
          },
        });
      });
    }
  }
});

describe('a relation inside an embeddable', () => {
  const country = (name: string) => make(Country, { name });
  const origin = (region: string, to: Country) => make(Origin, { region, country: to });
  // Flush (6 and 7 alike) inserts the new country first — its change-set computation follows every
  // to-one, those inside embeddables too, though persist does not cascade through them: the
  // country's before/after create events, then its holder class's — and writes its key: into the
  // inline column (`origin_country_id`), into the JSON of an object or array embeddable
  // (`{"country_id": 1, …}`). The call's cascade walk reaches them as flush does.
  const cases: Record<string, { cls: typeof Post | typeof Region; build: () => { rows: object[]; entities: object[] } }> = {
    "the row's own inline embeddable (Post.origin.country)": {
      cls: Post,
      build: () => {
        const no = country('no');
        const rows = [post('p0'), post('p1', { origin: origin('north', no) })];
        return { rows, entities: [...rows, no] };
      },
    },
    "a related stub's inline embeddable (Stub.origin.country)": {
      cls: Post,
      build: () => {
        const no = country('no');
        const stub = make(Stub, { name: 's', origin: origin('north', no) });
        const rows = [post('p0'), post('p1', { stub })];
        return { rows, entities: [...rows, stub, no] };
      },
    },
    "the row's object embeddable (Region.origin.country)": {
      cls: Region,
      build: () => {
        const no = country('no');
        const rows = [make(Region, { name: 'r0' }), make(Region, { name: 'r1', origin: origin('north', no) })];
        return { rows, entities: [...rows, no] };
      },
    },
    "the row's array of embeddables (Region.origins.country), one country in two items": {
      cls: Region,
      build: () => {
        const [no, se] = [country('no'), country('se')];
        const rows = [
          make(Region, { name: 'r0', origins: [origin('a', se)] }),
          make(Region, { name: 'r1', origins: [origin('a', no), origin('b', se)] }),
        ];
        return { rows, entities: [...rows, no, se] };
      },
    },
    'nested inline and object embeddables (Route.leg.from.country, Route.legs.from.country), one country also a plain to-one': {
      cls: Route as unknown as typeof Post,
      build: () => {
        const [no, se] = [country('no'), country('se')];
        const leg = (to: Country) => make(Leg, { label: 'l', from: origin('x', to) });
        const rows = [
          make(Route, { name: 'r0', leg: leg(no), legs: leg(se) }),
          make(Route, { name: 'r1', legs: leg(no), home: se }),
        ];
        return { rows, entities: [...rows, no, se] };
      },
    },
    "a related region's array of embeddables (Region.origins.country)": {
      cls: Post,
      build: () => {
        const no = country('no');
        const region = make(Region, { name: 'r', origins: [origin('a', no)] });
        const rows = [post('p0'), post('p1', { region })];
        return { rows, entities: [...rows, region, no] };
      },
    },
  };
  for (const [where, { cls, build }] of Object.entries(cases)) {
    for (const [name, call] of [
      ['bulkInsert', bulkInsert],
      ['bulkSave', bulkSave],
    ] as const) {
      for (const batchSize of [undefined, 1]) {
        it(`${name}${batchSize ? ' (batchSize 1)' : ''}: a new country in ${where}: inserted first and its key written, as flush does`, async () => {
          const { ref } = await differential(
            () => build(),
            (em, rows) => call(em, cls as typeof Post, rows as Post[], withForcedStrategy(batchSize ? { batchSize } : {})),
            // Batch by batch, a later batch's country goes in after the earlier batch's rows.
            { events: batchSize ? 'sorted' : 'exact' },
          );
          expect((await reference.rows('country')).length).toBeGreaterThan(0);
          expect(ref.entities.every((e) => helper(e).hasPrimaryKey())).toBe(true);
        });
      }
    }
  }

  for (const [name, write] of [
    ['bulkSave', bulkSave],
    ['bulkUpdate', bulkUpdate],
  ] as const)
    it(`${name} of stored rows: a new country set in a stored post's inline and a stored region's object and array embeddables: inserted, the keys written by the rows' UPDATE, as flush does`, async () => {
      for (const cls of [Post, Region] as const) {
        await pair.reset(TABLES);
        const graph = async (side: OwnSide, em: EntityManager): Promise<Graph> => {
          await side.orm.em
            .fork()
            .persist(
              (cls === Post
                ? [post('p0'), post('p1')]
                : [make(Region, { name: 'r0' }), make(Region, { name: 'r1' })]) as object[],
            )
            .flush();
          const rows = (await em.find(cls as typeof Post, {}, { orderBy: { id: 'asc' } })) as object[];
          const no = country('no');
          if (cls === Post) (rows[1] as Post).origin = origin('north', no);
          else Object.assign(rows[1] as Region, { origin: origin('north', no), origins: [origin('a', no)] });
          return { rows, entities: [...rows, no] };
        };
        await differential(graph, (em, rows) => write(em, cls as typeof Post, rows as Post[], withForcedStrategy()));
        expect(await reference.rows('country')).toEqual([{ id: 1, name: 'no' }]);
      }
    });

  // The call's graph holds its own rows; a row of the call referred to from inside another row's JSON
  // or array embeddable is not linked by anything (no tree UPDATE reaches into the JSON), so in the
  // same batch it is refused rather than written without its key; a parent an earlier batch inserted
  // has its key by then, and it is written. One flush of both new rows leaves the key out of the JSON
  // (pinned below): cohort refuses or writes it, never drops it (docs/differences.md).
  for (const [where, column, set] of [
    ['mark.parent', 'mark', (a: Spot, b: Spot) => Object.assign(a, { mark: make(Mark, { note: 'x', parent: b }) })],
    ['marks.parent', 'marks', (a: Spot, b: Spot) => Object.assign(a, { marks: [make(Mark, { note: 'x', parent: b })] })],
  ] as const) {
    it(`a new row of the same batch behind ${where} (its own class): refused naming the path, nothing written`, async () => {
      const em = subject.orm.em.fork() as EntityManager;
      const b = make(Spot, { name: 'b' });
      const a = set(make(Spot, { name: 'a' }), b);
      const before = await tablesOf(subject, TABLES);
      const error = await failure(bulkInsert(em, Spot, [b, a], withForcedStrategy()));
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'unsaved reference', property: where, index: 1 });
      expect(await tablesOf(subject, TABLES)).toEqual(before);
    });

    it(`a row of an earlier batch behind ${where}: its key written into the JSON (one flush of both leaves it out)`, async () => {
      const em = subject.orm.em.fork() as EntityManager;
      const b = make(Spot, { name: 'b' });
      const a = set(make(Spot, { name: 'a' }), b);
      await bulkInsert(em, Spot, [b, a], withForcedStrategy({ batchSize: 1 }));
      const refEm = reference.orm.em.fork() as EntityManager;
      const rb = make(Spot, { name: 'b' });
      refEm.persist([rb, set(make(Spot, { name: 'a' }), rb)]);
      await refEm.flush();
      const stored = await subject.rows('spot');
      expect(JSON.stringify(stored.find((r) => r.name === 'a')?.[column])).toContain(`"parent_id":${b.id}`);
      const flushed = await reference.rows('spot');
      expect(JSON.stringify(flushed.find((r) => r.name === 'a')?.[column])).not.toContain('parent_id');
    });
  }

  it('bulkUpsert, which inserts no related entity: a new country in an embeddable is refused naming the path, nothing written', async () => {
    const em = subject.orm.em.fork() as EntityManager;
    await em.persist(post('p0')).flush();
    const before = await tablesOf(subject, TABLES);
    const error = await failure(
      bulkUpsert(em, Post, [post('p1', { origin: origin('south', country('se')) })], withForcedStrategy({ target: ['title'] })),
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'unsaved reference', property: 'origin.country', index: 0 });
    expect(await tablesOf(subject, TABLES)).toEqual(before);
  });

  for (const [name, call] of CALLS) {
    it(`${name}: stored countries in inline, object and array embeddables of the rows and of related entities: their keys written as flush writes them`, async () => {
      const graph = async (side: OwnSide, em: EntityManager): Promise<Graph> => {
        await side.orm.em
          .fork()
          .persist([country('no'), country('se')])
          .flush();
        const [no, se] = [await em.findOneOrFail(Country, { name: 'no' }), await em.findOneOrFail(Country, { name: 'se' })];
        const region = make(Region, { name: 'r', origin: origin('x', no), origins: [origin('a', se), origin('b', no)] });
        const stub = make(Stub, { name: 's', origin: origin('y', se) });
        const rows = [post('p0', { origin: origin('z', no), region }), post('p1', { stub, region })];
        return { rows, entities: [...rows, region, stub] };
      };
      await differential(graph, call());
    });
  }
});

/**
 * A tree compared as docs/differences.md ("Trees in one call") says it differs: rows and objects by
 * names (cohort assigns keys in the order it reaches the entities, flush parents first), the insert
 * events (flush's extra updates fire update events, cohort's one UPDATE none), a next flush sending
 * nothing on either side; the objects' keys and references agree with their rows.
 */
async function treeDifferential(build: () => Graph, call: (em: EntityManager, rows: object[]) => Promise<unknown>) {
  const named = async (side: OwnSide) => {
    const all = await tablesOf(side, TABLES);
    const name = (table: string, id: unknown) =>
      id == null ? null : labelOf((all[table] as Record<string, unknown>[]).find((r) => r.id === id) as object);
    const rows = (table: string, refs: Record<string, string>) =>
      (all[table] as Record<string, unknown>[])
        .map(({ id: _, ...row }) => {
          for (const [column, target] of Object.entries(refs)) row[column] = name(target, row[column]);
          return row;
        })
        .sort((a, b) => labelOf(a).localeCompare(labelOf(b)));
    return {
      writer: rows('writer', { mentor_id: 'writer' }),
      post: rows('post', { writer_id: 'writer', editor_id: 'writer' }),
      comment: rows('comment', { parent_id: 'comment', post_id: 'post' }),
      others: ['book', 'topic', 'post_topics', 'edition', 'stub', 'country', 'region'].map((t) => all[t]),
    };
  };
  const masked = (e: object) => {
    const { id: _, ...rest } = graphStateOf(e);
    for (const key of ['mentor', 'parent', 'writer', 'editor', 'post'] as const) {
      const to = (e as Record<string, unknown>)[key] as object | null | undefined;
      if (to != null) rest[key] = labelOf(Reference.unwrapReference(to));
    }
    if (Array.isArray(rest.comments)) rest.comments = (e as Post).comments.getItems().map(labelOf).sort();
    return rest;
  };
  const run = async (side: OwnSide, write: (em: EntityManager, graph: Graph) => Promise<unknown>) => {
    const em = side.orm.em.fork() as EntityManager;
    const graph = build();
    side.events.length = 0;
    await write(em, graph);
    // Flush leaves a reference to an entity of the same commit out of the create change set (its
    // extra update writes it); cohort's change set holds it (docs/differences.md, trees).
    const creates = side.events.filter((e) => !/Update/.test(e));
    const events = creates.map((e) => e.replace(/\bparent,/, '')).sort();
    const withParent = creates.filter((e) => /\bparent,/.test(e)).length;
    const state = { rows: await named(side), objects: graph.entities.map(masked), events };
    for (const e of graph.entities) {
      const id = (e as { id?: number }).id;
      expect(typeof id, labelOf(e)).toBe('number');
      expect(helper(e).__managed, labelOf(e)).toBe(true);
    }
    return { state, next: await nextFlushOf(side, em), withParent };
  };
  const ref = await run(reference, async (em, graph) => {
    em.persist(graph.rows);
    await em.flush();
  });
  const sub = await run(subject, (em, graph) => call(em, graph.rows));
  expect(sub.state).toEqual(ref.state);
  expect(ref.next).toEqual([]);
  expect(sub.next).toEqual([]);
  expect(ref.withParent).toBe(0);
  expect(sub.withParent).toBeGreaterThan(0);
  // The objects' keys are their rows': each comment's parent and post by key.
  const stored = await subject.rows('comment');
  return stored;
}

describe('a tree among related entities', () => {
  for (const [name, call] of CALLS) {
    for (const batchSize of [1, 10]) {
      it(`${name} (batchSize ${batchSize}): new comments whose parent is another new comment of the same or another row, child before parent too: the tree of flush`, async () => {
        let built: Comment[] = [];
        const graph = (): Graph => {
          const rows = [post('p0'), post('p1'), post('p2')];
          const top = comment(rows[0] as Post, 'top', { place: place('x', [1, 1]) });
          const reply = comment(rows[0] as Post, 'reply', { parent: top });
          const deep = comment(rows[1] as Post, 'deep', { parent: reply, tags: [alias('d')] });
          // The child before its parent in the collection, and a cycle.
          const early = make(Comment, { text: 'early', post: rows[1] as Post });
          const late = make(Comment, { text: 'late', post: rows[1] as Post });
          early.parent = late;
          (rows[1] as Post).comments.add([early, late]);
          const ping = comment(rows[2] as Post, 'ping');
          const pong = comment(rows[2] as Post, 'pong', { parent: ping });
          ping.parent = pong;
          built = [top, reply, deep, early, late, ping, pong];
          return { rows, entities: [...rows, ...built] };
        };
        const stored = await treeDifferential(graph, call({ batchSize }));
        const byId = new Map(stored.map((r) => [r.id, r]));
        for (const c of built) {
          expect(byId.get(c.id)?.text).toBe(c.text);
          expect(byId.get(c.id)?.parent_id ?? null).toBe(c.parent?.id ?? null);
          expect(byId.get(c.id)?.post_id).toBe(c.post.id);
        }
      });
    }
  }

  const laterParent = (): Graph => {
    const rows = [post('p0'), post('p1')];
    const top = comment(rows[1] as Post, 'top');
    const child = comment(rows[0] as Post, 'child', { parent: top });
    return { rows, entities: [...rows, top, child] };
  };

  it('a new comment whose parent is a new comment of another row of the batch: the tree of flush', async () => {
    await treeDifferential(laterParent, insert({ batchSize: 10 }));
  });

  for (const [name, call] of CALLS) {
    it(`${name}, one row per batch: a new comment whose parent is a new comment of a row of a later batch: refused (that parent's post has no key yet), nothing written`, async () => {
      const refEm = reference.orm.em.fork() as EntityManager;
      refEm.persist(laterParent().rows);
      await refEm.flush();
      expect((await reference.rows('comment')).map((r) => [r.text, r.parent_id, r.post_id])).toEqual([
        ['top', null, 2],
        ['child', 1, 1],
      ]);
      const error = await failure(call({ batchSize: 1 })(subject.orm.em.fork() as EntityManager, laterParent().rows));
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({
        feature: 'unsaved reference',
        entityName: 'Comment',
        property: 'post',
        index: 0,
        relation: { entityName: 'Post', property: 'comments', target: 'Comment' },
      });
      for (const table of TABLES) expect(await subject.rows(table), table).toEqual([]);
    });
  }

  // Flush links a new mentor with an extra UPDATE that increments the writer's version. cohort's
  // follow-up UPDATE of a tree moves the version on too (the same rows, compared by names); a mentor
  // an earlier batch of the call inserted too, as one flush of the input links it with an extra update.
  const byNames = async (db: typeof reference) => {
    const rows = await db.rows('writer');
    const names = new Map(rows.map((r) => [r.id, r.name]));
    return rows
      .map((r) => [r.name, r.mentor_id === null ? null : names.get(r.mentor_id), r.version])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  };
  const versioned: Record<string, () => Post[]> = {
    'a new writer whose new mentor is reached through it (a chain)': () => [
      post('p0', { writer: writer('leaf', { mentor: writer('mid', { mentor: fullWriter('root') }) }) }),
    ],
    'a mentor reached twice (as a mentor and as an editor Ref)': () => {
      const boss = writer('boss');
      return [post('p0', { writer: writer('ann', { mentor: boss }), editor: ref(boss) })];
    },
    'two new writers mentoring each other (a cycle)': () => {
      const a = writer('a');
      a.mentor = writer('b', { mentor: a });
      return [post('p0', { writer: a })];
    },
  };
  for (const [what, build] of Object.entries(versioned)) {
    for (const [name, call] of CALLS) {
      it(`${name}, versioned writers: ${what}: the linked writers' versions move on as flush's extra update moves them`, async () => {
        const refEm = reference.orm.em.fork() as EntityManager;
        refEm.persist(build());
        await refEm.flush();
        const expected = await byNames(reference);
        expect(expected.map((r) => r[2])).toContain(2);
        await call({ batchSize: 10 })(subject.orm.em.fork() as EntityManager, build());
        expect(await byNames(subject)).toEqual(expected);
      });
    }
  }
  // Flush's extra updates fire beforeUpdate and afterUpdate per linked entity after every
  // afterCreate of the flush (issue 22); cohort fires them as for a tree of the rows, once the
  // batch's every insert event ran. Compared: the events' kinds and classes in order, and the events
  // themselves as sets (flush inserts parents first, cohort in the order reached; flush leaves the
  // reference out of the create change set: docs/differences.md).
  const trees: Record<string, () => Graph> = {
    'versioned writers, a chain and a mentor reached twice': () => {
      const boss = writer('boss');
      const rows = [
        post('p0', { writer: writer('leaf', { mentor: writer('mid', { mentor: fullWriter('root') }) }) }),
        post('p1', { writer: writer('ann', { mentor: boss }), editor: ref(boss) }),
      ];
      return { rows, entities: rows };
    },
    'comments whose parent is another new comment, and writers': () => {
      const rows = [post('p0', { writer: writer('ann', { mentor: writer('old') }) }), post('p1')];
      const top = comment(rows[0] as Post, 'top');
      comment(rows[1] as Post, 'reply', { parent: top });
      return { rows, entities: rows };
    },
  };
  for (const [what, build] of Object.entries(trees)) {
    for (const [name, call] of CALLS) {
      it(`${name}: ${what}: beforeUpdate and afterUpdate per linked entity after every afterCreate, as flush`, async () => {
        const run = async (side: OwnSide, write: (em: EntityManager, rows: object[]) => Promise<unknown>) => {
          side.events.length = 0;
          await write(side.orm.em.fork() as EntityManager, build().rows);
          const events = [...side.events];
          return {
            kinds: events.map((e) => e.split(' ').slice(0, 2).join(' ')),
            events: events.map((e) => (/Create/.test(e) ? e.replace(/\b(parent|mentor),/, '') : e)).sort(),
            writers: await byNames(side),
          };
        };
        const ref = await run(reference, async (em, rows) => {
          em.persist(rows);
          await em.flush();
        });
        const sub = await run(subject, call({ batchSize: 10 }));
        expect(ref.kinds.filter((k) => k.startsWith('afterUpdate')).length).toBeGreaterThan(0);
        expect(sub.kinds).toEqual(ref.kinds);
        expect(sub.events).toEqual(ref.events);
        expect(sub.writers).toEqual(ref.writers);
      });
    }
  }

  for (const [name, call] of CALLS) {
    it(`${name}, versioned writers: a mentor inserted by an earlier batch of the call (one row per batch): linked by an UPDATE of the row's batch that moves the version on, with the update events, as flush's extra update`, async () => {
      const build = () => {
        const boss = writer('boss');
        return [post('p0', { writer: boss }), post('p1', { writer: writer('ann', { mentor: boss }) })];
      };
      const run = async (side: OwnSide, write: (em: EntityManager, rows: object[]) => Promise<unknown>) => {
        side.events.length = 0;
        const em = side.orm.em.fork() as EntityManager;
        await write(em, build());
        const events = [...side.events];
        const from = side.sql.length;
        await em.flush();
        return {
          updates: events.filter((e) => e.includes('Update')).sort(),
          creates: events
            .filter((e) => e.includes('Create'))
            .map((e) => e.split(' ').slice(0, 3).join(' '))
            .sort(),
          writers: await byNames(side),
          again: side.sql.slice(from).filter((s) => /\b(insert|update|delete)\b/i.test(s)),
        };
      };
      const ref = await run(reference, async (em, rows) => {
        em.persist(rows);
        await em.flush();
      });
      expect(ref.writers).toEqual([
        ['ann', 'boss', 2],
        ['boss', null, 1],
      ]);
      expect(ref.updates.length).toBeGreaterThan(0);
      const sub = await run(subject, call({ batchSize: 1 }));
      expect(sub).toEqual(ref);
    });
  }
});

describe('composite keys of related entities', () => {
  for (const [name, call] of CALLS) {
    it(`${name}: new editions keyed by their new post and a language`, async () => {
      const graph = (): Graph => {
        const rows = [post('p0'), post('p1')];
        const editions = [
          make(Edition, { post: rows[0] as Post, lang: 'en', blurb: 'b0' }),
          make(Edition, { post: rows[0] as Post, lang: 'nb', blurb: 'b1' }),
          make(Edition, { post: rows[1] as Post, lang: 'en', blurb: 'b2' }),
        ];
        (rows[0] as Post).editions.add(editions.slice(0, 2));
        (rows[1] as Post).editions.add(editions[2] as Edition);
        return { rows, entities: [...rows, ...editions] };
      };
      await differential(graph, call());
    });
  }
});

describe('related entities the EntityManager knows', () => {
  it('a new writer made with em.create() (persisted on create), with embeddables', async () => {
    const graph = (_side: OwnSide, em: EntityManager): Graph => {
      const ann = em.create(Writer, {
        name: 'ann',
        home: { city: 'x', geo: { lat: 1, lng: 2 } },
        aliases: [{ name: 'a', kind: 'k' }],
      } as never);
      const rows = [post('p0', { writer: ann }), post('p1', { writer: ann })];
      return { rows, entities: [...rows, ann] };
    };
    await differential(graph, insert());
  });

  it('a new writer persisted (not flushed) whose new book is not', async () => {
    const graph = (_side: OwnSide, em: EntityManager): Graph => {
      const ann = writer('ann', { office: place('o') });
      const book = make(Book, { title: 'b', writer: ann, printed: place('p', [1, 2]) });
      ann.books.add(book);
      em.persist(ann);
      const rows = [post('p0', { writer: ann })];
      return { rows, entities: [...rows, ann, book] };
    };
    await differential(graph, insert());
  });

  it("a loaded writer given a new mentor, referred to by a new post: the writer's change is left to the next flush, after which the rows are flush's", async () => {
    const build = async (side: OwnSide, em: EntityManager) => {
      await side.orm.em.fork().persist(writer('old')).flush();
      const old = await em.findOneOrFail(Writer, { name: 'old' });
      const boss = writer('boss');
      old.mentor = boss;
      return { rows: [post('p0', { writer: old })], entities: [old, boss] };
    };
    const refEm = reference.orm.em.fork() as EntityManager;
    const ref = await build(reference, refEm);
    refEm.persist(ref.rows);
    await refEm.flush();
    expect((await reference.rows('writer')).map((r) => [r.name, r.mentor_id, r.version])).toEqual([
      ['old', 2, 2],
      ['boss', null, 1],
    ]);
    const subEm = subject.orm.em.fork() as EntityManager;
    const sub = await build(subject, subEm);
    const result = await insert()(subEm, sub.rows);
    expect(result).not.toHaveProperty('byEntity');
    expect((await subject.rows('writer')).map((r) => [r.name, r.mentor_id, r.version])).toEqual([['old', null, 1]]);
    await subEm.flush();
    expect(await tablesOf(subject, TABLES)).toEqual(await tablesOf(reference, TABLES));
    expect(sub.entities.map(graphStateOf)).toEqual(ref.entities.map(graphStateOf));
    expect(await nextFlushOf(subject, subEm)).toEqual([]);
  });
});
