import { randomUUID } from 'node:crypto';
// Cascade inserts (issue 22), MikroORM, reviewed against em.persist() + em.flush() on equal inputs in
// two schemas: rows of every table, keys and foreign keys on the objects, the unit of work, the
// entity events, and what a following flush sends — for graphs the conformance file does not build
// (shared parents across and within batches, a parent holding its row in its collection, to-one
// chains, loaded parents, one-to-ones, orphanRemoval and cascade: [] relations, cycles, failures at
// a related entity, streams, atomic: false). Where cohort does not write what flush writes, it must
// refuse with a typed error naming the class, the property and the row, and write nothing.
import {
  BulkDatabaseError,
  BulkHookError,
  BulkValidationError,
  bulkInsert,
  bulkSave,
  PartialImportError,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '@cohort/mikro-orm';
import { Collection } from '@mikro-orm/core';
import { BeforeCreate, Entity, ManyToOne, OneToMany, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type OwnMikroOrmPair,
  type OwnSide,
  ownMikroOrmPair,
  unitOfWorkState,
  withForcedStrategy,
} from '../harness/own-mikro-orm-pair.js';

@Entity({ tableName: 'address' })
class Address {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) city!: string;
}

@Entity({ tableName: 'customer' })
class Customer {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: 'customer_name_unique' }) name!: string;
  @ManyToOne(() => Address, { nullable: true }) address?: Address | null;
  @OneToMany(
    () => Card,
    (card) => card.customer,
  )
  cards = new Collection<Card>(this);
}

@Entity({ tableName: 'card' })
class Card {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) no!: string;
  @ManyToOne(() => Customer) customer!: Customer;
}

@Entity({ tableName: 'product' })
class Product {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;

  @BeforeCreate() refuseBoom(): void {
    if (this.name === 'boom') throw new Error('boom is refused');
  }
}

@Entity({ tableName: 'label' })
class Label {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) text!: string;
}

@Entity({ tableName: 'purchase' })
class Purchase {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: 'purchase_ref_unique' }) ref!: string;
  @ManyToOne(() => Customer, { nullable: true }) customer?: Customer | null;
  @ManyToOne(() => Customer, { nullable: true, cascade: [] }) payer?: Customer | null;
  @OneToMany(
    () => Line,
    (line) => line.purchase,
  )
  lines = new Collection<Line>(this);
  @OneToMany(
    () => Note,
    (note) => note.purchase,
    { orphanRemoval: true },
  )
  notes = new Collection<Note>(this);
  @OneToMany(
    () => Draft,
    (draft) => draft.purchase,
    { cascade: [] },
  )
  drafts = new Collection<Draft>(this);
  @OneToOne(() => Label, { owner: true, nullable: true }) label?: Label | null;
  @ManyToOne(() => Voucher, { nullable: true }) voucher?: Voucher | null;
  @OneToMany(
    () => Stamp,
    (stamp) => stamp.purchase,
  )
  stamps = new Collection<Stamp>(this);
  @OneToOne(
    () => Invoice,
    (invoice) => invoice.purchase,
    { nullable: true },
  )
  invoice?: Invoice | null;
}

@Entity({ tableName: 'line' })
class Line {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: 'line_sku_unique' }) sku!: string;
  @Property({ type: 'integer' }) qty!: number;
  @ManyToOne(() => Purchase) purchase!: Purchase;
  @ManyToOne(() => Product, { nullable: true }) product?: Product | null;
}

@Entity({ tableName: 'note' })
class Note {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) text!: string;
  @ManyToOne(() => Purchase) purchase!: Purchase;
}

@Entity({ tableName: 'draft' })
class Draft {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) text!: string;
  @ManyToOne(() => Purchase, { nullable: true }) purchase?: Purchase | null;
}

@Entity({ tableName: 'invoice' })
class Invoice {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) no!: string;
  @OneToOne(() => Purchase, { owner: true, nullable: true }) purchase?: Purchase | null;
}

@Entity({ tableName: 'category' })
class Category {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @ManyToOne(() => Category, { nullable: true }) parent?: Category | null;
}

@Entity({ tableName: 'club' })
class Club {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @ManyToOne(() => Player, { nullable: true }) captain?: Player | null;
}

@Entity({ tableName: 'player' })
class Player {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20 }) name!: string;
  @ManyToOne(() => Club, { nullable: true }) club?: Club | null;
}

@Entity({ tableName: 'voucher' })
class Voucher {
  @PrimaryKey({ type: 'uuid' }) id: string = randomUUID();
  @Property({ type: 'string', length: 20 }) code!: string;
}

@Entity({ tableName: 'stamp' })
class Stamp {
  @PrimaryKey({ type: 'uuid' }) id: string = randomUUID();
  @Property({ type: 'string', length: 20 }) mark!: string;
  @ManyToOne(() => Purchase) purchase!: Purchase;
}

