// A NestJS application on @nestjs/typeorm, wired as docs/guide.md ("NestJS (TypeORM)") shows: a
// provider wraps the module's repository with `withBulk` under a token of the application's own, a
// service injects it, and a subscriber registered the Nest way (a provider that adds itself to the
// DataSource) and one given to `TypeOrmModule.forRoot` both see cohort's writes as they see save()'s.
import 'reflect-metadata';
import { type BulkRepository, withBulk } from '@cohort/typeorm';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import {
  BeforeInsert,
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  PrimaryGeneratedColumn,
  type Repository,
} from 'typeorm';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

const log: string[] = [];

@Entity('nest_member')
class NestMember {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 60 }) name!: string;
  @Column({ type: 'varchar', length: 60, nullable: true }) slug!: string | null;

  @BeforeInsert() makeSlug() {
    this.slug = this.name.toLowerCase().replace(/\s+/g, '-');
  }
}

/** Registered through TypeOrmModule.forRoot({ subscribers }) (TypeORM takes only classes marked @EventSubscriber()). */
@EventSubscriber()
class ForRootSubscriber implements EntitySubscriberInterface<NestMember> {
  listenTo() {
    return NestMember;
  }
  afterInsert(event: InsertEvent<NestMember>) {
    log.push(`forRoot afterInsert ${event.entity.name} #${event.entity.id}`);
  }
}

/** Registered the Nest way: a provider that adds itself to the DataSource it is given. */
@Injectable()
class ProviderSubscriber implements EntitySubscriberInterface<NestMember> {
  constructor(@Inject(DataSource) dataSource: DataSource) {
    dataSource.subscribers.push(this);
  }
  listenTo() {
    return NestMember;
  }
  beforeInsert(event: InsertEvent<NestMember>) {
    log.push(`provider beforeInsert ${event.entity.name} ${event.entity.slug}`);
  }
}

const BULK_MEMBERS = Symbol('BulkRepository<NestMember>');

@Injectable()
class MemberImport {
  constructor(@Inject(BULK_MEMBERS) private readonly members: BulkRepository<NestMember>) {}
  run(rows: NestMember[]) {
    return this.members.bulkSave(rows);
  }
}

function appModule(url: string, schema: string) {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url,
        schema,
        entities: [NestMember],
        subscribers: [ForRootSubscriber],
        synchronize: true,
      }),
      TypeOrmModule.forFeature([NestMember]),
    ],
    providers: [
      { provide: BULK_MEMBERS, inject: [getRepositoryToken(NestMember)], useFactory: (r: Repository<NestMember>) => withBulk(r) },
      MemberImport,
      ProviderSubscriber,
    ],
  })
  class AppModule {}
  return AppModule;
}

const schema = `nest_app_${process.pid}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
});

afterAll(async () => {
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
});

it('a Nest service bulk-saves through the injected repository; both subscribers and the listener run', async () => {
  const app = await NestFactory.createApplicationContext(appModule(inject('databaseUrl'), schema), { logger: false });
  try {
    const members = ['Ada Lovelace', 'Alan Turing'].map((name) => Object.assign(new NestMember(), { name }));
    const result = await app.get(MemberImport).run(members);

    expect(result).toMatchObject({ inserted: 2, updated: 0, outcomes: ['inserted', 'inserted'] });
    expect(members.map((m) => typeof m.id)).toEqual(['number', 'number']);
    const { rows } = await admin.query(`SELECT id, name, slug FROM ${schema}.nest_member ORDER BY id`);
    expect(rows).toEqual(members.map((m) => ({ id: m.id, name: m.name, slug: m.slug })));
    expect(rows.map((r) => r.slug)).toEqual(['ada-lovelace', 'alan-turing']);
    expect(log).toEqual([
      'provider beforeInsert Ada Lovelace ada-lovelace',
      'provider beforeInsert Alan Turing alan-turing',
      `forRoot afterInsert Ada Lovelace #${members[0]?.id}`,
      `forRoot afterInsert Alan Turing #${members[1]?.id}`,
    ]);

    // The repository Nest injects elsewhere is TypeORM's own: withBulk added nothing to it.
    const plain = app.get<Repository<NestMember>>(getRepositoryToken(NestMember));
    expect((plain as unknown as { bulkSave?: unknown }).bulkSave).toBeUndefined();

    // save() through the same module runs the same subscribers: the log cohort left is save()'s.
    log.length = 0;
    const saved = await plain.save(Object.assign(new NestMember(), { name: 'Grace Hopper' }));
    expect(log).toEqual(['provider beforeInsert Grace Hopper grace-hopper', `forRoot afterInsert Grace Hopper #${saved.id}`]);
  } finally {
    await app.close();
  }
});
