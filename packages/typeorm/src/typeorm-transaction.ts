import {
  type EntityAccess,
  type EntityGraph,
  type InputBatch,
  type InsertedEntities,
  NO_HOOKS,
  type RelatedUpdateGroup,
  type SqlSession,
  type TransactionRunner,
  type WriteTarget,
} from '@cohort/core/adapter';
import type { EntityManager, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { assertEntityRows } from './assert-entity-row.js';
import { keepUntilTransactionEnds, markWriter, type SnapshotWrites, snapshotWritesFor } from './entity-snapshots.js';
import type { CallRows } from './typeorm-call-rows.js';
import { TypeormCascades, valuesOf, withGraph } from './typeorm-cascades.js';
import { TypeormChangeTracker } from './typeorm-change-tracker.js';
import { driverClientOf } from './typeorm-internals.js';
import { TypeormLifecycle } from './typeorm-lifecycle.js';
import { readTypeormEntity } from './typeorm-model-reader.js';
import { RemovedKeys } from './typeorm-removed-keys.js';
import { refuseTreeTable } from './typeorm-tree-guard.js';

/** A session on a query runner: statements go through TypeORM's own query() (logged like save's). */
export function typeormSession(queryRunner: QueryRunner): SqlSession {
  return {
    async query(sql, params) {
      try {
        const result = await queryRunner.query(sql, params as unknown[], true);
        return result.records;
      } catch (error) {
        // Keep PostgreSQL's own error (SQLSTATE, detail, constraint) rather than TypeORM's wrapper.
        throw (error as { driverError?: unknown }).driverError ?? error;
      }
    },
    copyClient: () => queryRunner.connect(),
    // node-postgres' own client sends Buffer parameters in binary form; pg-native (`native: true`,
    // or a native client given as `driver`) is not known to. Asked once the transaction's client is there.
    get binaryParameters() {
      const native = (queryRunner.connection.driver.options as { native?: boolean }).native;
      const client = driverClientOf(queryRunner);
      return !native && client !== undefined && client.native === undefined;
    },
    // COPY goes to the raw client, past TypeORM's query(): report it to the logger all the same.
    logStatement: (sql) => queryRunner.connection.logger.logQuery(sql, [], queryRunner),
  };
}

/**
 * Runs work in the caller's transaction when the manager has one, otherwise in a new one opened with
 * the query runner's own startTransaction(), so transaction subscribers fire as they do for save().
 * `data` is the query runner's `data` while the work runs, as `save(…, { data })` sets it.
 */
export function typeormTransaction<E extends ObjectLiteral>(
  manager: EntityManager,
  metadata: EntityMetadata,
  hooks: boolean,
  data?: unknown,
  /**
   * Told the query runner the work runs on and its snapshot bookkeeping (for the related classes the
   * call inserts: their lifecycle, and snapshots undone with the transaction).
   */
  bind?: (qr: QueryRunner, writes: SnapshotWrites | undefined, rollBack: RemovedKeys) => void,
  /** The call's graph (typeorm-cascades.ts), which the changed related entities it updates join. */
  graph?: InsertedEntities,
  /** The rows of the whole call (see findChangedRelation). */
  callRows?: CallRows,
): TransactionRunner<E> {
  return async (fn) => {
    const existing = manager.queryRunner;
    const inTransaction = existing?.isTransactionActive === true;
    const qr = existing ?? manager.connection.createQueryRunner();
    // As save(): set for the call (before the transaction starts, so its events see it too), then put back.
    const previous = qr.data;
    if (data) qr.data = data;
    const removedKeys = new RemovedKeys(metadata);
    const targetFor = (inCaller: boolean, writes: SnapshotWrites | undefined) => {
      bind?.(qr, writes, removedKeys);
      return writeTarget<E>(qr, metadata, hooks, inCaller, writes, removedKeys, graph, callRows);
    };
    try {
      return inTransaction
        ? await inCallerTransaction(qr, removedKeys, targetFor, fn)
        : await inOwnTransaction(qr, removedKeys, targetFor, fn);
    } finally {
      qr.data = previous;
      if (!existing) await qr.release();
    }
  };
}

type TargetFor<E> = (inCallerTransaction: boolean, writes: SnapshotWrites | undefined) => WriteTarget<E>;

/** The work in the caller's transaction: snapshots it writes are kept until that transaction ends. */
async function inCallerTransaction<E, T>(
  qr: QueryRunner,
  removedKeys: RemovedKeys,
  targetFor: TargetFor<E>,
  fn: (target: WriteTarget<E>) => Promise<T>,
): Promise<T> {
  const writes = snapshotWritesFor(qr);
  try {
    const result = await fn(targetFor(true, writes));
    if (writes) keepUntilTransactionEnds(qr, writes);
    return result;
  } catch (error) {
    if (writes) writes.state = 'rolledBack';
    removedKeys.restore();
    throw error;
  }
}

/** The work in a transaction of its own, committed when it resolves and rolled back when it throws. */
async function inOwnTransaction<E, T>(
  qr: QueryRunner,
  removedKeys: RemovedKeys,
  targetFor: TargetFor<E>,
  fn: (target: WriteTarget<E>) => Promise<T>,
): Promise<T> {
  await qr.startTransaction();
  const writes = snapshotWritesFor(qr);
  try {
    const result = await fn(targetFor(false, writes));
    await qr.commitTransaction();
    if (writes) writes.state = 'committed';
    return result;
  } catch (error) {
    // A failed COMMIT (a lost connection) may or may not have taken effect: the snapshots give
    // way, so a retry writes the rows again rather than taking them for unchanged.
    if (writes) writes.state = 'rolledBack';
    removedKeys.restore();
    await qr.rollbackTransaction().catch(() => {});
    throw error;
  }
}

/** Where one transaction's work goes: its session, TypeORM's lifecycle and change detection on it. */
function writeTarget<E extends ObjectLiteral>(
  qr: QueryRunner,
  metadata: EntityMetadata,
  hooks: boolean,
  inCallerTransaction: boolean,
  writes: SnapshotWrites | undefined,
  removedKeys: RemovedKeys,
  graph: InsertedEntities | undefined,
  callRows: CallRows | undefined,
): WriteTarget<E> {
  const tracker = new TypeormChangeTracker<E>(qr, metadata);
  tracker.graph = graph;
  tracker.callRows = callRows;
  tracker.removed = (entity) => removedKeys.unset(entity);
  tracker.relatedGroup = (md, entities, positions, via, notUpdated, vias) => {
    const group = relatedGroup(qr, md, hooks, writes, removedKeys, { entities, positions, via, notUpdated, vias }, graph);
    // The related classes' look-ups count in the call's `statements`, as the rows' do.
    const changes = group.target.changes as TypeormChangeTracker<ObjectLiteral>;
    changes.countsInto = tracker;
    // Their state before the batch's hooks: save()'s before-update events (see TypeormChangeTracker.diff).
    if (tracker.initial) changes.initial = tracker.initial;
    return group;
  };
  return {
    session: typeormSession(qr),
    hooks: hooks ? new TypeormLifecycle<E>(qr, metadata, tracker) : NO_HOOKS,
    inCallerTransaction,
    changes: tracker,
    // Snapshots (trackEntityChanges) written by this transaction are undone if it rolls back.
    batchStarted: (batch) => {
      assertEntityRows(metadata, batch);
      if (writes) markWriter(batch.entities, writes);
    },
    ...(writes && { batchDone: (batch: InputBatch<E>) => markWriter(batch.entities, undefined) }),
  };
}

/** A related class's entities to write with a batch's rows (see RelatedGroupOf). */
interface RelatedEntities {
  entities: ObjectLiteral[];
  positions: number[];
  via: { entityName: string; property: string };
  notUpdated: ObjectLiteral[];
  /** Each entity's own relation path, where it is reached through another one than the first entity. */
  vias: ReadonlyMap<ObjectLiteral, { entityName: string; property: string }>;
}

/**
 * The update group of a related class whose changed entities save() updates with the rows (cascade
 * update): its own model, access, lifecycle and change tracker on the call's transaction. The values
 * the update puts on an entity (version, update date) are put back if the transaction rolls back, as
 * a failed save() leaves its objects; snapshots it takes are undone as the rows' are. The new
 * entities they hold through relations that cascade inserts are inserted with them, as save() inserts
 * them (typeorm-cascades.ts: the class's cascades, as for a bulkUpdate of them); so are those held
 * by the entities save() does not update (`notUpdated`), which the group's tracker finds unchanged.
 */
function relatedGroup(
  qr: QueryRunner,
  metadata: EntityMetadata,
  hooks: boolean,
  writes: SnapshotWrites | undefined,
  removedKeys: RemovedKeys,
  { entities, positions, via, notUpdated, vias }: RelatedEntities,
  callGraph: EntityGraph | undefined,
): RelatedUpdateGroup {
  refuseTreeTable(metadata, `updating by cascade (${via.entityName}.${via.property})`);
  const { model, access } = readTypeormEntity<ObjectLiteral>(qr.connection, metadata);
  const tracker = new TypeormChangeTracker<ObjectLiteral>(qr, metadata, true);
  if (notUpdated.length > 0) tracker.notUpdated = new WeakSet(notUpdated);
  const kept = new WeakSet<object>();
  const keep = (entity: ObjectLiteral) => {
    if (kept.has(entity)) return;
    kept.add(entity);
    removedKeys.undoOnRollBack(valuesOf(metadata.findInheritanceMetadata(entity), entity));
  };
  const own: EntityAccess<ObjectLiteral> = {
    ...access,
    writer: (column) => {
      const write = access.writer(column);
      return (entity, value) => {
        keep(entity);
        write(entity, value);
      };
    },
  };
  const cascades = TypeormCascades.needed(metadata) ? new TypeormCascades(qr.connection, metadata, hooks, entities) : undefined;
  if (cascades) {
    cascades.queryRunner = qr;
    cascades.writes = writes;
    cascades.rollBack = removedKeys;
  }
  // Its relation finder sees the call's graph too: the stored entities the rows' look-up found at any
  // depth are updated (with the new entities they hold) by their own class's group, not refused here.
  const written: EntityAccess<ObjectLiteral> = cascades
    ? { ...cascades.withGraph(own, callGraph), cascades: (batch) => cascades.find(batch) }
    : callGraph
      ? withGraph(own, callGraph)
      : own;
  const target: WriteTarget<ObjectLiteral> = {
    session: typeormSession(qr),
    hooks: hooks ? new TypeormLifecycle<ObjectLiteral>(qr, metadata, tracker) : NO_HOOKS,
    inCallerTransaction: false,
    changes: tracker,
    batchStarted: (batch) => {
      assertEntityRows(metadata, batch);
      if (writes) markWriter(batch.entities, writes);
    },
    ...(writes && { batchDone: (batch: InputBatch<ObjectLiteral>) => markWriter(batch.entities, undefined) }),
  };
  return {
    ...via,
    model,
    access: written as EntityAccess<unknown>,
    target: target as WriteTarget<unknown>,
    entities,
    positions,
    ...(notUpdated.length > 0 && { notUpdated: (entity: unknown) => tracker.notUpdated?.has(entity as object) === true }),
    ...(vias.size > 0 && { reachedVia: (entity: unknown) => vias.get(entity as ObjectLiteral) }),
  };
}