const ENTITIES = [
  Voucher,
  Stamp,
  Address,
  Customer,
  Card,
  Product,
  Label,
  Purchase,
  Line,
  Note,
  Draft,
  Invoice,
  Category,
  Club,
  Player,
];
const TABLES = [
  'address',
  'customer',
  'card',
  'product',
  'label',
  'purchase',
  'line',
  'note',
  'draft',
  'invoice',
  'category',
  'club',
  'player',
  'voucher',
  'stamp',
];
type Named = { ref?: string; sku?: string; name?: string; city?: string; text?: string; no?: string };
const labelOf = (e: object) => {
  const n = e as Named;
  return n.ref ?? n.sku ?? n.name ?? n.city ?? n.text ?? n.no ?? '?';
};

let pair: OwnMikroOrmPair;
let reference: OwnSide;
let subject: OwnSide;

beforeAll(async () => {
  pair = await ownMikroOrmPair('mcasrev', { entities: ENTITIES }, labelOf);
  ({ reference, subject } = pair);
});
beforeEach(() => pair.reset(TABLES));
afterAll(() => pair?.close());

const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
const purchase = (ref: string, data: Partial<Purchase> = {}) => make(Purchase, { ref, ...data });
const line = (p: Purchase, sku: string, data: Partial<Line> = {}) => {
  const l = make(Line, { sku, qty: 1, purchase: p, ...data });
  p.lines.add(l);
  return l;
};

/** An entity as data: own values, to-ones by key, initialized collections by their items' keys. */
function stateOf(entity: object): Record<string, unknown> {
  const out: Record<string, unknown> = { class: entity.constructor.name };
  for (const key of Object.keys(entity).sort()) {
    const value = (entity as Record<string, unknown>)[key];
    if (value === undefined || typeof value === 'function') continue;
    if (value instanceof Collection) {
      out[key] = value.isInitialized() ? value.getItems(false).map((item) => (item as { id?: number }).id ?? 'new') : 'uninit';
    } else if (value !== null && typeof value === 'object') {
      out[key] = `${value.constructor.name}#${(value as { id?: number }).id ?? 'new'}`;
    } else out[key] = value;
  }
  return out;
}

const everything = async (side: OwnSide) => {
  const all: Record<string, unknown[]> = {};
  for (const table of TABLES) all[table] = await side.rows(table);
  return all;
};

