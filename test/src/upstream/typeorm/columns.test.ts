// Scenarios from TypeORM's own tests of column options (test/functional/columns: value transformers,
// insert/update control, defaults; and the special columns of test/functional/schema-builder's
// create/update dates), run once with save()/insert()/upsert() and once with cohort's bulk calls.
import { bulkInsert, bulkSave, bulkUpdate, bulkUpsert, UnsupportedFeatureError } from '@cohort/typeorm';
import {
  BeforeUpdate,
  Column,
  CreateDateColumn,
  Entity,
  type EntityTarget,
  type ObjectLiteral,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type ValueTransformer,
  VersionColumn,
} from 'typeorm';
import { describe, expect, it } from 'vitest';
import { ON_TYPEORM_03 } from '../../harness/typeorm-major.js';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

// ─── value transformers ───────────────────────────────────────────────────────────────────────

const tagList: ValueTransformer = {
  to: (value: string[] | undefined) => (value === undefined ? value : value.join(', ')),
  from: (value: string) => value.split(', '),
};

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}
const pointText: ValueTransformer = {
  to: (value: Point | null | undefined) => (value == null ? value : `${value.x} ${value.y}`),
  from: (value: string | null) => {
    if (value == null) return value;
    const [x, y] = value.split(' ').map(Number);
    return new Point(x as number, y as number);
  },
};

@Entity('utb_col_article')
class Article {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar', transformer: tagList }) tags!: string[];
  @Column({ type: 'varchar', nullable: true, transformer: pointText }) spot!: Point | null;
}

const lower: ValueTransformer = { to: (v: string) => v.toLowerCase(), from: (v: string) => v };
const uri: ValueTransformer = { to: (v: string) => encodeURI(v), from: (v: string) => decodeURI(v) };
const base64: ValueTransformer = {
  to: (v: string) => Buffer.from(v).toString('base64'),
  from: (v: string) => Buffer.from(v, 'base64').toString(),
};

@Entity('utb_col_member')
class Member {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', transformer: [lower, uri, base64] }) email!: string;
}

/** Records every value its to() sees, so that the two sides can compare how often it ran. */
const recordingTo: ValueTransformer = {
  to: (v: string | null | undefined) => {
    journal.record('to', { v: v ?? '<nullish>' });
    return v;
  },
  from: (v: string | null) => (v === null ? 'was null' : v),
};

@Entity('utb_col_memo')
class Memo {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', nullable: true, transformer: recordingTo }) text!: string;
}

interface Pair {
  key: string;
  value: string;
}
const pairs: ValueTransformer = {
  to: (v: Pair[] | undefined) => v?.map((p) => `${p.key}:${p.value}`),
  from: (v: string[]) =>
    v.map((s) => {
      const [key = '', value = ''] = s.split(':');
      return { key, value };
    }),
};

@Entity('utb_col_pairs')
class PairBag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', array: true, default: [], transformer: pairs }) pairs!: Pair[];
}

/** A day kept as a `YYYY-MM-DD` wrapper in the entity, written as a timestamptz. */
class Day {
  constructor(public readonly iso: string) {}
}
const dayTransformer: ValueTransformer = {
  to: (v: Day | undefined) => (v === undefined ? v : new Date(`${v.iso}T00:00:00.000Z`)),
  from: (v: Date) => new Day(v.toISOString().slice(0, 10)),
};

@Entity('utb_col_dated')
class DatedPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'timestamptz', transformer: dayTransformer }) date!: Day;
  @BeforeUpdate() beforeUpdate() {
    journal.record('beforeUpdate', { id: this.id });
  }
}

// ─── insert / update control ──────────────────────────────────────────────────────────────────

@Entity('utb_col_controlled')
class Controlled {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar', insert: false, default: 'Default' }) firstName!: string;
  @Column({ type: 'varchar', insert: false, update: false, default: 'Default' }) lastName!: string;
  @Column({ type: 'varchar', update: false, nullable: true }) frozen!: string | null;
}

