/**
 * Every TypeORM API the adapter uses beyond the public `typeorm` index: deep imports and
 * protected fields, each behind a small typed signature. All were checked on typeorm 1.1.1, 0.3.20
 * and 0.3.31 (the same deep paths, signatures and protected fields on each, except where a section
 * gives a path per major, found by feature); when TypeORM is upgraded, this file is the one to
 * check against its sources.
 */
import type {
  DataSource,
  EntityMetadata,
  EntitySubscriberInterface,
  ObjectLiteral,
  QueryRunner,
  RelationMetadata,
} from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { EmbeddedMetadata } from 'typeorm/metadata/EmbeddedMetadata.js';
import { Subject } from 'typeorm/persistence/Subject.js';
import { SubjectChangedColumnsComputer } from 'typeorm/persistence/SubjectChangedColumnsComputer.js';
import { Broadcaster } from 'typeorm/subscriber/Broadcaster.js';
import { BroadcasterResult } from 'typeorm/subscriber/BroadcasterResult.js';

/** A column's metadata (typeorm/metadata/ColumnMetadata, not in the index; typeorm 1.1.1, 0.3.20 and 0.3.31). */
/** An embedded's metadata (typeorm/metadata/EmbeddedMetadata, not in the index; typeorm 1.1.1, 0.3.20 and 0.3.31). */
export type { ColumnMetadata, EmbeddedMetadata };

// ---------------------------------------------------------------------------------------------
// Change detection: save()'s Subject and SubjectChangedColumnsComputer (typeorm 1.1.1, 0.3.20 and 0.3.31).

/** What save()'s change detection found for one entity (the fields of a Subject cohort reads). */
export interface SaveDiff {
  /** Whether save() would update the row (a column or a relation with a join column changed). */
  readonly mustBeUpdated: boolean;
  /** The changed columns: UpdateEvent.updatedColumns. */
  readonly diffColumns: ColumnMetadata[];
  /** The changed relations: UpdateEvent.updatedRelations. */
  readonly diffRelations: RelationMetadata[];
  /** What the UPDATE writes: a changed column, or a changed relation (its join columns). */
  readonly changeMaps: readonly { readonly column?: ColumnMetadata; readonly relation?: RelationMetadata }[];
  /** Diffs again after the entity changed (save() recomputes its subjects after the before-hooks). */
  recompute(): void;
  /** Diffs `current` instead, as save() recomputes a subject whose entity changed (a diff of a copy before the hooks, then of the entity). */
  rebase(current: ObjectLiteral): void;
}

// Stateless: one computer serves every diff.
const computer = new SubjectChangedColumnsComputer();

/**
 * save()'s diff of `entity` against its stored row: a Subject that can be updated, its
 * `databaseEntity` set as loaded, run through SubjectChangedColumnsComputer.
 */
export function saveDiffOf(metadata: EntityMetadata, entity: ObjectLiteral, databaseEntity: ObjectLiteral): SaveDiff {
  const subject = new Subject({ metadata, entity, canBeUpdated: true });
  subject.databaseEntity = databaseEntity;
  subject.databaseEntityLoaded = true;
  computer.compute([subject]);
  return {
    get mustBeUpdated() {
      return subject.mustBeUpdated === true;
    },
    get diffColumns() {
      return subject.diffColumns;
    },
    get diffRelations() {
      return subject.diffRelations;
    },
    get changeMaps() {
      return subject.changeMaps;
    },
    recompute() {
      subject.recompute();
      computer.compute([subject]);
    },
    rebase(current: ObjectLiteral) {
      subject.entity = current;
      subject.recompute();
      computer.compute([subject]);
    },
  };
}

/**
 * The columns save()'s change detection lists for a new entity (a Subject to insert, no database
 * entity): what its UpdateEvent carries as `updatedColumns` when save() updates the row again in the
 * same call (a tree's parent set after the INSERT).
 */
export function insertDiffColumnsOf(metadata: EntityMetadata, entity: ObjectLiteral): ColumnMetadata[] {
  const subject = new Subject({ metadata, entity, canBeInserted: true });
  computer.compute([subject]);
  return subject.diffColumns;
}

// ---------------------------------------------------------------------------------------------
// Entity events: TypeORM's Broadcaster and BroadcasterResult (typeorm 1.1.1, 0.3.20 and 0.3.31).

/** What the listeners and subscribers of one or more broadcasts returned (BroadcasterResult's shape). */
export interface BroadcastResult {
  /** How many listeners and subscribers were called. */
  count: number;
  /** The promises they returned. */
  promises: Promise<unknown>[];
  /** Resolves once every promise they returned has (Promise.all). */
  wait(): Promise<BroadcastResult>;
}

/** The entity events of TypeORM's Broadcaster that a bulk write fires, per entity, as save()'s SubjectExecutor. */
export interface EntityBroadcaster {
  /**
   * Starts the listeners then the subscribers of beforeInsert for `entity`; `metadata` is its own
   * class's. Without an entity (a junction row, as save() broadcasts it) only the subscribers run.
   */
  beforeInsert(result: BroadcastResult, metadata: EntityMetadata, entity: ObjectLiteral | undefined): void;
  /** As beforeInsert; `identifier` is the entity's key map (the event's `entityId`). */
  afterInsert(
    result: BroadcastResult,
    metadata: EntityMetadata,
    entity: ObjectLiteral | undefined,
    identifier?: ObjectLiteral,
  ): void;
  beforeUpdate(
    result: BroadcastResult,
    metadata: EntityMetadata,
    entity: ObjectLiteral | undefined,
    change: UpdateEventChange,
  ): void;
  afterUpdate(
    result: BroadcastResult,
    metadata: EntityMetadata,
    entity: ObjectLiteral | undefined,
    change: UpdateEventChange,
  ): void;
  /** As save()'s remove: `databaseEntity` is the loaded row (undefined when none), `identifier` the entity's key map (`entityId`). */
  beforeRemove: RemoveBroadcast;
  afterRemove: RemoveBroadcast;
  beforeSoftRemove: RemoveBroadcast;
  afterSoftRemove: RemoveBroadcast;
  /** Whether `subscriber` listens to `target` (Broadcaster.isAllowedSubscriber: listenTo() is it or a parent). */
  listensTo(subscriber: EntitySubscriberInterface<unknown>, target: EntityMetadata['target']): boolean;
}