/** What the side's next flush on `em` sends (schema name masked). */
async function nextFlush(side: OwnSide, em: EntityManager): Promise<string[]> {
  const from = side.sql.length;
  await em.flush();
  return (
    side.sql
      .slice(from)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the logger's colours
      .map((s) => s.replace(/\x1B\[[0-9;]*m/g, '').replaceAll(side.schema, 'S'))
      .filter((s) => !/^(begin|commit|rollback)/i.test(s))
  );
}

interface Run {
  em: EntityManager;
  entities: object[];
}

/**
 * Builds the graph on both sides (`build` returns the input rows and every entity to compare), runs
 * persist + flush on the reference and `call` on the subject, and compares everything.
 */
async function differential(
  build: (
    side: OwnSide,
    em: EntityManager,
  ) => Promise<{ rows: object[]; entities: object[] }> | { rows: object[]; entities: object[] },
  call: (em: EntityManager, rows: object[]) => Promise<unknown>,
  opts: { events?: 'exact' | 'sorted' } = {},
): Promise<{ ref: Run; sub: Run; result: unknown }> {
  const refEm = reference.orm.em.fork() as EntityManager;
  const refGraph = await build(reference, refEm);
  reference.events.length = 0;
  refEm.persist(refGraph.rows);
  await refEm.flush();
  const subEm = subject.orm.em.fork() as EntityManager;
  const subGraph = await build(subject, subEm);
  subject.events.length = 0;
  const result = await call(subEm, subGraph.rows);
  expect(await everything(subject), 'rows').toEqual(await everything(reference));
  expect(subGraph.entities.map(stateOf), 'objects').toEqual(refGraph.entities.map(stateOf));
  expect(unitOfWorkState(subEm, subGraph.entities), 'unit of work').toEqual(unitOfWorkState(refEm, refGraph.entities));
  const events = (e: string[]) => (opts.events === 'sorted' ? [...e].sort() : e);
  expect(events(subject.events), 'events').toEqual(events(reference.events));
  expect(await nextFlush(subject, subEm), 'next flush').toEqual(await nextFlush(reference, refEm));
  expect(await everything(subject), 'rows after the next flush').toEqual(await everything(reference));
  return { ref: { em: refEm, entities: refGraph.entities }, sub: { em: subEm, entities: subGraph.entities }, result };
}

const insert =
  (options: object = {}) =>
  (em: EntityManager, rows: object[]) =>
    bulkInsert(em, Purchase, rows as Purchase[], withForcedStrategy(options));
const save =
  (options: object = {}) =>
  (em: EntityManager, rows: object[]) =>
    bulkSave(em, Purchase, rows as Purchase[], withForcedStrategy(options));

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Three purchases sharing one new customer; the first two also share a new product. */
function shared() {
  const customer = make(Customer, { name: 'ann', address: make(Address, { city: 'oslo' }) });
  const widget = make(Product, { name: 'widget' });
  const rows = ['p0', 'p1', 'p2', 'p3'].map((ref) => purchase(ref, { customer }));
  const lines = [
    line(rows[0] as Purchase, 'a', { product: widget }),
    line(rows[1] as Purchase, 'b', { product: widget }),
    line(rows[3] as Purchase, 'd', { product: widget }),
  ];
  return { rows, entities: [...rows, customer, customer.address as Address, widget, ...lines] };
}

describe('shared new parents', () => {
  for (const batchSize of [1, 2, 10]) {
    it(`a new customer and product shared by rows of one batch and of several (batchSize ${batchSize}): as flush, inserted once`, async () => {
      const { result } = await differential(() => shared(), insert({ batchSize }), {
        events: batchSize === 10 ? 'exact' : 'sorted',
      });
      expect(result).toMatchObject({
        inserted: 4,
        byEntity: {
          Purchase: { inserted: 4, updated: 0 },
          Customer: { inserted: 1 },
          Address: { inserted: 1 },
          Product: { inserted: 1 },
          Line: { inserted: 3 },
        },
      });
    });
  }

  it('the same with bulkSave, pipeline on, atomic: false', async () => {
    await differential(() => shared(), save({ batchSize: 2, atomic: false }), { events: 'sorted' });
  });

  it('one statement per class and batch (COPY: with its key draw): statements count them', async () => {
    const em = subject.orm.em.fork() as EntityManager;
    const { rows } = shared();
    const result = (await bulkInsert(em, Purchase, rows as Purchase[], withForcedStrategy({ batchSize: 10 }))) as {
      statements: number;
    };
    // address, customer, product, purchase, line: one each; catalog look-ups are counted once per process.
    expect(result.statements).toBeGreaterThanOrEqual(5);
    const again = make(Customer, { name: 'bob', address: make(Address, { city: 'rome' }) });
    const next = ['q0', 'q1'].map((ref) => purchase(ref, { customer: again }));
    line(next[0] as Purchase, 'x', { product: make(Product, { name: 'gear' }) });
    line(next[1] as Purchase, 'y', { product: make(Product, { name: 'bolt' }) });
    const second = (await bulkInsert(em, Purchase, next, withForcedStrategy())) as { statements: number; byEntity: unknown };
    // As many statements as five plain inserts of one class each (one INSERT; with COPY, its key draw too).
    const labels = () => [make(Label, { text: 'l1' }), make(Label, { text: 'l2' })];
    await bulkInsert(em, Label, labels(), withForcedStrategy()); // the table's catalog look-up
    const plain = await bulkInsert(em, Label, labels(), withForcedStrategy());
    expect(second.statements).toBe(5 * plain.statements);
    expect(second.byEntity).toMatchObject({ Product: { inserted: 2 }, Line: { inserted: 2 } });
  });
});

describe('a parent holding its rows', () => {
  it("a new customer's loaded collection… a new shop-like parent referenced by rows and holding a row in its one-to-many", async () => {
    // Customer.cards: a new customer referenced by card rows and holding them (card.customer set, cards.add).
    const build = () => {
      const customer = make(Customer, { name: 'cat' });
      const cards = ['c1', 'c2', 'c3'].map((no) => make(Card, { no, customer }));
      customer.cards.add(cards);
      return { rows: cards, entities: [...cards, customer] };
    };
    for (const batchSize of [1, 2, 10]) {
      await pair.reset(TABLES);
      await differential(build, (em, rows) => bulkInsert(em, Card, rows as Card[], withForcedStrategy({ batchSize })), {
        events: 'sorted',
      });
    }
  });
});

describe('nested depth', () => {
  it('purchase → new customer → new address (to-one chain), and purchase → lines → new product', async () => {
    const build = () => {
      const rows = ['p0', 'p1'].map((ref, i) =>
        purchase(ref, { customer: make(Customer, { name: `c${i}`, address: make(Address, { city: `city${i}` }) }) }),
      );
      const lines = [
        line(rows[0] as Purchase, 'a', { product: make(Product, { name: 'pa' }) }),
        line(rows[1] as Purchase, 'b', { product: make(Product, { name: 'pb' }) }),
      ];
      return {
        rows,
        entities: [
          ...rows,
          ...rows.map((r) => r.customer as Customer),
          ...rows.map((r) => r.customer?.address as Address),
          ...lines,
        ],
      };
    };
    await differential(build, insert());
  });

  it("a new customer's new cards (one-to-many of a related entity) are inserted as flush inserts them", async () => {
    const build = () => {
      const customer = make(Customer, { name: 'dan' });
      const card = make(Card, { no: 'k1', customer });
      customer.cards.add(card);
      const rows = [purchase('p0', { customer })];
      return { rows, entities: [...rows, customer, card] };
    };
    await differential(build, insert());
  });
});

describe('stored parents', () => {
  it('bulkSave of a loaded purchase with a new line: the line inserted with the key of the loaded row, as flush (issue 22)', async () => {
    const build = async (side: OwnSide, em: EntityManager) => {
      await side.orm.em.fork().persist(purchase('stored')).flush();
      const loaded = await em.findOneOrFail(Purchase, { ref: 'stored' }, { populate: ['lines'] });
      const added = line(loaded, 'new');
      return { rows: [loaded], entities: [loaded, added] };
    };
    await differential(build, save());
    expect(await reference.rows('line')).toEqual([{ id: 1, sku: 'new', qty: 1, purchase_id: 1, product_id: null }]);
  });

  it('a new purchase referring to a loaded customer: only the purchase and its lines are inserted', async () => {
    const build = async (side: OwnSide, em: EntityManager) => {
      await side.orm.em
        .fork()
        .persist(make(Customer, { name: 'old' }))
        .flush();
      const customer = await em.findOneOrFail(Customer, { name: 'old' });
      const rows = [purchase('p0', { customer })];
      const lines = [line(rows[0] as Purchase, 'a')];
      return { rows, entities: [...rows, customer, ...lines] };
    };
    await differential(build, save());
  });
});

describe('one-to-ones', () => {
  it('an owning one-to-one to a new label is inserted first, as flush', async () => {
    const build = () => {
      const rows = ['p0', 'p1'].map((ref) => purchase(ref, { label: make(Label, { text: `l-${ref}` }) }));
      return { rows, entities: [...rows, ...rows.map((r) => r.label as Label)] };
    };
    await differential(build, insert());
  });

  it('an inverse one-to-one holding a new invoice: inserted after the rows, as flush inserts it', async () => {
    const build = () => {
      const rows = [purchase('p0'), purchase('p1')];
      const invoice = make(Invoice, { no: 'i1', purchase: rows[1] });
      (rows[1] as Purchase).invoice = invoice;
      return { rows, entities: [...rows, invoice] };
    };
    const { result } = await differential(build, insert());
    expect(result).toMatchObject({ byEntity: { Purchase: { inserted: 2 }, Invoice: { inserted: 1 } } });
    expect(await reference.rows('invoice')).toEqual([{ id: 1, no: 'i1', purchase_id: 2 }]);
  });
});

describe('cascade options on the graph', () => {
  it('orphanRemoval one-to-many with new notes: inserted as flush inserts them', async () => {
    const build = () => {
      const rows = [purchase('p0'), purchase('p1')];
      const notes = ['n0', 'n1'].map((text, i) => make(Note, { text, purchase: rows[i] }));
      (rows[0] as Purchase).notes.add(notes[0] as Note);
      (rows[1] as Purchase).notes.add(notes[1] as Note);
      return { rows, entities: [...rows, ...notes] };
    };
    await differential(build, insert());
  });

  it('a one-to-many with cascade: [] holding a new draft: flush leaves it out; cohort refuses Purchase.drafts at the row', async () => {
    const build = () => {
      const rows = [purchase('p0'), purchase('p1')];
      const draft = make(Draft, { text: 'd', purchase: rows[1] });
      (rows[1] as Purchase).drafts.add(draft);
      return { rows, draft };
    };
    const refEm = reference.orm.em.fork() as EntityManager;
    const ref = build();
    refEm.persist(ref.rows);
    await refEm.flush();
    expect(await reference.rows('purchase')).toHaveLength(2);
    expect(await reference.rows('draft')).toEqual([]);
    expect(ref.draft.id).toBeUndefined();
    const error = await failure(insert()(subject.orm.em.fork() as EntityManager, build().rows));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ entityName: 'Purchase', property: 'drafts', index: 1 });
    for (const table of TABLES) expect(await subject.rows(table), table).toEqual([]);
  });

  it('a many-to-one with cascade: [] to a new customer: flush still inserts it (to-ones are followed whatever their cascade)', async () => {
    const build = () => {
      const payer = make(Customer, { name: 'payer' });
      const rows = [purchase('p0', { payer }), purchase('p1', { payer })];
      return { rows, entities: [...rows, payer] };
    };
    await differential(build, insert());
  });

  it('a many-to-one with cascade: [] to a new customer holding new cards: flush inserts the customer, not its cards; cohort refuses Customer.cards', async () => {
    const build = () => {
      const payer = make(Customer, { name: 'payer' });
      const card = make(Card, { no: 'c1', customer: payer });
      payer.cards.add(card);
      return { rows: [purchase('p0', { payer })], card };
    };
    const refEm = reference.orm.em.fork() as EntityManager;
    const ref = build();
    refEm.persist(ref.rows);
    await refEm.flush();
    expect(await reference.rows('customer')).toHaveLength(1);
    // Flush's persist stops at the relation without cascade: the card is not in that flush.
    expect(await reference.rows('card')).toEqual([]);
    expect(ref.card.id).toBeUndefined();
    const error = await failure(insert()(subject.orm.em.fork() as EntityManager, build().rows));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'cascade insert', entityName: 'Customer', property: 'cards', index: 0 });
    for (const table of TABLES) expect(await subject.rows(table), table).toEqual([]);
  });
});