@Entity('utb_col_document')
class Document {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', nullable: true }) name!: string | null;
  @Column({ type: 'integer', insert: false, default: 1 }) revision!: number;
}

// ─── special columns and defaults ─────────────────────────────────────────────────────────────

@Entity('utb_col_stamped')
class Stamped {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  @VersionColumn() version!: number;
}

@Entity('utb_col_defaults')
class Defaults {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', default: 'draft' }) status!: string;
  @Column({ type: 'integer', default: 7 }) rank!: number;
  @Column({ type: 'boolean', default: false }) pinned!: boolean;
  @Column({ type: 'tstzrange', default: () => "tstzrange('2020-01-01T00:00:00Z', 'infinity')" }) period!: string;
  @Column({ type: 'varchar', nullable: true }) note!: string | null;
}

@Entity('utb_col_uuid')
class Ticket {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar' }) label!: string;
  @Column({ type: 'uuid', generated: 'uuid' }) serial!: string;
}

const pair = typeormPair('utb_columns', {
  entities: [Article, Member, Memo, PairBag, DatedPost, Controlled, Document, Stamped, Defaults, Ticket],
});

type Op = 'save' | 'insert' | 'update' | 'upsert';
/** The ORM's own call for `op` on the reference side, cohort's on the subject side. */
async function write<E extends ObjectLiteral>(side: TypeormSide, op: Op, target: EntityTarget<E>, rows: E[]) {
  const manager = side.dataSource.manager;
  if (side.mode === 'orm') {
    if (op === 'upsert') return void (await manager.getRepository(target).upsert(rows, ['id']));
    return void (await manager.save(target, rows));
  }
  if (op === 'save') return void (await bulkSave(side.dataSource, target, rows));
  if (op === 'insert') return void (await bulkInsert(side.dataSource, target, rows));
  if (op === 'update') return void (await bulkUpdate(side.dataSource, target, rows));
  return void (await bulkUpsert(side.dataSource, target, rows, { target: ['id'] }));
}

const make = <E extends object>(cls: new () => E, data: Partial<E>): E => Object.assign(new cls(), data);
const TIMES = ['createdAt', 'updatedAt'];

