// A to-one relation whose join column is also declared as a property (`groupId` beside `group`):
// detaching or moving the relation on a loaded entity, whose `groupId` still holds the old key.
import { bulkSave } from '@cohort/typeorm';
import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { it } from 'vitest';
import { withForcedStrategy } from '../harness/own-mikro-orm-pair.js';
import { typeormPair } from '../harness/upstream-pair.js';

@Entity('rv_jc_group')
class RvJcGroup {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
}

@Entity('rv_jc_member')
class RvJcMember {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @Column({ type: 'int', nullable: true }) groupId?: number | null;
  @ManyToOne(() => RvJcGroup, { nullable: true })
  @JoinColumn({ name: 'groupId' })
  group?: RvJcGroup | null;
}

const pair = typeormPair('rv_jc', { entities: [RvJcGroup, RvJcMember] });

it('a loaded entity whose relation is set to null or moved, its join-column property untouched, as save()', async () => {
  await pair.compare(
    async (side) => {
      const groups = await side.dataSource
        .getRepository(RvJcGroup)
        .save([Object.assign(new RvJcGroup(), { name: 'g1' }), Object.assign(new RvJcGroup(), { name: 'g2' })]);
      const repo = side.dataSource.getRepository(RvJcMember);
      await repo.save([
        Object.assign(new RvJcMember(), { name: 'm1', group: groups[0] }),
        Object.assign(new RvJcMember(), { name: 'm2', group: groups[0] }),
      ]);
      const members = await repo.find({ relations: { group: true }, order: { id: 'ASC' } });
      members[0]!.group = null;
      members[1]!.group = groups[1];
      if (side.mode === 'orm') await repo.save(members);
      else await bulkSave(side.dataSource, RvJcMember, members, withForcedStrategy());
      return { objects: members };
    },
    { tables: ['rv_jc_member'] },
  );
});