describe('self-reference', () => {
  for (const order of ['parent first', 'parent later'] as const) {
    it(`a category whose parent is a new category of the same input (${order}): linked as flush links it`, async () => {
      const build = () => {
        const parent = make(Category, { name: 'root' });
        const child = make(Category, { name: 'leaf', parent });
        return order === 'parent first' ? [parent, child] : [child, parent];
      };
      const tree = async (side: OwnSide) => {
        const rows = await side.rows('category');
        const names = new Map(rows.map((r) => [r.id, r.name]));
        return rows
          .map((r) => ({ name: r.name, parent: names.get(r.parent_id) ?? null }))
          .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      };
      const refEm = reference.orm.em.fork() as EntityManager;
      refEm.persist(build());
      await refEm.flush();
      expect((await reference.rows('category')).map((r) => r.parent_id)).toContain(1);
      await bulkInsert(subject.orm.em.fork() as EntityManager, Category, build(), withForcedStrategy());
      expect(await tree(subject)).toEqual(await tree(reference));
      expect(await tree(subject)).toEqual([
        { name: 'leaf', parent: 'root' },
        { name: 'root', parent: null },
      ]);
    });
  }

  it('a new parent that is not in the input (flush would insert it): refused naming Category.parent', async () => {
    const child = make(Category, { name: 'leaf', parent: make(Category, { name: 'root' }) });
    const error = await failure(bulkInsert(subject.orm.em.fork() as EntityManager, Category, [child], withForcedStrategy()));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'unsaved reference', entityName: 'Category', property: 'parent', index: 0 });
    expect(await subject.rows('category')).toEqual([]);
  });
});

