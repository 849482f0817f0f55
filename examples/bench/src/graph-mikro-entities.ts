// The orders graph for MikroORM (graph workload), the same tables as graph-typeorm-entities.ts: an
// order with its items (one-to-many, Cascade.PERSIST as MikroORM's default) and its tags
// (many-to-many to stored tags). Order and OrderItem have one hook and one subscriber each.
import { Collection, type EventArgs, type EventSubscriber } from '@mikro-orm/core';
import { BeforeCreate, Entity, ManyToMany, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { hooks } from './hooks.js';

@Entity({ tableName: 'tag' })
export class MikroTag {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 255 }) name!: string;
}

@Entity({ tableName: 'orders' })
export class MikroOrder {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'integer' }) qty!: number;
  @Property({ type: 'string', length: 255 }) label!: string;
  @Property({ fieldName: 'created_at', type: 'datetime', columnType: 'timestamptz' }) createdAt!: Date;
  @OneToMany(
    () => MikroOrderItem,
    (item) => item.order,
  )
  items = new Collection<MikroOrderItem>(this);
  @ManyToMany({
    entity: () => MikroTag,
    owner: true,
    pivotTable: 'order_tags',
    joinColumn: 'order_id',
    inverseJoinColumn: 'tag_id',
  })
  tags = new Collection<MikroTag>(this);
  touched?: 'insert';

  @BeforeCreate() markInserted(): void {
    this.touched = 'insert';
    hooks.listener++;
  }
}

@Entity({ tableName: 'order_item' })
export class MikroOrderItem {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'integer' }) qty!: number;
  @Property({ type: 'string', length: 255 }) label!: string;
  @ManyToOne({ entity: () => MikroOrder, fieldName: 'order_id' }) order!: MikroOrder;
  touched?: 'insert';

  @BeforeCreate() markInserted(): void {
    this.touched = 'insert';
    hooks.listener++;
  }
}

/** One subscriber per class, as the seed entity has. */
function counting<T extends { id: number }>(entity: new () => T): EventSubscriber<T> {
  return {
    getSubscribedEntities: () => [entity],
    beforeCreate: () => {
      hooks.beforeInsert++;
    },
    afterCreate: (args: EventArgs<T>) => {
      hooks.afterInsert++;
      if (typeof args.entity.id === 'number') hooks.afterInsertWithKey++;
    },
  };
}

export const mikroGraphSubscribers = () => [counting(MikroOrder), counting(MikroOrderItem)];
