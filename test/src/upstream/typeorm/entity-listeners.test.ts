// Scenarios from TypeORM's own tests of entity listeners (test/functional/entity-listeners), run
// once with `save()` and once with cohort's bulkSave on equal inputs.
import { bulkSave } from '@cohort/typeorm';
import { AfterInsert, AfterUpdate, BeforeInsert, BeforeUpdate, Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { it } from 'vitest';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

@Entity('listened_note')
class ListenedNote {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) title!: string;
  @Column({ type: 'varchar' }) body!: string;

  @BeforeInsert() beforeInsert() {
    journal.record('beforeInsert', { title: this.title });
  }
  @AfterInsert() afterInsert() {
    journal.record('afterInsert', { id: this.id });
  }
  @BeforeUpdate() trimTitle() {
    this.title = this.title.trim();
    journal.record('beforeUpdate', { id: this.id });
  }
  @AfterUpdate() afterUpdate() {
    journal.record('afterUpdate', { id: this.id, title: this.title });
  }
}

const pair = typeormPair('up_tlisten', { entities: [ListenedNote] });

const save = (side: TypeormSide, notes: ListenedNote[]) =>
  side.mode === 'orm' ? side.dataSource.manager.save(notes) : bulkSave(side.dataSource, ListenedNote, notes);

const note = (title: string, body: string) => Object.assign(new ListenedNote(), { title, body });

it('typeorm entity-listeners: beforeInsert and afterInsert run for every new entity, keys set after', async () => {
  await pair.compare(
    async (side) => {
      const notes = [note('a', '1'), note('b', '2'), note('c', '3')];
      await save(side, notes);
      return { objects: notes };
    },
    { tables: ['listened_note'] },
  );
});
