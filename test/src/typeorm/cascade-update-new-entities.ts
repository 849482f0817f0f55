// The entities of cascade-update-new-related.test.ts: orders whose stored customers hold new
// addresses and notes, with the event log (listeners, subscribers, write statements) both sides share.
import {
  AfterInsert,
  BeforeInsert,
  Column,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  type Logger,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  type UpdateEvent,
} from 'typeorm';

/** Entity events and write statements, in the order they happen. */
export const log: string[] = [];

@Entity('un_address')
export class UnAddress {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) street!: string;
  @BeforeInsert() before() {
    log.push(`listener beforeInsert UnAddress ${this.street}`);
    if (this.street === 'boom') throw new Error('no boom');
  }
  @AfterInsert() after() {
    log.push(`listener afterInsert UnAddress ${this.street} has id ${typeof this.id}`);
  }
}

@Entity('un_customer')
export class UnCustomer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => UnAddress, { nullable: true, cascade: true }) address?: UnAddress | null;
  @OneToMany(
    () => UnNote,
    (n) => n.customer,
    { cascade: true },
  )
  notes?: UnNote[];
}

@Entity('un_note')
export class UnNote {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) body!: string;
  @ManyToOne(
    () => UnCustomer,
    (c) => c.notes,
    { nullable: true },
  )
  customer?: UnCustomer | null;
}

@Entity('un_order')
export class UnOrder {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => UnCustomer, { nullable: true, cascade: true }) customer?: UnCustomer | null;
  // save() inserts new entities held by a customer reached here, without updating the customer.
  @ManyToOne(() => UnCustomer, { nullable: true, cascade: ['insert'] }) insertOnly?: UnCustomer | null;
}

export const named = (entity: unknown) => {
  const e = entity as { constructor: { name: string }; title?: string; name?: string; street?: string; body?: string };
  return `${e.constructor.name} ${e.title ?? e.name ?? e.street ?? e.body}`;
};

@EventSubscriber()
export class UnLog implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<unknown>) {
    log.push(`beforeInsert ${named(event.entity)}`);
  }
  afterInsert(event: InsertEvent<unknown>) {
    log.push(`afterInsert ${named(event.entity)}`);
  }
  beforeUpdate(event: UpdateEvent<unknown>) {
    const columns = event.updatedColumns.map((c) => c.propertyName).join(',');
    const relations = event.updatedRelations.map((r) => r.propertyName).join(',');
    log.push(`beforeUpdate ${named(event.entity)} [${columns}] [${relations}]`);
  }
  afterUpdate(event: UpdateEvent<unknown>) {
    log.push(`afterUpdate ${named(event.entity)}`);
  }
}

export const statements: Logger = {
  logQuery(query: string) {
    // save()'s `INSERT INTO "s"."t"` / `UPDATE "s"."t"`, cohort's `… UPDATE "s"."t" AS t`, COPY's `COPY "s"."t"`.
    const write = /\b(update|insert into|copy)\s+"[^"]+"\."(\w+)"/i.exec(query);
    if (write) log.push(`${(write[1] as string).toUpperCase().replace('COPY', 'INSERT INTO')} ${write[2]}`);
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
};
