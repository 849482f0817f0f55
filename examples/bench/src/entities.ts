// The seed-style entity of the benchmark, once per ORM, each with one listener (a trivial
// assignment before insert and before update) and one subscriber counting before/after events.
import { BeforeCreate, BeforeUpdate as MBeforeUpdate, Entity as MEntity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EventArgs, EventSubscriber } from '@mikro-orm/core';
import {
  BeforeInsert,
  BeforeUpdate,
  Column,
  Entity,
  type EntitySubscriberInterface,
  type InsertEvent,
  PrimaryGeneratedColumn,
  type UpdateEvent,
} from 'typeorm';

/** Lifecycle calls seen during one measured write. */
export interface HookCounts {
  /** Entity listeners (`@BeforeInsert`/`@BeforeCreate` and `@BeforeUpdate`). */
  listener: number;
  beforeInsert: number;
  afterInsert: number;
  /** afterInsert/afterCreate calls whose entity already carried its key. */
  afterInsertWithKey: number;
  beforeUpdate: number;
  afterUpdate: number;
  beforeUpsert: number;
  afterUpsert: number;
}

export const hooks: HookCounts = emptyCounts();

export function emptyCounts(): HookCounts {
  return {
    listener: 0,
    beforeInsert: 0,
    afterInsert: 0,
    afterInsertWithKey: 0,
    beforeUpdate: 0,
    afterUpdate: 0,
    beforeUpsert: 0,
    afterUpsert: 0,
  };
}

export function resetHooks(): void {
  Object.assign(hooks, emptyCounts());
}

/** TypeORM: serial id, integer, varchar(255), timestamptz. */
@Entity('seed')
export class TypeormSeed {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) qty!: number;
  @Column({ type: 'varchar', length: 255 }) label!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  /** Not a column: what the listener last did. */
  touched?: 'insert' | 'update';

  @BeforeInsert() markInserted(): void {
    this.touched = 'insert';
    hooks.listener++;
  }

  @BeforeUpdate() markUpdated(): void {
    this.touched = 'update';
    hooks.listener++;
  }
}

export class TypeormSeedSubscriber implements EntitySubscriberInterface<TypeormSeed> {
  listenTo() {
    return TypeormSeed;
  }
  beforeInsert(_event: InsertEvent<TypeormSeed>): void {
    hooks.beforeInsert++;
  }
  afterInsert(event: InsertEvent<TypeormSeed>): void {
    hooks.afterInsert++;
    if (typeof event.entity?.id === 'number') hooks.afterInsertWithKey++;
  }
  beforeUpdate(_event: UpdateEvent<TypeormSeed>): void {
    hooks.beforeUpdate++;
  }
  afterUpdate(_event: UpdateEvent<TypeormSeed>): void {
    hooks.afterUpdate++;
  }
}

/** MikroORM: the same table. */
@MEntity({ tableName: 'seed' })
export class MikroSeed {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'integer' }) qty!: number;
  @Property({ type: 'string', length: 255 }) label!: string;
  @Property({ fieldName: 'created_at', type: 'datetime', columnType: 'timestamptz' }) createdAt!: Date;
  touched?: 'insert' | 'update';

  @BeforeCreate() markInserted(): void {
    this.touched = 'insert';
    hooks.listener++;
  }

  @MBeforeUpdate() markUpdated(): void {
    this.touched = 'update';
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
}