describe('value-transformer', () => {
  it('typeorm columns/value-transformer: marshals on insert and on update of the same objects', async () => {
    await pair.compare(
      async (side) => {
        const a = make(Article, { title: 'About columns', tags: ['simple', 'transformer'], spot: null });
        const b = make(Article, { title: 'Second', tags: ['one'], spot: new Point(3, 2.5) });
        await write(side, 'insert', Article, [a, b]);
        a.title = 'About columns1';
        a.tags = ['very', 'simple'];
        a.spot = new Point(0.5, 0.5);
        b.spot = null;
        await write(side, 'update', Article, [a, b]);
        const loaded = await side.dataSource.getRepository(Article).find({ order: { id: 'ASC' } });
        return { objects: [a, b, ...loaded] };
      },
      { tables: ['utb_col_article'] },
    );
  });

  it('typeorm columns/value-transformer: three transformers apply in order', async () => {
    await pair.compare(
      async (side) => {
        const users = [make(Member, { email: 'postgres@JOHN.doe' }), make(Member, { email: 'Ünïcode@X.org' })];
        await write(side, 'save', Member, users);
        const stored = await side.query<{ email: string }>(`SELECT email FROM "${side.schema}".utb_col_member ORDER BY email`);
        const loaded = await side.dataSource.getRepository(Member).find({ order: { email: 'ASC' } });
        return { value: { stored, emails: loaded.map((u) => u.email).sort() } };
      },
      { tables: [{ table: 'utb_col_member', orderBy: 'email' }], mask: ['id'] },
    );
  });

  it('typeorm columns/value-transformer-null: from() runs for a NULL written by an insert', async () => {
    await pair.compare(
      async (side) => {
        const memo = make(Memo, { id: 1 });
        await write(side, 'save', Memo, [memo]);
        const loaded = await side.dataSource.getRepository(Memo).findOneByOrFail({ id: 1 });
        return { objects: [memo, loaded] };
      },
      { tables: ['utb_col_memo'] },
    );
  });

  it('typeorm columns/value-transformer: to() sees the entity value once', async () => {
    await pair.compare(
      async (side) => {
        const memos = [make(Memo, { id: 1, text: 'one' }), make(Memo, { id: 2, text: 'two' })];
        await write(side, 'insert', Memo, memos);
        return { objects: memos };
      },
      { tables: ['utb_col_memo'] },
    );
  });

  it('typeorm columns/value-transformer: to() runs as save() runs it for an update of loaded entities', async () => {
    await pair.compare(
      async (side) => {
        await side.query(`INSERT INTO "${side.schema}".utb_col_memo (id, text) VALUES (1, 'one'), (2, 'two'), (3, NULL)`);
        journal.take();
        const loaded = await side.dataSource.getRepository(Memo).find({ order: { id: 'ASC' } });
        (loaded[0] as Memo).text = 'one changed';
        (loaded[2] as Memo).text = 'three';
        await write(side, 'update', Memo, loaded);
        return { objects: loaded };
      },
      { tables: ['utb_col_memo'] },
    );
  });

  it('typeorm columns/value-transformer: to() runs as upsert() runs it, for found and new rows', async () => {
    await pair.compare(
      async (side) => {
        await side.query(`INSERT INTO "${side.schema}".utb_col_memo (id, text) VALUES (1, 'one')`);
        const rows = [make(Memo, { id: 1, text: 'one upserted' }), make(Memo, { id: 2, text: 'two' })];
        await write(side, 'upsert', Memo, rows);
        return { objects: rows };
      },
      { tables: ['utb_col_memo'] },
    );
  });

  it('typeorm columns/value-transformer: an array column transformed element-wise, with its default', async () => {
    await pair.compare(
      async (side) => {
        const bags = [
          make(PairBag, {
            pairs: [
              { key: 'a', value: '1' },
              { key: 'b', value: '2' },
            ],
          }),
          make(PairBag, { pairs: [{ key: 'c', value: '3' }] }),
        ];
        await write(side, 'save', PairBag, bags);
        bags[1]?.pairs.push({ key: 'd', value: '4' });
        await write(side, 'save', PairBag, bags);
        return { objects: bags };
      },
      { tables: ['utb_col_pairs'] },
    );
  });

  it('typeorm columns/value-transformer-change-detection: a loaded entity whose transformed value is unchanged is not updated', async () => {
    await pair.compare(
      async (side) => {
        const post = make(DatedPost, { date: new Day('2020-01-01') });
        await write(side, 'insert', DatedPost, [post]);
        const loaded = await side.dataSource.getRepository(DatedPost).findOneByOrFail({ id: post.id });
        await write(side, 'save', DatedPost, [loaded]);
        return { objects: [post, loaded] };
      },
      { tables: ['utb_col_dated'] },
    );
  });

  it('typeorm columns/value-transformer-change-detection: a changed transformed value is updated, listener included', async () => {
    await pair.compare(
      async (side) => {
        const posts = [make(DatedPost, { date: new Day('2020-01-01') }), make(DatedPost, { date: new Day('2021-06-30') })];
        await write(side, 'insert', DatedPost, posts);
        const loaded = await side.dataSource.getRepository(DatedPost).find({ order: { id: 'ASC' } });
        (loaded[1] as DatedPost).date = new Day('2022-02-02');
        await write(side, 'save', DatedPost, loaded);
        return { objects: loaded };
      },
      { tables: ['utb_col_dated'] },
    );
  });
});