describe('failures at a related entity', () => {
  const bad = {
    'a validation error (address city too long)': (rows: Purchase[]) => {
      (rows[1] as Purchase).customer = make(Customer, { name: 'x', address: make(Address, { city: 'c'.repeat(30) }) });
    },
    'a unique violation (two new customers named alike)': (rows: Purchase[]) => {
      (rows[0] as Purchase).customer = make(Customer, { name: 'twin' });
      (rows[1] as Purchase).customer = make(Customer, { name: 'twin' });
    },
    'a throwing beforeCreate of the related class': (rows: Purchase[]) => {
      line(rows[1] as Purchase, 'z', { product: make(Product, { name: 'boom' }) });
    },
  };
  for (const [what, spoil] of Object.entries(bad)) {
    it(`${what}: nothing written anywhere, the error names the row and the relation`, async () => {
      const build = () => {
        const rows = [purchase('p0'), purchase('p1')];
        line(rows[0] as Purchase, 'a', { product: make(Product, { name: 'ok' }) });
        spoil(rows);
        const graph = new Set<object>(rows);
        for (const r of rows) {
          if (r.customer) graph.add(r.customer).add(r.customer.address ?? r.customer);
          for (const l of r.lines) graph.add(l).add(l.product ?? l);
        }
        return { rows, entities: [...graph] };
      };
      const refEm = reference.orm.em.fork() as EntityManager;
      const ref = build();
      refEm.persist(ref.rows);
      const refError = await failure(refEm.flush());
      expect(refError).toBeInstanceOf(Error);
      for (const table of TABLES) expect(await reference.rows(table), table).toEqual([]);

      const subEm = subject.orm.em.fork() as EntityManager;
      const sub = build();
      const error = await failure(bulkInsert(subEm, Purchase, sub.rows, withForcedStrategy()));
      expect(error).toBeInstanceOf(
        what.startsWith('a validation') ? BulkValidationError : what.startsWith('a unique') ? BulkDatabaseError : BulkHookError,
      );
      const relation = what.startsWith('a validation')
        ? { entityName: 'Customer', property: 'address', target: 'Address' }
        : what.startsWith('a unique')
          ? { entityName: 'Purchase', property: 'customer', target: 'Customer' }
          : { entityName: 'Line', property: 'product', target: 'Product' };
      expect(error).toMatchObject({ index: 1, relation });
      expect((error as Error).message).toContain(
        `${relation.target} reached through ${relation.entityName}.${relation.property}`,
      );
      for (const table of TABLES) expect(await subject.rows(table), table).toEqual([]);
      // The objects keep the keys of what was inserted before the failure, as the failed flush leaves
      // them: for the validation error, the product, inserted first in flush's commit order, before
      // the address (cohort validates a class's group before its statement).
      expect(sub.entities.map(stateOf), 'objects').toEqual(ref.entities.map(stateOf));
      // The unit of work: flush leaves what it inserted before the failure managed (rolled back);
      // cohort manages nothing of the failed call, and its next flush sends nothing.
      expect(unitOfWorkState(subEm, sub.entities).filter((u) => u.managed || u.inIdentityMap)).toEqual([]);
      expect(await nextFlush(subject, subEm)).toEqual([]);
    });
  }
});

