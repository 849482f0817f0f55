// The demo's TypeORM side: entities, a listener, and an audit subscriber that writes one audit
// statement per batch through the transaction's manager.
import type { TypeormBulkEvent, TypeormBulkSubscriber, TypeormBulkUpdateEvent } from '@cohort/typeorm';
import {
  BeforeInsert,
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';

@Entity('product')
export class Product {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 32, unique: true }) sku!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Column({ type: 'numeric', precision: 10, scale: 2 }) price!: string;
  @Column({ type: 'integer' }) stock!: number;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
  @VersionColumn({ type: 'integer' }) version!: number;

  @BeforeInsert() normalize(): void {
    this.sku = this.sku.toUpperCase();
  }
}

@Entity('audit_log')
export class AuditLog {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 10 }) action!: string;
  @Column({ type: 'integer', name: 'product_id' }) productId!: number;
  @Column({ type: 'jsonb', nullable: true }) changes!: string[] | null;
}

/**
 * Audits every product write in the same transaction as the data: per entity when TypeORM's own
 * save() calls it (one INSERT per product), per batch when cohort does (one INSERT per batch).
 */
@EventSubscriber()
export class ProductAudit implements EntitySubscriberInterface<Product>, TypeormBulkSubscriber<Product> {
  // The ids of products being removed: as after remove(), their objects no longer carry them
  // when the after-remove events run.
  private readonly removing = new WeakMap<Product, number>();

  listenTo() {
    return Product;
  }

  async afterInsert(event: InsertEvent<Product>) {
    await event.manager.insert(AuditLog, { action: 'insert', productId: event.entity.id, changes: null });
  }

  async afterBulkInsert(event: TypeormBulkEvent<Product>) {
    await event.manager.insert(
      AuditLog,
      event.entities.map((p) => ({ action: 'insert', productId: p.id, changes: null })),
    );
  }

  async afterBulkUpdate(event: TypeormBulkUpdateEvent<Product>) {
    // Products are never the items of a one-to-many cohort writes: no foreign-key batches here.
    if (event.foreignKeys) return;
    await event.manager.insert(
      AuditLog,
      event.entities.map((p, i) => ({ action: 'update', productId: p.id, changes: [...(event.changes[i]?.properties ?? [])] })),
    );
  }

  beforeBulkRemove(event: TypeormBulkEvent<Product>) {
    for (const p of event.entities) this.removing.set(p, p.id);
  }

  /** Only the rows the DELETE removed: a row already gone is skipped, with no after-remove event. */
  async afterBulkRemove(event: TypeormBulkEvent<Product>) {
    await event.manager.insert(
      AuditLog,
      event.entities.map((p) => ({ action: 'remove', productId: this.removing.get(p) as number, changes: null })),
    );
  }
}

export async function openTypeorm(url: string, schema: string): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    schema,
    entities: [Product, AuditLog],
    subscribers: [ProductAudit],
    synchronize: true,
  });
  return dataSource.initialize();
}