describe('insert-control / update-control', () => {
  it('typeorm columns/insert-control: an insert: false column gets its default, whatever the entity holds', async () => {
    await pair.compare(
      async (side) => {
        const posts = [
          make(Controlled, { title: 'About columns', firstName: 'Umed', lastName: 'Good', frozen: 'x' }),
          make(Controlled, { title: 'Other', firstName: 'Ann', lastName: 'Lee', frozen: null }),
        ];
        await write(side, 'insert', Controlled, posts);
        return { objects: posts };
      },
      { tables: ['utb_col_controlled'] },
    );
  });

  it('typeorm columns/insert-control: a provided value of an insert: false column is ignored (bulkSave)', async () => {
    await pair.compare(
      async (side) => {
        const docs = [make(Document, { id: 1, revision: 42 }), make(Document, { id: 2, name: 'b', revision: 5 })];
        await write(side, 'save', Document, docs);
        return { objects: docs };
      },
      { tables: ['utb_col_document'] },
    );
  });

  it('typeorm columns/update-control: update: false columns keep their inserted values', async () => {
    await pair.compare(
      async (side) => {
        const post = make(Controlled, { title: 'About columns', firstName: 'Umed', lastName: 'Good', frozen: 'first' });
        await write(side, 'save', Controlled, [post]);
        post.title = 'About columns1';
        post.firstName = 'Umed1';
        post.lastName = 'Good1';
        post.frozen = 'second';
        await write(side, 'save', Controlled, [post]);
        const loaded = await side.dataSource.getRepository(Controlled).findOneByOrFail({ id: post.id });
        return { objects: [post, loaded] };
      },
      { tables: ['utb_col_controlled'] },
    );
  });

  it('typeorm columns/insert-control: an upsert leaves insert: false columns to their default on insert, writes them on update', async () => {
    await pair.compare(
      async (side) => {
        await side.query(
          `INSERT INTO "${side.schema}".utb_col_controlled (id, title, "firstName", "lastName", frozen) VALUES (1, 'old', 'F', 'L', 'z')`,
        );
        const rows = [
          make(Controlled, { id: 1, title: 'found', firstName: 'Umed', lastName: 'Good', frozen: 'y' }),
          make(Controlled, { id: 2, title: 'new', firstName: 'Ann', lastName: 'Lee', frozen: 'x' }),
        ];
        await write(side, 'upsert', Controlled, rows);
        return { objects: rows };
      },
      // TypeORM's upsert() sets an insert: false column of a found row to EXCLUDED's value, which is
      // its DEFAULT (the INSERT does not send it): the stored value is lost. cohort keeps it
      // (docs/differences.md): compared by shape here, pinned below. TypeORM 0.3's upsert() also
      // writes the update: false columns of a found row (lastName from its DEFAULT, frozen from the
      // input), which 1.x fixed (#10889) and cohort never does: pinned below too.
      { tables: ['utb_col_controlled'], mask: ON_TYPEORM_03 ? ['firstName', 'lastName', 'frozen'] : ['firstName'] },
    );
    const updateFalse = (side: TypeormSide) =>
      side.query<{ id: number; lastName: string; frozen: string }>(
        `SELECT id, "lastName", frozen FROM "${side.schema}".utb_col_controlled ORDER BY id`,
      );
    expect(await updateFalse(pair.subject())).toEqual([
      { id: 1, lastName: 'L', frozen: 'z' },
      { id: 2, lastName: 'Default', frozen: 'x' },
    ]);
    expect(await updateFalse(pair.reference())).toEqual(
      ON_TYPEORM_03
        ? [
            { id: 1, lastName: 'Default', frozen: 'y' },
            { id: 2, lastName: 'Default', frozen: 'x' },
          ]
        : await updateFalse(pair.subject()),
    );
    const stored = (side: TypeormSide) =>
      side.query<{ id: number; firstName: string }>(
        `SELECT id, "firstName" FROM "${side.schema}".utb_col_controlled ORDER BY id`,
      );
    expect(await stored(pair.reference())).toEqual([
      { id: 1, firstName: 'Default' },
      { id: 2, firstName: 'Default' },
    ]);
    expect(await stored(pair.subject())).toEqual([
      { id: 1, firstName: 'F' },
      { id: 2, firstName: 'Default' },
    ]);
  });

  it('typeorm columns/update-control: a change only to update: false columns writes nothing', async () => {
    await pair.compare(
      async (side) => {
        const post = make(Controlled, { title: 'T', frozen: 'first' });
        await write(side, 'save', Controlled, [post]);
        const loaded = await side.dataSource.getRepository(Controlled).findOneByOrFail({ id: post.id });
        loaded.frozen = 'second';
        loaded.lastName = 'changed';
        await write(side, 'update', Controlled, [loaded]);
        return { objects: [loaded] };
      },
      { tables: ['utb_col_controlled'] },
    );
  });
});

