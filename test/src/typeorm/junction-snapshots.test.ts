// trackEntityChanges(dataSource, { reload: false }) and many-to-many links: the snapshot stands in
// for the row save() loads, relation ids included. A post loaded without its tags has a snapshot that
// knows none of its stored links, where save() loads them and diffs against them: with only the
// snapshot, cohort would insert links that are stored (a unique violation save() never raises) and
// leave stored links that save() deletes. Such a row is refused, loudly, before anything is written.
import { createSchema } from '@cohort/pg-harness';
import { bulkSave, bulkUpdate, trackEntityChanges, UnsupportedFeatureError } from '@cohort/typeorm';
import { Column, DataSource, Entity, JoinTable, ManyToMany, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

@Entity('jsn_tag')
class SnapTag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
}

@Entity('jsn_post')
class SnapPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToMany(() => SnapTag)
  @JoinTable({ name: 'jsn_post_tag' })
  tags?: SnapTag[] | null;
}

let ds: DataSource;
let drop: () => Promise<void>;
beforeAll(async () => {
  const url = inject('databaseUrl');
  const schema = await createSchema(url, 'jsn');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url,
    schema: schema.name,
    entities: [SnapTag, SnapPost],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
  trackEntityChanges(ds, { reload: false });
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});
beforeEach(async () => {
  await ds.query('TRUNCATE jsn_tag, jsn_post, jsn_post_tag RESTART IDENTITY CASCADE');
});

const junction = () => ds.query('SELECT * FROM jsn_post_tag ORDER BY 1, 2');

/** Tags red, green; post p0 linked to red; then p0 loaded without its tags (its snapshot has none). */
async function loadedWithoutTags(): Promise<{ post: SnapPost; red: SnapTag; green: SnapTag }> {
  const [red, green] = await ds.manager.save(['red', 'green'].map((name) => Object.assign(new SnapTag(), { name })));
  await ds.manager.save(Object.assign(new SnapPost(), { title: 'p0', tags: [red] }));
  const [post] = await ds.getRepository(SnapPost).find();
  return { post: post as SnapPost, red: red as SnapTag, green: green as SnapTag };
}

describe('reload: false, a row whose snapshot does not hold its many-to-many relation', () => {
  for (const call of ['bulkUpdate', 'bulkSave'] as const) {
    it(`${call}: tags set on a post loaded without them is refused (save() would diff against the stored links), nothing written`, async () => {
      // What save() does: it loads the stored links and replaces red by green.
      const theirs = await loadedWithoutTags();
      theirs.post.tags = [theirs.green];
      await ds.manager.save(theirs.post);
      expect(await junction()).toEqual([{ jsnPostId: 1, jsnTagId: 2 }]);
      await ds.query('TRUNCATE jsn_tag, jsn_post, jsn_post_tag RESTART IDENTITY CASCADE');

      const { post, green } = await loadedWithoutTags();
      post.tags = [green];
      const write = call === 'bulkUpdate' ? bulkUpdate : bulkSave;
      const error = await write(ds, SnapPost, [post]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedFeatureError);
      expect(error).toMatchObject({ feature: 'many-to-many link', entityName: 'SnapPost', property: 'tags', index: 0 });
      expect((error as Error).message).toContain('load these rows with their tags relation');
      expect(await junction()).toEqual([{ jsnPostId: 1, jsnTagId: 1 }]);
    });
  }

  it('bulkUpdate: a stored tag set again on a post loaded without them is refused, not a unique violation', async () => {
    const { post, red } = await loadedWithoutTags();
    post.tags = [red];
    await expect(bulkUpdate(ds, SnapPost, [post])).rejects.toBeInstanceOf(UnsupportedFeatureError);
    expect(await junction()).toEqual([{ jsnPostId: 1, jsnTagId: 1 }]);
  });

  it('a post loaded with its tags is written as save() writes it (the snapshot holds the links)', async () => {
    await loadedWithoutTags();
    const [post] = await ds.getRepository(SnapPost).find({ relations: { tags: true } });
    const green = await ds.getRepository(SnapTag).findOneByOrFail({ name: 'green' });
    (post as SnapPost).tags = [green];
    await bulkUpdate(ds, SnapPost, [post as SnapPost]);
    expect(await junction()).toEqual([{ jsnPostId: 1, jsnTagId: 2 }]);
  });
});
