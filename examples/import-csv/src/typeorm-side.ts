// The TypeORM side: the customer entity (TypeORM's decorators for the columns, class-validator's for
// the rules the columns do not say) and the calls the import makes.
import { bulkInsert, bulkUpsert } from '@cohort/typeorm';
import { IsDate, IsEmail, IsOptional, Length, Max, Min } from 'class-validator';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { CustomerFields } from './customer-fields.js';
import type { OrmSide } from './orm-side.js';

@Entity({ name: 'customer' })
export class Customer {
  @PrimaryGeneratedColumn() id!: number;

  @Column({ type: 'varchar', length: 120, unique: true })
  @IsEmail()
  email!: string;

  @Column({ type: 'varchar', length: 80 })
  @Length(1, 80)
  name!: string;

  @Column({ type: 'integer', nullable: true })
  @IsOptional()
  @Min(0)
  @Max(150)
  age!: number | null;

  @Column({ type: 'timestamptz', name: 'signed_up', nullable: true })
  @IsOptional()
  @IsDate()
  signedUp!: Date | null;

  @Column({ type: 'varchar', length: 2, nullable: true })
  country!: string | null;
}

/** A TypeORM DataSource on `schema`, and the import's calls through it. */
export async function typeormSide(url: string, schema: string): Promise<OrmSide<Customer>> {
  const dataSource = await new DataSource({ type: 'postgres', url, schema, entities: [Customer] }).initialize();
  return {
    create: (fields: CustomerFields) => Object.assign(new Customer(), fields),
    insert: (rows, options) => bulkInsert(dataSource, Customer, rows, options),
    upsert: (rows, options) => bulkUpsert(dataSource, Customer, rows, options),
    close: () => dataSource.destroy(),
  };
}
