// The MikroORM app: the same product table, and the same audit trail registered as a MikroORM subscriber.
import { bulkInsert, bulkRemove, bulkUpdate, bulkUpsert } from '@cohort/mikro-orm';
import type { EntityMetadata, EventSubscriber } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property, ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { App, ProductData } from './app.js';
import { AuditTrail } from './audit-trail.js';

@Entity({ tableName: 'product' })
export class Product {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40, unique: true }) sku!: string;
  @Property({ type: 'decimal', precision: 10, scale: 2 }) price!: string;
}

/** The shared trail, plugged into MikroORM: its port runs SQL with `em.execute` (`?` placeholders). */
class MikroOrmAudit extends AuditTrail<Product, EntityMetadata<Product>, EntityManager> implements EventSubscriber<Product> {
  getSubscribedEntities() {
    return [Product];
  }
}

export async function mikroOrmApp(url: string, schema: string): Promise<App> {
  const audit = new MikroOrmAudit(
    { execute: (em, sql, parameters) => em.execute(sql.replace(/\$\d+/g, '?'), parameters), entityName: (m) => m.className },
    schema,
  );
  const orm = await MikroORM.init({
    clientUrl: url,
    schema,
    entities: [Product],
    subscribers: [audit],
    metadataProvider: ReflectMetadataProvider,
  });
  const em = orm.em.fork();
  const make = (d: ProductData) => Object.assign(new Product(), d);
  return {
    async insert(data, batchSize) {
      const products = data.map(make);
      await bulkInsert(em, Product, products, { batchSize });
      return products;
    },
    update: (products, batchSize) => bulkUpdate(em, Product, products as Product[], { batchSize }),
    upsert: (data, batchSize) => bulkUpsert(em, Product, data.map(make), { batchSize, target: ['sku'] }),
    remove: (products, batchSize) => bulkRemove(em, Product, products as Product[], { batchSize }),
    inRolledBackTransaction: (data) =>
      em.fork().transactional(async (tem) => {
        await bulkInsert(tem, Product, data.map(make));
        throw new Error('rolled back on purpose');
      }),
    close: () => orm.close(true),
  };
}