describe('create / update dates and versions', () => {
  it('typeorm schema-builder/create-update-date: insert writes both dates and version 1 back onto the objects', async () => {
    await pair.compare(
      async (side) => {
        const rows = [make(Stamped, { title: 'a' }), make(Stamped, { title: 'b' })];
        await write(side, 'insert', Stamped, rows);
        const [a, b] = rows as [Stamped, Stamped];
        return {
          objects: rows,
          value: { sameInsertTime: a.createdAt.getTime() === a.updatedAt.getTime(), isDate: b.createdAt instanceof Date },
        };
      },
      { tables: ['utb_col_stamped'], mask: TIMES },
    );
  });

  it('typeorm schema-builder/update-date-on-update: an update moves the update date and the version, not the create date', async () => {
    await pair.compare(
      async (side) => {
        const rows = [make(Stamped, { title: 'a' }), make(Stamped, { title: 'b' })];
        await write(side, 'insert', Stamped, rows);
        const before = rows.map((r) => ({ created: r.createdAt.getTime(), updated: r.updatedAt.getTime() }));
        await side.query(`SELECT pg_sleep(0.01)`);
        (rows[0] as Stamped).title = 'a2';
        await write(side, 'update', Stamped, rows);
        return {
          objects: rows,
          value: rows.map((r, i) => ({
            createdKept: r.createdAt.getTime() === before[i]?.created,
            updatedMoved: r.updatedAt.getTime() > (before[i]?.updated ?? 0),
          })),
        };
      },
      { tables: ['utb_col_stamped'], mask: TIMES },
    );
  });

  it('typeorm columns (version): a save of new, changed and unchanged entities moves only the changed versions', async () => {
    await pair.compare(
      async (side) => {
        const stored = [make(Stamped, { title: 'a' }), make(Stamped, { title: 'b' })];
        await write(side, 'insert', Stamped, stored);
        const loaded = await side.dataSource.getRepository(Stamped).find({ order: { id: 'ASC' } });
        (loaded[1] as Stamped).title = 'b2';
        const fresh = make(Stamped, { title: 'c' });
        await write(side, 'save', Stamped, [...loaded, fresh]);
        (loaded[1] as Stamped).title = 'b3';
        await write(side, 'save', Stamped, loaded);
        return { objects: [...loaded, fresh], value: [...loaded, fresh].map((r) => r.version) };
      },
      { tables: ['utb_col_stamped'], mask: TIMES },
    );
  });

  it('typeorm schema-builder/create-update-date: a hand-set update date is written as given', async () => {
    await pair.compare(
      async (side) => {
        const row = make(Stamped, { title: 'a' });
        await write(side, 'insert', Stamped, [row]);
        row.title = 'b';
        row.updatedAt = new Date('2001-02-03T04:05:06.000Z');
        await write(side, 'update', Stamped, [row]);
        return { objects: [row] };
      },
      { tables: ['utb_col_stamped'], mask: ['createdAt'] },
    );
  });

  it('typeorm schema-builder/create-update-date: in one update, a hand-set date is kept and the other rows get the time', async () => {
    await pair.compare(
      async (side) => {
        const rows = [make(Stamped, { title: 'a' }), make(Stamped, { title: 'b' })];
        await write(side, 'insert', Stamped, rows);
        const [a, b] = rows as [Stamped, Stamped];
        const insertedAt = b.updatedAt.getTime();
        await side.query('SELECT pg_sleep(0.01)');
        a.updatedAt = new Date('2001-02-03T04:05:06.000Z');
        b.title = 'b2';
        await write(side, 'update', Stamped, rows);
        const stored = await side.query<{ updatedAt: Date }>(
          `SELECT "updatedAt" FROM "${side.schema}".utb_col_stamped ORDER BY id`,
        );
        return {
          objects: rows,
          value: { handSet: stored[0]?.updatedAt.toISOString(), moved: (stored[1]?.updatedAt.getTime() ?? 0) > insertedAt },
        };
      },
      { tables: ['utb_col_stamped'], mask: TIMES },
    );
  });

  it('typeorm schema-builder/create-update-date: a hand-set create date is inserted as given', async () => {
    await pair.compare(
      async (side) => {
        const row = make(Stamped, { title: 'a', createdAt: new Date('1999-12-31T23:59:59.000Z') });
        await write(side, 'insert', Stamped, [row]);
        return { objects: [row] };
      },
      { tables: ['utb_col_stamped'], mask: ['updatedAt'] },
    );
  });

  it('typeorm repository/basic-methods upsert: the update of an upsert writes the update date and the version', async () => {
    await pair.compare(
      async (side) => {
        await side.query(
          `INSERT INTO "${side.schema}".utb_col_stamped (id, title, "createdAt", "updatedAt", version)
           VALUES (1, 'old', '2000-01-01Z', '2000-01-01Z', 4)`,
        );
        await write(side, 'upsert', Stamped, [make(Stamped, { id: 1, title: 'new' })]);
        const [row] = await side.query<{ updated_moved: boolean; created_kept: boolean; version: number; title: string }>(
          `SELECT "updatedAt" > '2000-01-02Z' AS updated_moved, "createdAt" = '2000-01-01Z' AS created_kept, version, title
             FROM "${side.schema}".utb_col_stamped`,
        );
        return { value: row };
      },
      // TypeORM's upsert() leaves the stored version as it is; cohort's moves it on, as every update
      // does, so that a copy read before the upsert is stale (docs/differences.md). Pinned below.
      { tables: [], mask: ['version'] },
    );
    const version = async (side: TypeormSide) =>
      (await side.query<{ version: number }>(`SELECT version FROM "${side.schema}".utb_col_stamped`))[0]?.version;
    expect(await version(pair.reference())).toBe(4);
    expect(await version(pair.subject())).toBe(5);
  });

  it('typeorm columns: a function value (raw SQL for save()) is refused loudly by every cohort call', async () => {
    const side = pair.subject();
    const refused = (property: string) => expect.objectContaining({ feature: 'raw SQL value', entityName: 'Defaults', property });
    const row = make(Defaults, { status: (() => "'live'") as unknown as string });
    for (const options of [{}, { validate: false }]) {
      const error = await bulkInsert(side.dataSource, Defaults, [row], options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toEqual(refused('status'));
      expect((error as Error).message).toMatch(/Defaults\.status holds a function/);
    }
    await expect(
      bulkUpsert(side.dataSource, Defaults, [make(Defaults, { id: 1, note: (() => 'now()') as unknown as string })]),
    ).rejects.toEqual(refused('note'));
    expect(await side.query(`SELECT * FROM "${side.schema}".utb_col_defaults`)).toEqual([]);
    const saved = make(Defaults, { status: 'ok' });
    await bulkInsert(side.dataSource, Defaults, [saved]);
    saved.note = (() => 'now()') as unknown as string;
    await expect(bulkUpdate(side.dataSource, Defaults, [saved])).rejects.toEqual(refused('note'));
    await expect(bulkSave(side.dataSource, Defaults, [saved])).rejects.toEqual(refused('note'));
    const [stored] = await side.query<{ note: string | null }>(`SELECT note FROM "${side.schema}".utb_col_defaults`);
    expect(stored?.note).toBeNull();
  });
});

describe('defaults and generated values', () => {
  it('typeorm columns/default-columns: defaults, a function default included, come back onto the objects', async () => {
    await pair.compare(
      async (side) => {
        const rows = [make(Defaults, { note: 'given' }), make(Defaults, { status: 'live', rank: 1, pinned: true })];
        await write(side, 'insert', Defaults, rows);
        return { objects: rows };
      },
      { tables: ['utb_col_defaults'] },
    );
  });

  it('typeorm columns/default-columns: an entity with nothing set is stored with every default', async () => {
    await pair.compare(
      async (side) => {
        const rows = [make(Defaults, {})];
        await write(side, 'save', Defaults, rows);
        return { objects: rows };
      },
      { tables: ['utb_col_defaults'] },
    );
  });

  it('typeorm columns/default-columns: entities with nothing set mixed with others get their keys in input order (save() inserts them last)', async () => {
    await pair.compare(
      async (side) => {
        const rows = [make(Defaults, {}), make(Defaults, { status: 'live' }), make(Defaults, {}), make(Defaults, { rank: 1 })];
        await write(side, 'save', Defaults, rows);
        return { objects: rows };
      },
      // save() sends an entity with no value at all as its own INSERT … DEFAULT VALUES after the
      // others: its key comes after theirs. cohort inserts in input order (docs/differences.md).
      // Rows and objects compared without their keys here, the keys pinned below.
      { tables: [{ table: 'utb_col_defaults', orderBy: 'status, rank' }], mask: ['id'] },
    );
    const keys = async (side: TypeormSide) =>
      (await side.query<{ id: number }>(`SELECT id FROM "${side.schema}".utb_col_defaults ORDER BY status, rank, id`)).map(
        (r) => r.id,
      );
    // Rows ordered draft/1 (rank 1), draft/7 (the two empty ones), live/7.
    expect(await keys(pair.reference())).toEqual([2, 3, 4, 1]);
    expect(await keys(pair.subject())).toEqual([4, 1, 3, 2]);
  });

  it('typeorm uuid/postgres/pgcrypto: generated uuids, key and non-key, come back onto the objects', async () => {
    await pair.compare(
      async (side) => {
        const rows = [make(Ticket, { label: 'a' }), make(Ticket, { label: 'b' })];
        await write(side, 'insert', Ticket, rows);
        const stored = await side.query<{ id: string; serial: string; label: string }>(
          `SELECT * FROM "${side.schema}".utb_col_uuid ORDER BY label`,
        );
        return {
          objects: rows,
          value: rows.map((r, i) => ({ same: r.id === stored[i]?.id && r.serial === stored[i]?.serial })),
        };
      },
      { tables: [{ table: 'utb_col_uuid', orderBy: 'label' }], mask: ['id', 'serial'] },
    );
  });

  it('typeorm uuid/postgres/pgcrypto: a uuid given by hand is kept', async () => {
    await pair.compare(
      async (side) => {
        const rows = [
          make(Ticket, { id: 'a1e0c9ba-1f42-4ea3-9c7e-0b6d2b2b8c11', label: 'a' }),
          make(Ticket, { id: 'b2e0c9ba-1f42-4ea3-9c7e-0b6d2b2b8c22', label: 'b' }),
        ];
        await write(side, 'save', Ticket, rows);
        return { objects: rows };
      },
      { tables: [{ table: 'utb_col_uuid', orderBy: 'label' }], mask: ['serial'] },
    );
  });
});
