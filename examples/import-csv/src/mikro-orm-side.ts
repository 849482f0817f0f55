// The MikroORM side: the same customer entity with MikroORM's decorators and the same class-validator
// rules (cohort checks them for MikroORM entities too), and the calls the import makes.
import { bulkInsert, bulkUpsert } from '@cohort/mikro-orm';
import { Entity, PrimaryKey, Property, ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { MikroORM } from '@mikro-orm/postgresql';
import { IsDate, IsEmail, IsOptional, Length, Max, Min } from 'class-validator';
import type { CustomerFields } from './customer-fields.js';
import type { OrmSide } from './orm-side.js';

@Entity({ tableName: 'customer' })
export class Customer {
  @PrimaryKey({ type: 'integer' }) id!: number;

  @Property({ type: 'string', length: 120, unique: true })
  @IsEmail()
  email!: string;

  @Property({ type: 'string', length: 80 })
  @Length(1, 80)
  name!: string;

  @Property({ type: 'integer', nullable: true })
  @IsOptional()
  @Min(0)
  @Max(150)
  age!: number | null;

  @Property({ type: 'datetime', fieldName: 'signed_up', nullable: true })
  @IsOptional()
  @IsDate()
  signedUp!: Date | null;

  @Property({ type: 'string', length: 2, nullable: true })
  country!: string | null;
}

/** A MikroORM instance on `schema`, and the import's calls through a fork of its EntityManager. */
export async function mikroOrmSide(url: string, schema: string): Promise<OrmSide<Customer>> {
  const orm = await MikroORM.init({ clientUrl: url, schema, entities: [Customer], metadataProvider: ReflectMetadataProvider });
  const em = orm.em.fork();
  return {
    create: (fields: CustomerFields) => Object.assign(new Customer(), fields),
    // A stream's entities stay out of the identity map by default (bounded memory).
    insert: (rows, options) => bulkInsert(em, Customer, rows, options),
    upsert: (rows, options) => bulkUpsert(em, Customer, rows, options),
    close: () => orm.close(true),
  };
}