/** A broadcast of a (soft) remove event, with the arguments save()'s remove gives. */
export type RemoveBroadcast = (
  result: BroadcastResult,
  metadata: EntityMetadata,
  entity: ObjectLiteral | undefined,
  databaseEntity: ObjectLiteral | undefined,
  identifier: ObjectLiteral | undefined,
) => void;

/** The part of an UpdateEvent that describes the change. */
export interface UpdateEventChange {
  readonly databaseEntity?: ObjectLiteral;
  readonly updatedColumns: ColumnMetadata[];
  readonly updatedRelations: RelationMetadata[];
}

/** A result to pass to one or more broadcasts (a new BroadcasterResult). */
export function newBroadcastResult(): BroadcastResult {
  return new BroadcasterResult();
}

/**
 * Broadcaster on `queryRunner` (events carry it, its DataSource and its manager) that leaves out the
 * subscribers `skipped` gives: Broadcaster asks its protected isAllowedSubscriber() about each
 * subscriber, so overriding that is the one way to leave one out without copying the broadcast.
 */
export function entityBroadcaster(
  queryRunner: QueryRunner,
  skipped: ReadonlySet<EntitySubscriberInterface<unknown>>,
): EntityBroadcaster {
  const broadcaster = new SkippingBroadcaster(queryRunner, skipped);
  return {
    beforeInsert: (result, metadata, entity) => broadcaster.broadcastBeforeInsertEvent(result, metadata, entity),
    afterInsert: (result, metadata, entity, identifier) =>
      broadcaster.broadcastAfterInsertEvent(result, metadata, entity, identifier),
    beforeUpdate: (result, metadata, entity, change) =>
      broadcaster.broadcastBeforeUpdateEvent(
        result,
        metadata,
        entity,
        change.databaseEntity,
        change.updatedColumns,
        change.updatedRelations,
      ),
    afterUpdate: (result, metadata, entity, change) =>
      broadcaster.broadcastAfterUpdateEvent(
        result,
        metadata,
        entity,
        change.databaseEntity,
        change.updatedColumns,
        change.updatedRelations,
      ),
    beforeRemove: (result, metadata, entity, databaseEntity, identifier) =>
      broadcaster.broadcastBeforeRemoveEvent(result, metadata, entity, databaseEntity, identifier),
    afterRemove: (result, metadata, entity, databaseEntity, identifier) =>
      broadcaster.broadcastAfterRemoveEvent(result, metadata, entity, databaseEntity, identifier),
    beforeSoftRemove: (result, metadata, entity, databaseEntity, identifier) =>
      broadcaster.broadcastBeforeSoftRemoveEvent(result, metadata, entity, databaseEntity, identifier),
    afterSoftRemove: (result, metadata, entity, databaseEntity, identifier) =>
      broadcaster.broadcastAfterSoftRemoveEvent(result, metadata, entity, databaseEntity, identifier),
    listensTo: (subscriber, target) => broadcaster.listensTo(subscriber, target),
  };
}

class SkippingBroadcaster extends Broadcaster {
  constructor(
    queryRunner: QueryRunner,
    private readonly skipped: ReadonlySet<EntitySubscriberInterface<unknown>>,
  ) {
    super(queryRunner);
  }

  listensTo(subscriber: EntitySubscriberInterface<unknown>, target: EntityMetadata['target']): boolean {
    return super.isAllowedSubscriber(subscriber, target);
  }

  protected override isAllowedSubscriber(
    subscriber: EntitySubscriberInterface<unknown>,
    target: EntityMetadata['target'],
  ): boolean {
    return !this.skipped.has(subscriber) && super.isAllowedSubscriber(subscriber, target);
  }
}

// ---------------------------------------------------------------------------------------------
// The query runner's DataSource: `dataSource` on typeorm 1.x (where `connection` is a deprecated
// getter), `connection` only on 0.3 (checked on 0.3.20 and 0.3.31, which have no `dataSource` field).

/** The DataSource the query runner belongs to, on either major. */
export function dataSourceOf(queryRunner: QueryRunner): DataSource {
  const runner = queryRunner as { readonly dataSource?: DataSource; readonly connection: DataSource };
  return runner.dataSource ?? runner.connection;
}

// ---------------------------------------------------------------------------------------------
// Protected fields of the query runner (BaseQueryRunner / PostgresQueryRunner, typeorm 1.1.1, 0.3.20 and 0.3.31).

/** How many transactions (the outer one and savepoints) are open on the query runner: `transactionDepth`. */
export function transactionDepthOf(queryRunner: QueryRunner): number {
  return (queryRunner as unknown as { transactionDepth: number }).transactionDepth;
}

/** The query runner's driver client once connected (`databaseConnection`), undefined before. */
export function driverClientOf(queryRunner: QueryRunner): { readonly native?: unknown } | undefined {
  return (queryRunner as unknown as { databaseConnection?: { native?: unknown } }).databaseConnection;
}