describe('streams, COPY, atomic: false', () => {
  async function* stream<T>(rows: T[]) {
    for (const row of rows) yield row;
  }

  it('a stream with cascades (managed: false): rows as flush, nothing managed afterwards', async () => {
    const refEm = reference.orm.em.fork() as EntityManager;
    const ref = shared();
    refEm.persist(ref.rows);
    await refEm.flush();
    const subEm = subject.orm.em.fork() as EntityManager;
    const sub = shared();
    const result = await bulkInsert(subEm, Purchase, stream(sub.rows as Purchase[]), withForcedStrategy({ batchSize: 2 }));
    expect(result).toMatchObject({ inserted: 4, byEntity: { Customer: { inserted: 1 }, Line: { inserted: 3 } } });
    expect(await everything(subject)).toEqual(await everything(reference));
    expect(sub.entities.map(stateOf)).toEqual(ref.entities.map(stateOf));
    expect(unitOfWorkState(subEm, sub.entities).filter((s) => s.managed)).toEqual([]);
    expect(await nextFlush(subject, subEm)).toEqual([]);
  });

  it('atomic: false, a failure at a line of batch 2: batch 1 with its related entities committed, batch 2 nothing', async () => {
    const build = () => {
      const rows = ['p0', 'p1', 'p2', 'p3'].map((ref) => purchase(ref, { customer: make(Customer, { name: `n${ref}` }) }));
      for (const [i, r] of rows.entries()) line(r, i === 3 ? 'a0' : `a${i}`);
      return rows;
    };
    const subEm = subject.orm.em.fork() as EntityManager;
    const rows = build();
    const error = await failure(bulkInsert(subEm, Purchase, rows, withForcedStrategy({ batchSize: 2, atomic: false })));
    expect(error).toBeInstanceOf(PartialImportError);
    expect(error).toMatchObject({ landedBatches: [0], resumeFrom: 2 });
    expect((error as Error).cause).toBeInstanceOf(BulkDatabaseError);
    expect((error as Error).cause).toMatchObject({
      index: 3,
      batch: 1,
      relation: { entityName: 'Purchase', property: 'lines', target: 'Line' },
    });
    expect((await subject.rows('purchase')).map((r) => r.ref)).toEqual(['p0', 'p1']);
    expect((await subject.rows('customer')).map((r) => r.name)).toEqual(['np0', 'np1']);
    expect((await subject.rows('line')).map((r) => r.sku)).toEqual(['a0', 'a1']);
    expect(rows.slice(0, 2).map((r) => r.customer?.id)).toEqual([1, 2]);
    expect(unitOfWorkState(subEm, rows).map((u) => u.managed)).toEqual([true, true, false, false]);
  });
});

