import type { EventArgs, EventSubscriber } from '@mikro-orm/core';
import type { EntitySubscriberInterface, InsertEvent, UpdateEvent } from 'typeorm';
import { allMetadata } from './mikro-orm-major.js';
import type { OrmUnderTest } from './orm-under-test.js';

/** Where a fault can be injected: a per-entity hook, or a batch subscriber method (names as TypeORM's; `beforeUpsert` is MikroORM's). */
export type FaultPoint =
  | 'beforeInsert'
  | 'afterInsert'
  | 'beforeUpdate'
  | 'afterUpdate'
  | 'beforeUpsert'
  | 'beforeBulkInsert'
  | 'afterBulkInsert'
  | 'beforeBulkUpdate'
  | 'afterBulkUpdate';

/** What an armed fault sees when its point is reached. */
export interface FaultContext {
  point: FaultPoint;
  /** The entity, for per-entity points. */
  entity?: Record<string, unknown>;
  /** The batch number, for batch points. */
  batch?: number;
  /** The PostgreSQL backend of the transaction the hook runs in. */
  backendPid(): Promise<number>;
}

/** A fault: `act` runs (and may throw, or wait) wherever `when` says yes. */
export interface Fault {
  when(context: FaultContext): boolean;
  act(context: FaultContext): Promise<void> | void;
}

/**
 * Subscribers installed on a side's ORM, doing nothing until a fault is armed: a per-entity one on
 * every entity's before/after insert/update hooks and a batch one (`listenTo` the given fixture
 * table's class) on the batch methods. Install once per side, in a `beforeAll`.
 */
export class FaultHooks {
  private fault: Fault | undefined;

  constructor(side: OrmUnderTest, batchTable: string) {
    const dataSource = side.native.dataSource;
    if (dataSource) {
      const pidOf = (queryRunner: { query(sql: string): Promise<{ pid: number }[]> }) => async () =>
        ((await queryRunner.query('SELECT pg_backend_pid() AS pid'))[0] as { pid: number }).pid;
      const entityHook =
        (point: FaultPoint) => (event: InsertEvent<Record<string, unknown>> | UpdateEvent<Record<string, unknown>>) =>
          this.reach({ point, entity: event.entity as Record<string, unknown>, backendPid: pidOf(event.queryRunner) });
      const perEntity: EntitySubscriberInterface = {
        beforeInsert: entityHook('beforeInsert'),
        afterInsert: entityHook('afterInsert'),
        beforeUpdate: entityHook('beforeUpdate'),
        afterUpdate: entityHook('afterUpdate'),
      };
      const target = dataSource.entityMetadatas.find((m) => m.tableName === batchTable)?.target;
      const batchHook =
        (point: FaultPoint) => (event: { batch: number; manager: { query(sql: string): Promise<{ pid: number }[]> } }) =>
          this.reach({ point, batch: event.batch, backendPid: pidOf(event.manager) });
      const perBatch = {
        listenTo: () => target,
        beforeBulkInsert: batchHook('beforeBulkInsert'),
        afterBulkInsert: batchHook('afterBulkInsert'),
        beforeBulkUpdate: batchHook('beforeBulkUpdate'),
        afterBulkUpdate: batchHook('afterBulkUpdate'),
      };
      dataSource.subscribers.push(perEntity, perBatch as EntitySubscriberInterface);
      return;
    }
    const orm = side.native.orm;
    if (!orm) throw new Error('no ORM to install fault hooks on');
    type Em = EventArgs<object>['em'];
    const pidOf = (em: Em) => async () =>
      (
        (await em.getConnection().execute('SELECT pg_backend_pid() AS pid', [], 'all', em.getTransactionContext())) as {
          pid: number;
        }[]
      )[0]?.pid as number;
    const entityHook = (point: FaultPoint) => (args: EventArgs<object>) =>
      this.reach({ point, entity: args.entity as Record<string, unknown>, backendPid: pidOf(args.em) });
    const perEntity: EventSubscriber = {
      beforeCreate: entityHook('beforeInsert'),
      afterCreate: entityHook('afterInsert'),
      beforeUpdate: entityHook('beforeUpdate'),
      afterUpdate: entityHook('afterUpdate'),
      beforeUpsert: entityHook('beforeUpsert'),
    };
    const target = allMetadata(orm).find((m) => m.tableName === batchTable)?.class;
    const batchHook = (point: FaultPoint) => (event: { batch: number; manager: Em }) =>
      this.reach({ point, batch: event.batch, backendPid: pidOf(event.manager) });
    const perBatch = {
      getSubscribedEntities: () => (target ? [target] : []),
      beforeBulkInsert: batchHook('beforeBulkInsert'),
      afterBulkInsert: batchHook('afterBulkInsert'),
      beforeBulkUpdate: batchHook('beforeBulkUpdate'),
      afterBulkUpdate: batchHook('afterBulkUpdate'),
    };
    const events = orm.em.getEventManager();
    events.registerSubscriber(perEntity);
    events.registerSubscriber(perBatch as EventSubscriber);
  }

  /** Arms `fault` until `disarm()`. */
  arm(fault: Fault): void {
    this.fault = fault;
  }

  disarm(): void {
    this.fault = undefined;
  }

  /** Runs `body` with `fault` armed, disarming it however `body` ends. */
  async with<T>(fault: Fault, body: () => Promise<T>): Promise<T> {
    this.arm(fault);
    try {
      return await body();
    } finally {
      this.disarm();
    }
  }

  private reach(context: FaultContext): Promise<void> | void {
    const fault = this.fault;
    if (fault?.when(context)) return fault.act(context);
  }
}
