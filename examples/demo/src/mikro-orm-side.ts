// The demo's MikroORM side: the same tables, an entity hook, and the same batch audit subscriber.
import type { BulkUpdateEvent } from '@cohort/core';
import type { MikroOrmBulkEvent } from '@cohort/mikro-orm';
import { BulkEntityRepository } from '@cohort/mikro-orm';
import { BeforeCreate, Entity, PrimaryKey, Property, ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { type EventArgs, type EventSubscriber, MikroORM } from '@mikro-orm/postgresql';

@Entity({ tableName: 'product', repository: () => BulkEntityRepository })
export class Product {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 32, unique: true }) sku!: string;
  @Property({ type: 'string', length: 100 }) name!: string;
  @Property({ type: 'decimal', precision: 10, scale: 2 }) price!: string;
  @Property({ type: 'integer' }) stock!: number;
  @Property({
    type: 'Date',
    fieldName: 'updated_at',
    columnType: 'timestamptz',
    onCreate: () => new Date(),
    onUpdate: () => new Date(),
  })
  updatedAt!: Date;
  @Property({ type: 'integer', version: true }) version!: number;

  @BeforeCreate() normalize(): void {
    this.sku = this.sku.toUpperCase();
  }
}

@Entity({ tableName: 'audit_log' })
export class AuditLog {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 10 }) action!: string;
  @Property({ type: 'integer', fieldName: 'product_id' }) productId!: number;
  @Property({ type: 'json', nullable: true }) changes!: string[] | null;
}

/**
 * Audits every product write in the same transaction as the data: per entity when MikroORM's flush
 * calls it (one INSERT per product), per batch when cohort does (one INSERT per batch).
 */
export class ProductAudit implements EventSubscriber<Product> {
  getSubscribedEntities() {
    return [Product];
  }

  async afterCreate(args: EventArgs<Product>) {
    await args.em.insert(AuditLog, { action: 'insert', productId: args.entity.id, changes: null });
  }

  async afterBulkInsert(event: MikroOrmBulkEvent<Product>) {
    await event.manager.insertMany(
      AuditLog,
      event.entities.map((p) => ({ action: 'insert', productId: p.id, changes: null })),
    );
  }

  async afterBulkUpdate(event: MikroOrmBulkEvent<Product> & Pick<BulkUpdateEvent<Product, unknown, unknown>, 'changes'>) {
    await event.manager.insertMany(
      AuditLog,
      event.entities.map((p, i) => ({ action: 'update', productId: p.id, changes: [...(event.changes[i]?.properties ?? [])] })),
    );
  }

  /** Only the rows the DELETE removed: a row already gone is skipped, with no after-delete event. */
  async afterBulkRemove(event: MikroOrmBulkEvent<Product>) {
    await event.manager.insertMany(
      AuditLog,
      event.entities.map((p) => ({ action: 'remove', productId: p.id, changes: null })),
    );
  }
}

export async function openMikroOrm(url: string, schema: string): Promise<MikroORM> {
  const orm = await MikroORM.init({
    clientUrl: url,
    schema,
    entities: [Product, AuditLog],
    subscribers: [new ProductAudit()],
    metadataProvider: ReflectMetadataProvider,
    allowGlobalContext: true,
  });
  await orm.schema.create();
  return orm;
}
