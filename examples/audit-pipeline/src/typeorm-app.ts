// The TypeORM app: a product entity, and the audit trail registered as a TypeORM subscriber.
import { bulkInsert, bulkRemove, bulkUpdate, bulkUpsert } from '@cohort/typeorm';
import {
  Column,
  DataSource,
  Entity,
  type EntityManager,
  type EntityMetadata,
  type EntitySubscriberInterface,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { App, ProductData } from './app.js';
import { AuditTrail } from './audit-trail.js';

@Entity({ name: 'product' })
export class Product {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40, unique: true }) sku!: string;
  @Column({ type: 'numeric', precision: 10, scale: 2 }) price!: string;
}

/** The shared trail, plugged into TypeORM: its port runs SQL with `manager.query`. */
class TypeormAudit extends AuditTrail<Product, EntityMetadata, EntityManager> implements EntitySubscriberInterface<Product> {
  listenTo() {
    return Product;
  }
}

export async function typeormApp(url: string, schema: string): Promise<App> {
  const dataSource = await new DataSource({ type: 'postgres', url, schema, entities: [Product] }).initialize();
  dataSource.subscribers.push(
    new TypeormAudit(
      { execute: (manager, sql, parameters) => manager.query(sql, parameters), entityName: (m) => m.name },
      schema,
    ),
  );
  const make = (d: ProductData) => Object.assign(new Product(), d);
  return {
    async insert(data, batchSize) {
      const products = data.map(make);
      await bulkInsert(dataSource, Product, products, { batchSize });
      return products;
    },
    update: (products, batchSize) => bulkUpdate(dataSource, Product, products as Product[], { batchSize }),
    upsert: (data, batchSize) => bulkUpsert(dataSource, Product, data.map(make), { batchSize, target: ['sku'] }),
    remove: (products, batchSize) => bulkRemove(dataSource, Product, products as Product[], { batchSize }),
    inRolledBackTransaction: (data) =>
      dataSource.transaction(async (manager) => {
        await bulkInsert(manager, Product, data.map(make));
        throw new Error('rolled back on purpose');
      }),
    close: () => dataSource.destroy(),
  };
}