describe('more graphs', () => {
  it("a new customer holding a card of the rows' class that is not in the input: flush inserts it; cohort refuses", async () => {
    const build = () => {
      const customer = make(Customer, { name: 'eve' });
      const cards = ['c1', 'c2'].map((no) => make(Card, { no, customer }));
      customer.cards.add(cards);
      return { rows: [cards[0] as Card], cards };
    };
    const refEm = reference.orm.em.fork() as EntityManager;
    refEm.persist(build().rows);
    await refEm.flush();
    expect((await reference.rows('card')).map((r) => r.no)).toEqual(['c1', 'c2']);
    const error = await failure(bulkInsert(subject.orm.em.fork() as EntityManager, Card, build().rows, withForcedStrategy()));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ entityName: 'Customer', property: 'cards', index: 0 });
    for (const table of TABLES) expect(await subject.rows(table), table).toEqual([]);
  });

  it('a cycle through another class (player → new club → captain: the player): flush inserts both and links them; refused', async () => {
    const build = () => {
      const player = make(Player, { name: 'pia' });
      const club = make(Club, { name: 'fc', captain: player });
      player.club = club;
      return { rows: [player], entities: [player, club] };
    };
    const refEm = reference.orm.em.fork() as EntityManager;
    refEm.persist(build().rows);
    await refEm.flush();
    const subEm = subject.orm.em.fork() as EntityManager;
    const sub = build();
    expect(await reference.rows('club')).toEqual([{ id: 1, name: 'fc', captain_id: 1 }]);
    const error = await failure(bulkInsert(subEm, Player, sub.rows as Player[], withForcedStrategy()));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'unsaved reference', entityName: 'Player', property: 'club', index: 0 });
    for (const table of TABLES) expect(await subject.rows(table), table).toEqual([]);
  });

  it('a new customer already persisted (not flushed) in the EntityManager: inserted once, the next flush sends nothing', async () => {
    const build = (_side: OwnSide, em: EntityManager) => {
      const customer = make(Customer, { name: 'pending' });
      em.persist(customer);
      const rows = [purchase('p0', { customer }), purchase('p1', { customer })];
      return { rows, entities: [...rows, customer] };
    };
    await differential(build, insert());
  });

  it('managed: false for an array: rows as flush, nothing related managed, the next flush sends nothing', async () => {
    const refEm = reference.orm.em.fork() as EntityManager;
    const ref = shared();
    refEm.persist(ref.rows);
    await refEm.flush();
    const subEm = subject.orm.em.fork() as EntityManager;
    const sub = shared();
    await bulkInsert(subEm, Purchase, sub.rows as Purchase[], withForcedStrategy({ managed: false, batchSize: 2 }));
    expect(await everything(subject)).toEqual(await everything(reference));
    expect(sub.entities.map(stateOf)).toEqual(ref.entities.map(stateOf));
    expect(unitOfWorkState(subEm, sub.entities).filter((s) => s.managed)).toEqual([]);
    expect(await nextFlush(subject, subEm)).toEqual([]);
  });

  it("a line added to one purchase's lines (add sets its purchase): inserted with that purchase, as flush", async () => {
    const build = () => {
      const rows = [purchase('p0'), purchase('p1')];
      const stray = make(Line, { sku: 's', qty: 1, purchase: rows[1] as Purchase });
      (rows[0] as Purchase).lines.add(stray);
      return { rows, entities: [...rows, stray] };
    };
    await differential(build, insert());
  });

  it("a line in one purchase's lines whose purchase is then set to another row: as flush (written with that row)", async () => {
    const build = () => {
      const rows = [purchase('p0'), purchase('p1')];
      const stray = make(Line, { sku: 's', qty: 1 });
      (rows[0] as Purchase).lines.add(stray);
      stray.purchase = rows[1] as Purchase;
      return { rows, entities: [...rows, stray] };
    };
    await differential(build, insert());
  });

  it('a stream whose new customer holds rows of later batches in its collection: flush links them; refused (Customer.cards)', async () => {
    async function* stream<T>(rows: T[]) {
      for (const row of rows) yield row;
    }
    const build = () => {
      const customer = make(Customer, { name: 'str' });
      const cards = ['c1', 'c2', 'c3'].map((no) => make(Card, { no, customer }));
      customer.cards.add(cards);
      return cards;
    };
    const refEm = reference.orm.em.fork() as EntityManager;
    refEm.persist(build());
    await refEm.flush();
    const subEm = subject.orm.em.fork() as EntityManager;
    expect((await reference.rows('card')).map((r) => r.customer_id)).toEqual([1, 1, 1]);
    const error = await failure(bulkInsert(subEm, Card, stream(build()), withForcedStrategy({ batchSize: 1 })));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({
      feature: 'cascade insert',
      entityName: 'Customer',
      property: 'cards',
      index: 0,
      relation: { entityName: 'Card', property: 'customer', target: 'Customer' },
    });
    for (const table of TABLES) expect(await subject.rows(table), table).toEqual([]);
  });

  const variants = [
    { variant: 'alone', batchSize: 1, loadedFirst: true },
    { variant: 'in an earlier batch than the new row', batchSize: 1, loadedFirst: true },
    { variant: 'in the same batch as the new row, before it', batchSize: 10, loadedFirst: true },
    { variant: 'in the same batch as the new row, after it', batchSize: 10, loadedFirst: false },
  ] as const;
  for (const { variant, batchSize, loadedFirst } of variants) {
    it(`bulkSave: a loaded purchase set to a new customer (${variant}): inserted before the row's UPDATE, which writes its key, as flush (issue 22)`, async () => {
      const build = async (side: OwnSide, em: EntityManager) => {
        await side.orm.em.fork().persist(purchase('stored')).flush();
        const loaded = await em.findOneOrFail(Purchase, { ref: 'stored' });
        const customer = make(Customer, { name: 'both' });
        loaded.customer = customer;
        if (variant === 'alone') return { rows: [loaded], entities: [loaded, customer] };
        const fresh = purchase('fresh', { customer });
        return { rows: loadedFirst ? [loaded, fresh] : [fresh, loaded], entities: [loaded, fresh, customer] };
      };
      await differential(build, save({ batchSize }), { events: batchSize === 1 && variant !== 'alone' ? 'sorted' : 'exact' });
      expect((await subject.rows('purchase')).map((r) => r.customer_id)).toEqual(variant === 'alone' ? [1] : [1, 1]);
    });
  }
});

