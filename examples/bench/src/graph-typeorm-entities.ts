// The orders graph for TypeORM (graph workload): an order with its items (one-to-many, cascading
// inserts) and its tags (many-to-many to stored tags). Order and OrderItem have one listener and one
// subscriber each, as the seed entity has; tags are stored before the timed write and carry none.
import {
  BeforeInsert,
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { hooks } from './hooks.js';

@Entity('tag')
export class TypeormTag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 255 }) name!: string;
}

@Entity('orders')
export class TypeormOrder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) qty!: number;
  @Column({ type: 'varchar', length: 255 }) label!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @OneToMany(
    () => TypeormOrderItem,
    (item) => item.order,
    { cascade: ['insert'] },
  )
  items?: TypeormOrderItem[];
  @ManyToMany(() => TypeormTag)
  @JoinTable({
    name: 'order_tags',
    joinColumn: { name: 'order_id', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'tag_id', referencedColumnName: 'id' },
  })
  tags!: TypeormTag[];
  touched?: 'insert';

  @BeforeInsert() markInserted(): void {
    this.touched = 'insert';
    hooks.listener++;
  }
}

@Entity('order_item')
export class TypeormOrderItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) qty!: number;
  @Column({ type: 'varchar', length: 255 }) label!: string;
  @ManyToOne(
    () => TypeormOrder,
    (order) => order.items,
    { nullable: false },
  )
  @JoinColumn({ name: 'order_id' })
  order?: TypeormOrder;
  touched?: 'insert';

  @BeforeInsert() markInserted(): void {
    this.touched = 'insert';
    hooks.listener++;
  }
}

@EventSubscriber()
export class TypeormOrderSubscriber implements EntitySubscriberInterface<TypeormOrder> {
  listenTo() {
    return TypeormOrder;
  }
  beforeInsert(_event: InsertEvent<TypeormOrder>): void {
    hooks.beforeInsert++;
  }
  afterInsert(event: InsertEvent<TypeormOrder>): void {
    hooks.afterInsert++;
    if (typeof event.entity?.id === 'number') hooks.afterInsertWithKey++;
  }
}

@EventSubscriber()
export class TypeormOrderItemSubscriber implements EntitySubscriberInterface<TypeormOrderItem> {
  listenTo() {
    return TypeormOrderItem;
  }
  beforeInsert(_event: InsertEvent<TypeormOrderItem>): void {
    hooks.beforeInsert++;
  }
  afterInsert(event: InsertEvent<TypeormOrderItem>): void {
    hooks.afterInsert++;
    if (typeof event.entity?.id === 'number') hooks.afterInsertWithKey++;
  }
}
