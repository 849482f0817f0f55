// Scenarios from TypeORM's own tests of BaseEntity (test/functional/base-entity): entities that
// extend BaseEntity and save themselves (`User.save(…)`, `user.save()`) on the DataSource they were
// given with useDataSource. The BaseEntity methods are the reference, cohort's bulkSave / bulkInsert
// (on the same DataSource) the subject.
import { bulkInsert, bulkSave } from '@cohort/typeorm';
import { AfterInsert, BaseEntity, BeforeInsert, BeforeUpdate, Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { expect, it } from 'vitest';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

/** As upstream's User, with listeners to see what each path calls. */
@Entity('uta_be_user')
class User extends BaseEntity {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @Column({ type: 'varchar', nullable: true }) nickname!: string | null;

  @BeforeInsert() beforeInsert() {
    journal.record('beforeInsert', { name: this.name });
  }
  @AfterInsert() afterInsert() {
    journal.record('afterInsert', { id: this.id });
  }
  @BeforeUpdate() beforeUpdate() {
    this.nickname = this.nickname ?? this.name.toLowerCase();
    journal.record('beforeUpdate', { id: this.id });
  }
}

const pair = typeormPair('uta_be', { entities: [User] });

/** BaseEntity's static methods work on the DataSource set last: the side's, for this run. */
const on = (side: TypeormSide) => {
  User.useDataSource(side.dataSource);
  return side;
};

it('typeorm base-entity: User.save(…) on the DataSource given with useDataSource, then found by name', async () => {
  await pair.compare(
    async (s) => {
      const side = on(s);
      const users = [User.create({ name: 'Timber Saw' }), User.create({ name: 'Ember Spirit' })];
      if (side.mode === 'orm') await User.save(users);
      else await bulkSave(side.dataSource, User, users);
      const timber = await User.findOneByOrFail({ name: 'Timber Saw' });
      return { objects: [...users, timber] };
    },
    { tables: ['uta_be_user'] },
  );
});

it('typeorm base-entity: user.save() of a new entity, then of the same entity changed', async () => {
  await pair.compare(
    async (s) => {
      const side = on(s);
      const user = User.create({ name: 'Timber Saw' });
      if (side.mode === 'orm') await user.save();
      else await bulkSave(side.dataSource, User, [user]);
      expect(user.hasId()).toBe(true);
      user.name = 'Timber';
      if (side.mode === 'orm') await user.save();
      else await bulkSave(side.dataSource, User, [user]);
      await user.reload();
      return { objects: [user] };
    },
    { tables: ['uta_be_user'] },
  );
});

it('typeorm base-entity: User.insert(…) puts the generated keys back and runs the insert listeners', async () => {
  await pair.compare(
    async (s) => {
      const side = on(s);
      const users = [User.create({ name: 'a', nickname: null }), User.create({ name: 'b', nickname: 'bee' })];
      if (side.mode === 'orm') await User.insert(users);
      else await bulkInsert(side.dataSource, User, users);
      return { objects: users, value: await User.count() };
    },
    { tables: ['uta_be_user'] },
  );
});

it('typeorm base-entity: User.save({ name }) of a plain object, as upstream', async () => {
  await pair.compare(
    async (s) => {
      const side = on(s);
      const plain = [{ name: 'Timber Saw' }, { name: 'Ember Spirit', nickname: 'ember' }] as User[];
      if (side.mode === 'orm') await User.save(plain);
      else await bulkSave(side.dataSource, User, plain);
      const timber = await User.findOneByOrFail({ name: 'Timber Saw' });
      return { objects: [...plain, timber] };
    },
    { tables: ['uta_be_user'] },
  );
});
