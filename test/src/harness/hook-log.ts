import { FIXTURE_NAMES, type FixtureName, NATURAL_KEYS } from '../fixtures/fixture-names.js';

/** The ORM a log entry or an `OrmUnderTest` belongs to. */
export type OrmName = 'typeorm' | 'mikro-orm';

/**
 * Who recorded an entry: an entity's own listener method (`@BeforeInsert`, `@BeforeCreate`…),
 * the catch-all subscriber, or the subscriber restricted to `Article` (`listenTo` /
 * `getSubscribedEntities`).
 */
export type HookSource = 'listener' | 'subscriber' | 'article-subscriber';

/**
 * One call of a listener or subscriber. `event` is the ORM's own name (`beforeInsert` in TypeORM,
 * `beforeCreate` in MikroORM). `entity` is `null` for transaction- and flush-level events.
 * `key` is the entity's natural key (see `NATURAL_KEYS`), never a generated id, so two runs compare.
 */
export interface HookLogEntry {
  orm: OrmName;
  source: HookSource;
  event: string;
  entity: FixtureName | null;
  key?: string;
  detail?: Record<string, unknown>;
}

/** The ordered calls recorded for one ORM instance (one schema). */
export class HookLog {
  readonly entries: HookLogEntry[] = [];

  constructor(readonly orm: OrmName) {}

  /** Records an entity-level event. */
  entity(source: HookSource, event: string, entity: object, detail?: Record<string, unknown>): void {
    const name = fixtureNameOf(entity);
    const entry: HookLogEntry = { orm: this.orm, source, event, entity: name, key: naturalKeyOf(entity) };
    if (detail !== undefined) entry.detail = detail;
    this.entries.push(entry);
  }

  /** Records a transaction- or flush-level event (no entity). */
  global(source: HookSource, event: string, detail?: Record<string, unknown>): void {
    const entry: HookLogEntry = { orm: this.orm, source, event, entity: null };
    if (detail !== undefined) entry.detail = detail;
    this.entries.push(entry);
  }

  clear(): void {
    this.entries.length = 0;
  }
}

/** The fixture name of an entity instance (its class name). */
/** Whether `entity` is an instance of one of the fixture classes. */
export function isFixtureEntity(entity: object): boolean {
  return (FIXTURE_NAMES as readonly string[]).includes(entity.constructor.name);
}

export function fixtureNameOf(entity: object): FixtureName {
  const name = entity.constructor.name;
  if (!(FIXTURE_NAMES as readonly string[]).includes(name)) throw new Error(`${name} is not a fixture entity`);
  return name as FixtureName;
}

/** The entity's natural key as a string, or undefined when it is not set (yet). */
export function naturalKeyOf(entity: object): string | undefined {
  const value = (entity as Record<string, unknown>)[NATURAL_KEYS[fixtureNameOf(entity)]];
  return value == null ? undefined : String(value);
}

// Entity listener methods get no context in TypeORM, so the log an entity's own hooks write to is
// found through the entity: the harness binds every entity it creates, and the recording
// subscribers bind every entity the ORM loads.
const owners = new WeakMap<object, HookLog>();

/** Routes the entity's own hook calls to `log`. */
export function bindToHookLog(entity: object, log: HookLog): void {
  owners.set(entity, log);
}

/**
 * Called from fixture listener methods. Throws when the entity was not created or loaded through
 * the harness, so an unrecorded hook call cannot go unnoticed.
 */
export function recordListener(entity: object, event: string, detail?: Record<string, unknown>): void {
  const log = owners.get(entity);
  if (!log) throw new Error(`hook ${event} on a ${entity.constructor.name} the harness did not create or load`);
  log.entity('listener', event, entity, detail);
}

/** The per-ORM names of the four write events, for assertions that read the same in both ORMs. */
export const EVENT_NAMES: Readonly<
  Record<OrmName, { beforeInsert: string; afterInsert: string; beforeUpdate: string; afterUpdate: string }>
> = {
  typeorm: { beforeInsert: 'beforeInsert', afterInsert: 'afterInsert', beforeUpdate: 'beforeUpdate', afterUpdate: 'afterUpdate' },
  'mikro-orm': {
    beforeInsert: 'beforeCreate',
    afterInsert: 'afterCreate',
    beforeUpdate: 'beforeUpdate',
    afterUpdate: 'afterUpdate',
  },
};
