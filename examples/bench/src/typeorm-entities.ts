// The seed-style entity for TypeORM, with one listener (a trivial assignment before insert, update
// and remove) and one subscriber counting before/after insert, update and remove.
import {
  BeforeInsert,
  BeforeRemove,
  BeforeUpdate,
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  PrimaryGeneratedColumn,
  type RemoveEvent,
  type UpdateEvent,
} from 'typeorm';
import { hooks } from './hooks.js';

/** TypeORM: serial id, integer, varchar(255), timestamptz. */
@Entity('seed')
export class TypeormSeed {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) qty!: number;
  @Column({ type: 'varchar', length: 255 }) label!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  /** Not a column: what the listener last did. */
  touched?: 'insert' | 'update' | 'remove';

  @BeforeInsert() markInserted(): void {
    this.touched = 'insert';
    hooks.listener++;
  }

  @BeforeUpdate() markUpdated(): void {
    this.touched = 'update';
    hooks.listener++;
  }

  @BeforeRemove() markRemoved(): void {
    this.touched = 'remove';
    hooks.listener++;
  }
}

@EventSubscriber()
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
  beforeRemove(_event: RemoveEvent<TypeormSeed>): void {
    hooks.beforeRemove++;
  }
  afterRemove(_event: RemoveEvent<TypeormSeed>): void {
    hooks.afterRemove++;
  }
}
