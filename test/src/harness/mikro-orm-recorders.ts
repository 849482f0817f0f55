import {
  DefaultLogger,
  type EventArgs,
  type EventSubscriber,
  type FlushEventArgs,
  helper,
  type LogContext,
  type LoggerOptions,
  type TransactionEventArgs,
} from '@mikro-orm/core';
import { Article } from '../fixtures/mikro-orm/index.js';
import { bindToHookLog, type HookLog, type HookSource } from './hook-log.js';
import { normalizeValue } from './normalize.js';
import type { SqlLogEntry } from './sql-log.js';

const changedProps = (args: EventArgs<object>) => Object.keys(args.changeSet?.payload ?? {}).sort();
const entityId = (entity: object) => normalizeValue(helper(entity).getPrimaryKey());

// Entity-level recording, shared by the catch-all and the Article-only subscriber.
class EntityEventRecorder implements EventSubscriber {
  constructor(
    protected readonly log: HookLog,
    private readonly source: HookSource,
  ) {}
  onLoad(args: EventArgs<object>) {
    this.log.entity(this.source, 'onLoad', args.entity);
  }
  beforeCreate(args: EventArgs<object>) {
    this.log.entity(this.source, 'beforeCreate', args.entity);
  }
  afterCreate(args: EventArgs<object>) {
    this.log.entity(this.source, 'afterCreate', args.entity, { entityId: entityId(args.entity) });
  }
  beforeUpdate(args: EventArgs<object>) {
    this.log.entity(this.source, 'beforeUpdate', args.entity, { changed: changedProps(args) });
  }
  afterUpdate(args: EventArgs<object>) {
    this.log.entity(this.source, 'afterUpdate', args.entity, { changed: changedProps(args) });
  }
  beforeUpsert(args: EventArgs<object>) {
    this.log.entity(this.source, 'beforeUpsert', args.entity);
  }
  afterUpsert(args: EventArgs<object>) {
    this.log.entity(this.source, 'afterUpsert', args.entity, { entityId: entityId(args.entity) });
  }
  beforeDelete(args: EventArgs<object>) {
    this.log.entity(this.source, 'beforeDelete', args.entity, { entityId: entityId(args.entity) });
  }
  afterDelete(args: EventArgs<object>) {
    this.log.entity(this.source, 'afterDelete', args.entity, { entityId: entityId(args.entity) });
  }
}

/**
 * Records every entity, flush and transaction event into `log` (not `onInit`: it fires for every
 * instance the ORM builds; it is only used to route loaded entities' own hooks to `log`).
 */
export class RecordingMikroOrmSubscriber extends EntityEventRecorder {
  constructor(log: HookLog) {
    super(log, 'subscriber');
  }
  onInit(args: EventArgs<object>) {
    bindToHookLog(args.entity, this.log);
  }
  beforeFlush(_args: FlushEventArgs) {
    this.log.global('subscriber', 'beforeFlush');
  }
  onFlush(args: FlushEventArgs) {
    const changeSets = args.uow.getChangeSets().map((cs) => `${cs.type}:${cs.meta.className}`);
    this.log.global('subscriber', 'onFlush', { changeSets });
  }
  afterFlush(_args: FlushEventArgs) {
    this.log.global('subscriber', 'afterFlush');
  }
  beforeTransactionStart(args: TransactionEventArgs) {
    this.log.global('subscriber', 'beforeTransactionStart', transactionDetail(args));
  }
  afterTransactionStart(args: TransactionEventArgs) {
    this.log.global('subscriber', 'afterTransactionStart', transactionDetail(args));
  }
  beforeTransactionCommit(args: TransactionEventArgs) {
    this.log.global('subscriber', 'beforeTransactionCommit', transactionDetail(args));
  }
  afterTransactionCommit(args: TransactionEventArgs) {
    this.log.global('subscriber', 'afterTransactionCommit', transactionDetail(args));
  }
  beforeTransactionRollback(args: TransactionEventArgs) {
    this.log.global('subscriber', 'beforeTransactionRollback', transactionDetail(args));
  }
  afterTransactionRollback(args: TransactionEventArgs) {
    this.log.global('subscriber', 'afterTransactionRollback', transactionDetail(args));
  }
}

function transactionDetail(args: TransactionEventArgs): Record<string, unknown> | undefined {
  return args.transaction?.savepointName ? { savepoint: true } : undefined;
}

/** Subscribed to `Article` only (`getSubscribedEntities`): its entries prove the filter is honoured. */
export class ArticleMikroOrmSubscriber extends EntityEventRecorder {
  constructor(log: HookLog) {
    super(log, 'article-subscriber');
  }
  getSubscribedEntities() {
    return [Article];
  }
}

/**
 * A MikroORM logger (`loggerFactory`) that records every query with its parameters and prints
 * nothing. Configure `debug: ['query']` without `'query-params'` so the text keeps its placeholders.
 */
export class RecordingMikroOrmLogger extends DefaultLogger {
  constructor(
    options: LoggerOptions,
    private readonly sql: SqlLogEntry[],
  ) {
    super(options);
  }
  override logQuery(context: LogContext): void {
    if (context.query === undefined) return;
    this.sql.push(context.params ? { sql: context.query, params: [...context.params] } : { sql: context.query });
  }
}
