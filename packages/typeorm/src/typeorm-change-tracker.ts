import type { ChangeTracker, InputBatch, RowChange } from '@cohort/core';
import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { Subject } from 'typeorm/persistence/Subject.js';
import { SubjectChangedColumnsComputer } from 'typeorm/persistence/SubjectChangedColumnsComputer.js';
import { snapshotOf, takeSnapshot } from './entity-snapshots.js';

/** What TypeORM's UpdateEvent carries for one row. */
export interface TypeormChange {
  databaseEntity: ObjectLiteral;
  updatedColumns: ColumnMetadata[];
  updatedRelations: unknown[];
}

/**
 * TypeORM's own change detection, batched: the database entities are loaded like save() loads them
 * (relation ids included, afterLoad fired) but with one query per batch, and each row is diffed with
 * TypeORM's own SubjectChangedColumnsComputer, so "changed" means exactly what it means to save().
 */
export class TypeormChangeTracker<E extends ObjectLiteral> implements ChangeTracker<E> {
  private readonly computer = new SubjectChangedColumnsComputer();
  // save() diffs a subject, runs the before-hooks, then recomputes the same subject; so do we.
  private readonly subjects = new WeakMap<object, Subject>();
  queries = 0;

  constructor(
    private readonly queryRunner: QueryRunner,
    private readonly metadata: EntityMetadata,
  ) {}

  async load(batch: InputBatch<E>): Promise<(unknown | undefined)[]> {
    const md = this.metadata;
    const ids = batch.entities.map((e) => md.getEntityIdMap(e));
    const wanted = ids.filter((id): id is ObjectLiteral => id !== undefined);
    if (wanted.length === 0) return batch.entities.map(() => undefined);
    const relations = new Set<string>();
    for (const entity of batch.entities) {
      for (const relation of md.relations)
        if (relation.getEntityValue(entity) !== undefined) relations.add(relation.propertyPath);
    }
    const qb = this.queryRunner.manager
      .getRepository<E>(md.target)
      .createQueryBuilder('e')
      .setFindOptions({
        loadEagerRelations: false,
        loadRelationIds: { relations: [...relations], disableMixedMap: true },
        withDeleted: true,
      });
    const [only] = md.primaryColumns;
    // One look-up per batch whatever its size: `= ANY($1)` has one parameter, `IN (…)` one per row.
    if (md.primaryColumns.length === 1 && only) {
      qb.where(`e.${only.propertyPath} = ANY(:ids)`, { ids: wanted.map((id) => only.getEntityValue(id)) });
    } else {
      qb.whereInIds(wanted);
    }
    this.queries++;
    const found = new Map((await qb.getMany()).map((row) => [keyOf(md, row), row]));
    return batch.entities.map((entity, i) => (ids[i] === undefined ? undefined : found.get(keyOf(md, entity))));
  }

  diff(entity: E, loaded: unknown): RowChange {
    let subject = this.subjects.get(entity);
    if (subject) {
      subject.recompute();
    } else {
      const metadata = this.metadata.findInheritanceMetadata(entity);
      subject = new Subject({ metadata, entity, canBeUpdated: true });
      subject.databaseEntity = snapshotOf(entity) ?? (loaded as ObjectLiteral);
      subject.databaseEntityLoaded = true;
      this.subjects.set(entity, subject);
    }
    this.computer.compute([subject]);
    const columns = [
      ...subject.diffColumns.map((c) => c.databaseName),
      ...subject.diffRelations.flatMap((r) => r.joinColumns.map((c) => c.databaseName)),
    ];
    const properties = [...subject.diffColumns.map((c) => c.propertyPath), ...subject.diffRelations.map((r) => r.propertyPath)];
    const before = Object.fromEntries(
      subject.diffColumns.map((c) => [c.propertyPath, c.getEntityValue(loaded as ObjectLiteral)]),
    );
    const native: TypeormChange = {
      // The event carries the row as stored, as save() gives it, even when the diff used a snapshot.
      databaseEntity: loaded as ObjectLiteral,
      updatedColumns: subject.diffColumns,
      updatedRelations: subject.diffRelations,
    };
    return { properties, before, columns: subject.mustBeUpdated ? columns : [], native };
  }

  updated(entity: E): void {
    takeSnapshot(this.queryRunner.connection, entity);
  }
}

function keyOf(metadata: EntityMetadata, entity: ObjectLiteral): string {
  return JSON.stringify(metadata.primaryColumns.map((c) => String(c.getEntityValue(entity))));
}
