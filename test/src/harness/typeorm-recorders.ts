import {
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  type Logger,
  type ObjectLiteral,
  type RecoverEvent,
  type RemoveEvent,
  type SoftRemoveEvent,
  type UpdateEvent,
} from 'typeorm';
import { Article } from '../fixtures/typeorm/index.js';
import { bindToHookLog, type HookLog, type HookSource, isFixtureEntity } from './hook-log.js';
import { normalizeValue } from './normalize.js';
import type { SqlLogEntry } from './sql-log.js';

type SubscriberClass = new () => EntitySubscriberInterface;

const updateDetail = (event: UpdateEvent<ObjectLiteral>) => ({
  updatedColumns: event.updatedColumns.map((c) => c.propertyPath).sort(),
  updatedRelations: event.updatedRelations.map((r) => r.propertyPath).sort(),
});

// Records the entity-level events; shared by the catch-all and the Article-only subscriber.
function entityRecorder(log: HookLog, source: HookSource) {
  const entity = (event: string, target: ObjectLiteral | undefined, detail?: Record<string, unknown>) => {
    if (target) log.entity(source, event, target, detail);
    else log.global(source, event, detail);
  };
  return {
    afterLoad(loaded: ObjectLiteral) {
      // TypeORM also broadcasts afterLoad for relation-id maps (`{ id: 1 }`) loaded with an entity.
      if (!isFixtureEntity(loaded)) return;
      bindToHookLog(loaded, log);
      entity('afterLoad', loaded);
    },
    beforeInsert(e: InsertEvent<ObjectLiteral>) {
      entity('beforeInsert', e.entity);
    },
    afterInsert(e: InsertEvent<ObjectLiteral>) {
      entity('afterInsert', e.entity, { entityId: normalizeValue(e.entityId) });
    },
    beforeUpdate(e: UpdateEvent<ObjectLiteral>) {
      entity('beforeUpdate', e.entity, updateDetail(e));
    },
    afterUpdate(e: UpdateEvent<ObjectLiteral>) {
      entity('afterUpdate', e.entity, updateDetail(e));
    },
    beforeRemove(e: RemoveEvent<ObjectLiteral>) {
      entity('beforeRemove', e.entity ?? e.databaseEntity, { entityId: normalizeValue(e.entityId) });
    },
    afterRemove(e: RemoveEvent<ObjectLiteral>) {
      entity('afterRemove', e.entity ?? e.databaseEntity, { entityId: normalizeValue(e.entityId) });
    },
    beforeSoftRemove(e: SoftRemoveEvent<ObjectLiteral>) {
      entity('beforeSoftRemove', e.entity ?? e.databaseEntity);
    },
    afterSoftRemove(e: SoftRemoveEvent<ObjectLiteral>) {
      entity('afterSoftRemove', e.entity ?? e.databaseEntity);
    },
    beforeRecover(e: RecoverEvent<ObjectLiteral>) {
      entity('beforeRecover', e.entity ?? e.databaseEntity);
    },
    afterRecover(e: RecoverEvent<ObjectLiteral>) {
      entity('afterRecover', e.entity ?? e.databaseEntity);
    },
  };
}

/**
 * A subscriber class without `listenTo` that records every entity and transaction event into
 * `log`. Query events are left to the SQL logger. TypeORM instantiates only `@EventSubscriber()`
 * classes listed in `subscribers`, hence a decorated class per log.
 */
export function recordingSubscriber(log: HookLog): SubscriberClass {
  @EventSubscriber()
  class RecordingSubscriber implements EntitySubscriberInterface {
    constructor() {
      Object.assign(this, entityRecorder(log, 'subscriber'));
    }
    beforeTransactionStart() {
      log.global('subscriber', 'beforeTransactionStart');
    }
    afterTransactionStart() {
      log.global('subscriber', 'afterTransactionStart');
    }
    beforeTransactionCommit() {
      log.global('subscriber', 'beforeTransactionCommit');
    }
    afterTransactionCommit() {
      log.global('subscriber', 'afterTransactionCommit');
    }
    beforeTransactionRollback() {
      log.global('subscriber', 'beforeTransactionRollback');
    }
    afterTransactionRollback() {
      log.global('subscriber', 'afterTransactionRollback');
    }
  }
  return RecordingSubscriber;
}

/** A subscriber with `listenTo() { return Article }`: its entries prove the filter is honoured. */
export function articleSubscriber(log: HookLog): SubscriberClass {
  @EventSubscriber()
  class ArticleSubscriber implements EntitySubscriberInterface<Article> {
    constructor() {
      Object.assign(this, entityRecorder(log, 'article-subscriber'));
    }
    listenTo() {
      return Article;
    }
  }
  return ArticleSubscriber;
}

/** A TypeORM `Logger` that records every query (text and parameters) and prints nothing. */
export class RecordingTypeormLogger implements Logger {
  constructor(private readonly sql: SqlLogEntry[]) {}
  logQuery(query: string, parameters?: unknown[] | ObjectLiteral): void {
    this.sql.push(Array.isArray(parameters) ? { sql: query, params: parameters } : { sql: query });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
