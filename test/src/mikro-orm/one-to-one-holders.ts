// Shared by the replaced-inverse-one-to-one tests: holders with three inverse one-to-one relations —
// `card` (a nullable foreign key), `badge` (orphanRemoval), `pass` (a NOT NULL foreign key) — a log of
// entity events and statements, and the stored graph they start from.
import { Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'holder' })
export class Holder {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(
    () => Card,
    (card) => card.holder,
  )
  card?: Card | null;
  @OneToOne(
    () => Badge,
    (badge) => badge.holder,
    { orphanRemoval: true },
  )
  badge?: Badge | null;
  @OneToOne(
    () => Pass,
    (pass) => pass.holder,
  )
  pass?: Pass | null;
}

/** Owns a nullable foreign key: flush clears an old card's reference. */
@Entity({ tableName: 'card' })
export class Card {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(() => Holder, { nullable: true, owner: true }) holder?: Holder | null;
}

/** The holder's side has orphanRemoval: flush deletes an old badge. */
@Entity({ tableName: 'badge' })
export class Badge {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(() => Holder, { nullable: true, owner: true }) holder?: Holder | null;
}

/** Owns a NOT NULL foreign key: flush's clearing UPDATE fails. */
@Entity({ tableName: 'pass' })
export class Pass {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @OneToOne(() => Holder, { owner: true }) holder!: Holder;
}

export type Target = typeof Card | typeof Badge | typeof Pass;
export type Prop = 'card' | 'badge' | 'pass';
export const TABLES = ['holder', 'card', 'badge', 'pass'];

// Entity events and the statements sent, in order.
export const log: string[] = [];
const named = (e: { entity: object }) => `${e.entity.constructor.name} ${(e.entity as { name: string }).name}`;
/** When set, the recorder throws at that event (`afterCreate Card new2`): a failing hook. */
export const fault: { at?: string } = {};
const record = (event: string) => (e: { entity: object }) => {
  const entry = `${event} ${named(e)}`;
  if (fault.at === entry) throw new Error(`injected at ${entry}`);
  log.push(entry);
};
const recorder = Object.fromEntries(
  ['beforeCreate', 'afterCreate', 'beforeUpdate', 'afterUpdate', 'beforeDelete', 'afterDelete'].map((event) => [
    event,
    record(event),
  ]),
);
// The query logger's colours (escape sequences) stripped.
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const statement = /\b(insert into|update|delete from|copy) "[\w$]+"\."(\w+)"/i;

/** The holders' ORM in a fresh schema, and what the tests do with it. */
export interface Holders {
  readonly own: OwnMikroOrm;
  fork(): EntityManager;
  /** Every table's rows, by key. */
  tables(): Promise<Record<string, unknown[]>>;
  /** Empties every table (keys from 1 again). */
  truncate(): Promise<void>;
}

/** For a `beforeAll`: the logger keeps each INSERT, UPDATE and DELETE as `insert card` in `log`. */
export async function holdersOrm(prefix: string): Promise<Holders> {
  const own = await ownMikroOrm(prefix, {
    entities: [Holder, Card, Badge, Pass],
    subscribers: [recorder],
    debug: ['query'],
    logger: (message: string) => {
      const found = statement.exec(message.replace(COLOURS, ''));
      // COPY straight into a table (COHORT_STRATEGY=copy) inserts; into a staging table, it feeds an UPDATE.
      const verb = found?.[1]?.toLowerCase().split(' ')[0];
      if (found && !found[2]?.startsWith('cohort_stage')) log.push(`${verb === 'copy' ? 'insert' : verb} ${found[2]}`);
    },
  });
  const fork = () => own.orm.em.fork() as EntityManager;
  const table = (name: string) => `"${own.schema}"."${name}"`;
  return {
    own,
    fork,
    async tables() {
      const all: Record<string, unknown[]> = {};
      for (const name of TABLES) all[name] = await fork().execute(`select * from ${table(name)} order by id`);
      return all;
    },
    async truncate() {
      await fork().execute(`truncate ${TABLES.map(table).join(', ')} restart identity cascade`);
    },
  };
}

export const make = <T extends object>(cls: new () => T, data: Partial<T>): T => Object.assign(new cls(), data);
/** Whether the entity is in the EntityManager's identity map. */
export const managed = (em: EntityManager, entity: object): boolean =>
  em.getUnitOfWork().getIdentityMap().values().includes(entity);

/** Holders h0, h1, h2 (h0 and h2 with a stored target `old0`, `old2`; h1 without), written by persist + flush. */
export async function seed(em: EntityManager, prop: Prop, cls: Target): Promise<void> {
  const holders = ['h0', 'h1', 'h2'].map((name) => make(Holder, { name }));
  for (const at of [0, 2]) {
    const old = make(cls as new () => Card, { name: `old${at}` });
    old.holder = holders[at] as Holder;
    (holders[at] as unknown as Record<Prop, unknown>)[prop] = old;
  }
  em.persist(holders);
  await em.flush();
}

/** The stored holders loaded with their targets, each given a new target `new<i>`. */
export async function replaced(em: EntityManager, prop: Prop, cls: Target): Promise<{ holders: Holder[]; olds: Card[] }> {
  const holders = await em.find(Holder, {}, { populate: [prop], orderBy: { id: 'asc' } });
  const olds = holders.flatMap((h) => (h[prop] ? [h[prop] as unknown as Card] : []));
  for (const [at, holder] of holders.entries()) {
    (holder as unknown as Record<Prop, unknown>)[prop] = make(cls as new () => Card, { name: `new${at}` });
  }
  return { holders, olds };
}