describe('client-set keys', () => {
  // Flush inserts every entity it reaches that has no snapshot (`__originalEntityData`), a key or not.
  const uuid = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

  for (const [name, call] of [
    ['bulkInsert', insert],
    ['bulkSave', save],
  ] as const) {
    it(`${name}: a new one-to-many item and a new to-one whose keys are set when made (uuid): inserted as flush`, async () => {
      const build = () => {
        const rows = [purchase('p0', { voucher: make(Voucher, { id: uuid(1), code: 'v0' }) }), purchase('p1')];
        const stamp = make(Stamp, { id: uuid(2), mark: 's', purchase: rows[1] as Purchase });
        (rows[1] as Purchase).stamps.add(stamp);
        return { rows, entities: [...rows, rows[0]?.voucher as Voucher, stamp] };
      };
      const { result } = await differential(build, call());
      expect(result).toMatchObject({ inserted: 2, byEntity: { Voucher: { inserted: 1 }, Stamp: { inserted: 1 } } });
    });
  }

  it('keys made by the property initializer (randomUUID): the stamp and the voucher are inserted, as flush', async () => {
    const build = () => {
      const rows = [purchase('p0', { voucher: make(Voucher, { code: 'v0' }) }), purchase('p1')];
      (rows[1] as Purchase).stamps.add(make(Stamp, { mark: 's', purchase: rows[1] as Purchase }));
      return rows;
    };
    const refEm = reference.orm.em.fork() as EntityManager;
    refEm.persist(build());
    await refEm.flush();
    const subEm = subject.orm.em.fork() as EntityManager;
    const rows = build();
    await insert()(subEm, rows);
    for (const [table, label] of [
      ['stamp', 'mark'],
      ['voucher', 'code'],
    ] as const) {
      const plain = async (side: OwnSide) => (await side.rows(table, label)).map(({ id: _, ...rest }) => rest);
      expect(await plain(subject), table).toEqual(await plain(reference));
    }
    expect((await subject.rows('stamp', 'mark')).map((r) => r.id)).toEqual([rows[1]?.stamps[0]?.id]);
    expect((await subject.rows('purchase')).map((r) => r.voucher_id)).toEqual([rows[0]?.voucher?.id, null]);
    expect(await nextFlush(subject, subEm)).toEqual([]);
  });

  it('a new customer whose serial key is set by hand: inserted with that key, as flush', async () => {
    const build = () => {
      const customer = make(Customer, { id: 7, name: 'hand' });
      const rows = [purchase('p0', { customer }), purchase('p1', { customer })];
      return { rows, entities: [...rows, customer] };
    };
    await differential(build, insert({ batchSize: 1 }));
  });

  it('customers a cohort call wrote with managed: false (no snapshot) are linked by a later call, not inserted again', async () => {
    const customers = (side: string) => ['a', 'b'].map((name) => make(Customer, { name: `${side}${name}` }));
    const refEm = reference.orm.em.fork() as EntityManager;
    const refCustomers = customers('');
    await refEm.persist(refCustomers).flush();
    await refEm.persist(refCustomers.map((customer, i) => purchase(`p${i}`, { customer }))).flush();
    const subEm = subject.orm.em.fork() as EntityManager;
    const subCustomers = customers('');
    await bulkInsert(subEm, Customer, subCustomers, withForcedStrategy({ managed: false }));
    expect(unitOfWorkState(subEm, subCustomers).filter((u) => u.managed || u.snapshot)).toEqual([]);
    const result = await insert()(
      subEm,
      subCustomers.map((customer, i) => purchase(`p${i}`, { customer })),
    );
    expect(result).not.toHaveProperty('byEntity');
    expect(await everything(subject)).toEqual(await everything(reference));
  });

  it('a reference (em.getReference) and a loaded customer are stored: only the foreign keys are written, as flush', async () => {
    const build = async (side: OwnSide, em: EntityManager) => {
      await side.orm.em
        .fork()
        .persist([make(Customer, { name: 'one' }), make(Customer, { name: 'two' })])
        .flush();
      const loaded = await em.findOneOrFail(Customer, { name: 'two' });
      const rows = [purchase('p0', { customer: em.getReference(Customer, 1) }), purchase('p1', { customer: loaded })];
      return { rows, entities: [...rows, loaded] };
    };
    await differential(build, insert());
  });

  it("an unmanaged customer whose key names a stored row: flush fails (unique); cohort's UniqueViolationError names Purchase.customer", async () => {
    const build = async (side: OwnSide) => {
      await side.orm.em
        .fork()
        .persist(make(Customer, { name: 'kept' }))
        .flush();
      return [purchase('p0'), purchase('p1', { customer: make(Customer, { id: 1, name: 'other' }) })];
    };
    const refEm = reference.orm.em.fork() as EntityManager;
    refEm.persist(await build(reference));
    expect(await failure(refEm.flush())).toBeInstanceOf(Error);
    const subEm = subject.orm.em.fork() as EntityManager;
    const rows = await build(subject);
    const before = await everything(subject);
    const error = await failure(insert()(subEm, rows));
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ index: 1, relation: { entityName: 'Purchase', property: 'customer', target: 'Customer' } });
    expect(await everything(subject)).toEqual(before);
    expect(await everything(subject)).toEqual(await everything(reference));
  });
});
