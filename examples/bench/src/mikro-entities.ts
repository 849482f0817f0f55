// The seed-style entity for MikroORM (same table), with one entity hook before create, update and
// delete and one subscriber counting before/after create, update, upsert and delete.
import type { EventArgs, EventSubscriber } from '@mikro-orm/core';
import { BeforeCreate, BeforeDelete, BeforeUpdate, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { hooks } from './hooks.js';

/** MikroORM: the same table. */
@Entity({ tableName: 'seed' })
export class MikroSeed {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'integer' }) qty!: number;
  @Property({ type: 'string', length: 255 }) label!: string;
  @Property({ fieldName: 'created_at', type: 'datetime', columnType: 'timestamptz' }) createdAt!: Date;
  touched?: 'insert' | 'update' | 'remove';

  @BeforeCreate() markInserted(): void {
    this.touched = 'insert';
    hooks.listener++;
  }

  @BeforeUpdate() markUpdated(): void {
    this.touched = 'update';
    hooks.listener++;
  }

  @BeforeDelete() markRemoved(): void {
    this.touched = 'remove';
    hooks.listener++;
  }
}

export class MikroSeedSubscriber implements EventSubscriber<MikroSeed> {
  getSubscribedEntities() {
    return [MikroSeed];
  }
  beforeCreate(): void {
    hooks.beforeInsert++;
  }
  afterCreate(args: EventArgs<MikroSeed>): void {
    hooks.afterInsert++;
    if (typeof args.entity.id === 'number') hooks.afterInsertWithKey++;
  }
  beforeUpdate(): void {
    hooks.beforeUpdate++;
  }
  afterUpdate(): void {
    hooks.afterUpdate++;
  }
  beforeUpsert(): void {
    hooks.beforeUpsert++;
  }
  afterUpsert(): void {
    hooks.afterUpsert++;
  }
  beforeDelete(): void {
    hooks.beforeRemove++;
  }
  afterDelete(): void {
    hooks.afterRemove++;
  }
}
