// MikroORM repositories that stay whole: BulkEntityRepository extends the SQL EntityRepository (so
// createQueryBuilder and qb remain), is typed by one line on the entity when set with the global
// `entityRepository` option, and withBulkMethods adds the bulk methods to a custom repository class.
import { BulkEntityRepository, type BulkResult, withBulkMethods } from '@cohort/mikro-orm';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { EntityRepository, EntityRepositoryType } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'member' })
class Member {
  [EntityRepositoryType]?: BulkEntityRepository<Member>;
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
}

class TeamQueries extends EntityRepository<Team> {
  /** A custom method built on the query builder, as a user's repository would have. */
  namesStartingWith(prefix: string) {
    return this.createQueryBuilder('t')
      .where({ name: { $like: `${prefix}%` } })
      .orderBy({ name: 'asc' });
  }
}
class TeamRepository extends withBulkMethods(TeamQueries) {}

@Entity({ tableName: 'team', repository: () => TeamRepository })
class Team {
  [EntityRepositoryType]?: TeamRepository;
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
}

let own: OwnMikroOrm;
beforeAll(async () => {
  own = await ownMikroOrm('mrepo', { entities: [Member, Team], entityRepository: BulkEntityRepository });
});
afterAll(async () => {
  await own?.close();
});

describe('BulkEntityRepository with the global entityRepository option', () => {
  it('has the bulk methods and keeps createQueryBuilder and qb', async () => {
    const em = own.orm.em.fork();
    const repository = em.getRepository(Member);
    expect(repository).toBeInstanceOf(BulkEntityRepository);
    expect(repository).toBeInstanceOf(EntityRepository);
    const members = ['ada', 'bob', 'cy'].map((name) => Object.assign(new Member(), { name }));
    const result = await repository.bulkSave(members);
    expect(result.inserted).toBe(3);
    expect(members.map((m) => typeof m.id)).toEqual(['number', 'number', 'number']);
    const names = await repository.createQueryBuilder('m').orderBy({ name: 'desc' }).getResult();
    expect(names.map((m) => m.name)).toEqual(['cy', 'bob', 'ada']);
    expect(await repository.qb('m').getCount()).toBe(3);
    expectTypeOf(repository.bulkUpsert).parameter(0).toEqualTypeOf<Iterable<Member> | AsyncIterable<Member>>();
  });

  it('runs on the transaction of the repository it is called on', async () => {
    const em = own.orm.em.fork();
    await expect(
      em.transactional(async (trx) => {
        await trx.getRepository(Member).bulkInsert([Object.assign(new Member(), { name: 'rolled back' })]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await own.orm.em.fork().getRepository(Member).count({ name: 'rolled back' })).toBe(0);
  });
});

describe('withBulkMethods on a custom repository class', () => {
  it('adds the bulk methods and keeps the custom ones and the query builder', async () => {
    const em = own.orm.em.fork();
    const repository = em.getRepository(Team);
    expect(repository).toBeInstanceOf(TeamRepository);
    const teams = ['red', 'rose', 'blue'].map((name) => Object.assign(new Team(), { name }));
    const inserted = await repository.bulkInsert(teams);
    expect(inserted.inserted).toBe(3);
    teams[2].name = 'royal';
    const saved = await repository.bulkSave(teams);
    expect([saved.updated, saved.unchanged]).toEqual([1, 2]);
    const names = await repository.namesStartingWith('r').getResult();
    expect(names.map((t) => t.name)).toEqual(['red', 'rose', 'royal']);
    const removed = await repository.bulkRemove([teams[0]]);
    expect(removed.removed).toBe(1);
    expect(await own.orm.em.fork().getRepository(Team).count()).toBe(2);
    expectTypeOf(saved).toEqualTypeOf<BulkResult<Team>>();
  });
});
