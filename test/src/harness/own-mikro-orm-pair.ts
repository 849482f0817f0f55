import { stripVTControlCharacters } from 'node:util';
import type { BulkOptions } from '@cohort/core';
import { type EventArgs, type EventSubscriber, helper } from '@mikro-orm/core';
import type { MikroORM, Options } from '@mikro-orm/postgresql';
import { forcedStrategy } from './forced-strategy.js';
import { identityMapEntry } from './mikro-orm-major.js';
import { normalizeRecord } from './normalize.js';
import { type OwnMikroOrm, ownMikroOrm } from './own-mikro-orm.js';

/** One side of a differential run on a test file's own entities. */
export interface OwnSide {
  readonly orm: MikroORM;
  readonly schema: string;
  /** Entity events since the last reset: `event Class label [changed keys]`. */
  readonly events: string[];
  /** SQL statements sent since the last reset, values inlined (MikroORM's logger). */
  readonly sql: string[];
  /** Every row of `table` ordered by `orderBy`, normalized as the conformance harness does. */
  rows(table: string, orderBy?: string): Promise<Record<string, unknown>[]>;
  /** Raw SQL on the side's schema (not recorded in `sql`). */
  execute(sql: string): Promise<Record<string, unknown>[]>;
}

/** The ORM's own path (`reference`) and cohort (`subject`) on equal entities, in two fresh schemas. */
export interface OwnMikroOrmPair {
  readonly reference: OwnSide;
  readonly subject: OwnSide;
  /** Empties the tables (identities restarted) and the logs of both sides. */
  reset(tables: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * For a `beforeAll`: two MikroORM instances on the same entity classes, each recording the entity
 * events of its EntityManagers (`label` names an entity in the log, e.g. by its natural key).
 */
export async function ownMikroOrmPair(
  prefix: string,
  options: Partial<Options>,
  label: (entity: object) => string,
): Promise<OwnMikroOrmPair> {
  const open = async (suffix: string): Promise<{ own: OwnMikroOrm; side: OwnSide }> => {
    const events: string[] = [];
    const sql: string[] = [];
    const own = await ownMikroOrm(`${prefix}_${suffix}`, {
      ...options,
      subscribers: [...(options.subscribers ?? []), new EventRecorder(events, label)],
      debug: ['query', 'query-params'],
      // MikroORM colours its log lines: stripped first, so the `[query] ` prefix and timing come off.
      logger: (message) =>
        sql.push(
          stripVTControlCharacters(message)
            .replace(/^\[query\] /, '')
            .replace(/ \[took .*$/, ''),
        ),
    });
    const execute = (query: string) => own.orm.em.fork().getConnection().execute(query) as Promise<Record<string, unknown>[]>;
    const side: OwnSide = {
      orm: own.orm,
      schema: own.schema,
      events,
      sql,
      execute,
      async rows(table, orderBy = 'id') {
        const rows = await execute(`select * from "${own.schema}"."${table}" order by "${orderBy}"`);
        return rows.map((row) => normalizeRecord(row));
      },
    };
    return { own, side };
  };
  const [reference, subject] = await Promise.all([open('ref'), open('sub')]);
  return {
    reference: reference.side,
    subject: subject.side,
    async reset(tables) {
      for (const { own, side } of [reference, subject]) {
        if (tables.length > 0) {
          await side.execute(`truncate ${tables.map((t) => `"${own.schema}"."${t}"`).join(', ')} restart identity cascade`);
        }
        side.events.length = 0;
        side.sql.length = 0;
      }
    },
    async close() {
      await Promise.all([reference.own.close(), subject.own.close()]);
    },
  };
}

/** The strategy `COHORT_STRATEGY` forces for the whole suite, merged into a call's options. */
export function withForcedStrategy<const O extends object = BulkOptions>(options?: O): O & Pick<BulkOptions, 'strategy'> {
  const forced = forcedStrategy;
  return (forced ? { strategy: forced, ...options } : { ...options }) as O;
}

/**
 * What the unit of work holds for these entities: per entity whether it is managed, in the identity
 * map (as itself), scheduled for persisting, and its snapshot (normalized, `mask`ed keys by shape).
 */
export function unitOfWorkState(
  em: { getUnitOfWork(): unknown },
  entities: readonly object[],
  mask: readonly string[] = [],
): Record<string, unknown>[] {
  const uow = em.getUnitOfWork() as {
    getPersistStack(): Set<object>;
  };
  return entities.map((entity) => {
    const wrapped = helper(entity);
    const snapshot = wrapped.__originalEntityData as Record<string, unknown> | undefined;
    return {
      managed: Boolean(wrapped.__managed),
      inIdentityMap: wrapped.hasPrimaryKey() && identityMapEntry(em, entity) === entity,
      scheduled: uow.getPersistStack().has(entity),
      snapshot: snapshot === undefined ? undefined : masked(normalizeRecord(snapshot), mask),
    };
  });
}

/** The record with `keys` replaced by the type of their value (timestamps, generated values). */
export function masked(record: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out = { ...record };
  for (const key of keys) if (key in out) out[key] = out[key] === null ? null : `<${typeof out[key]}>`;
  return out;
}

class EventRecorder implements EventSubscriber {
  constructor(
    private readonly events: string[],
    private readonly label: (entity: object) => string,
  ) {}
  private record(event: string, args: EventArgs<object>) {
    const changed = args.changeSet ? ` [${Object.keys(args.changeSet.payload).sort().join(',')}]` : '';
    // em.upsert() of plain data passes the data itself to beforeUpsert.
    const kind = (args.entity as { __meta?: { className: string } }).__meta?.className ?? args.entity.constructor.name;
    this.events.push(`${event} ${kind} ${this.label(args.entity)}${changed}`);
  }
  beforeCreate(args: EventArgs<object>) {
    this.record('beforeCreate', args);
  }
  afterCreate(args: EventArgs<object>) {
    this.record('afterCreate', args);
  }
  beforeUpdate(args: EventArgs<object>) {
    this.record('beforeUpdate', args);
  }
  afterUpdate(args: EventArgs<object>) {
    this.record('afterUpdate', args);
  }
  beforeUpsert(args: EventArgs<object>) {
    this.record('beforeUpsert', args);
  }
  afterUpsert(args: EventArgs<object>) {
    this.record('afterUpsert', args);
  }
}
