// A many-to-many whose junction references a nullable unique column of the related entity
// (`inverseJoinColumns: [{ referencedColumnName: 'code' }]`), linked to a STORED tag whose code is
// NULL: save() sends the junction INSERT and fails on PostgreSQL's not-null violation; cohort writes
// links only to plain primary keys and refuses such a relation before anything is sent, typed
// (`UnsupportedFeatureError`, feature `many-to-many link`), its advice naming the columns the
// junction references — not the owning side (the row is on it) nor insert order (the tag is stored).
// A stored entity's key is never NULL, so the link refusal made when the links are written
// (link-writes.ts, "has no key when cohort writes the link") is not reached by such a call.
import { bulkInsert, bulkSave, UnsupportedFeatureError } from '@cohort/typeorm';
import { Column, Entity, JoinTable, ManyToMany, PrimaryGeneratedColumn } from 'typeorm';
import { expect, it } from 'vitest';
import { rowsOf, typeormPair } from '../harness/upstream-pair.js';

@Entity('jnr_tag')
class JnrTag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40, nullable: true, unique: true }) code!: string | null;
}

@Entity('jnr_kit')
class JnrKit {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToMany(() => JnrTag)
  @JoinTable({ name: 'jnr_kit_tag', inverseJoinColumns: [{ name: 'tag_code', referencedColumnName: 'code' }] })
  tags?: JnrTag[];
}

const pair = typeormPair('junction_null_ref', { entities: [JnrTag, JnrKit] });

it('save(): the junction INSERT fails on the NULL code (not-null violation) — pinned', async () => {
  const side = pair.reference();
  const tag = await side.dataSource.manager.save(Object.assign(new JnrTag(), { code: null }));
  const error = await side.dataSource.manager.save(Object.assign(new JnrKit(), { name: 'k', tags: [tag] })).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ driverError: { code: '23502', column: 'tag_code' } });
  expect(await rowsOf(side, 'jnr_kit')).toEqual([]);
});

for (const call of [bulkInsert, bulkSave]) {
  it(`${call.name}: refused, naming the referenced column, not insert order; nothing written`, async () => {
    const side = pair.subject();
    const tag = await side.dataSource.manager.save(Object.assign(new JnrTag(), { code: null }));
    const kits = [Object.assign(new JnrKit(), { name: 'k0' }), Object.assign(new JnrKit(), { name: 'k1', tags: [tag] })];
    const error = await call(side.dataSource, JnrKit, kits).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error).toMatchObject({ feature: 'many-to-many link', entityName: 'JnrKit', property: 'tags', index: 1 });
    const message = (error as Error).message;
    expect(message).toContain('the junction table jnr_kit_tag references JnrKit.id, JnrTag.code');
    expect(message).not.toMatch(/owning side|inserted after|no key/);
    expect(await rowsOf(side, 'jnr_kit')).toEqual([]);
    expect(await rowsOf(side, 'jnr_kit_tag')).toEqual([]);
    expect(kits.map((k) => k.id)).toEqual([undefined, undefined]);
  });
}
