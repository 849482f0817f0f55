// Scenarios from TypeORM's own tests of single-table inheritance
// (test/functional/table-inheritance/single-table: basic-functionality,
// non-virtual-discriminator-column, no-type-column), run once with save() and once with cohort's
// bulk calls on equal inputs.
import { bulkInsert, bulkSave, bulkUpdate } from '@cohort/typeorm';
import {
  AfterInsert,
  BeforeInsert,
  ChildEntity,
  Column,
  Entity,
  type EntityTarget,
  type ObjectLiteral,
  PrimaryGeneratedColumn,
  TableInheritance,
} from 'typeorm';
import { it } from 'vitest';
import { journal, type TypeormSide, typeormPair } from '../../harness/upstream-pair.js';

// basic-functionality: Person ← Student, Employee ← Teacher, Accountant (two levels).
@Entity('utb_sti_person')
@TableInheritance({ column: { name: 'kind', type: 'varchar' } })
class Person {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @BeforeInsert() beforeInsert() {
    journal.record('beforeInsert', { class: this.constructor.name, name: this.name });
  }
  @AfterInsert() afterInsert() {
    journal.record('afterInsert', { class: this.constructor.name, id: this.id });
  }
}

@ChildEntity('student')
class Student extends Person {
  @Column({ type: 'varchar' }) faculty!: string;
}

@ChildEntity('employee')
class Employee extends Person {
  @Column({ type: 'integer' }) salary!: number;
}

@ChildEntity('teacher')
class Teacher extends Employee {
  @Column({ type: 'varchar' }) specialization!: string;
}

@ChildEntity('accountant')
class Accountant extends Employee {
  @Column({ type: 'varchar' }) department!: string;
}

// non-virtual-discriminator-column: the discriminator is also an entity property.
@Entity('utb_sti_member')
@TableInheritance({ column: { name: 'type', type: 'varchar' } })
class Member {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar' }) name!: string;
  @Column({ type: 'varchar' }) type!: string;
}

@ChildEntity('employee-type')
class StaffMember extends Member {
  @Column({ type: 'integer' }) salary!: number;
}

@ChildEntity('')
class OtherMember extends Member {
  @Column({ type: 'varchar' }) mood!: string;
}

// no-type-column: a child without a discriminator value of its own (its class name is stored).
@Entity('utb_sti_note')
@TableInheritance({ column: { name: 'type', type: 'varchar' } })
class Note {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', nullable: true, default: null }) label?: string | null;
}

@ChildEntity()
class StickyNote extends Note {
  @Column({ type: 'varchar' }) sticky!: string;
}

const pair = typeormPair('utb_sti', {
  entities: [Person, Student, Employee, Teacher, Accountant, Member, StaffMember, OtherMember, Note, StickyNote],
});

type Op = 'save' | 'insert' | 'update';
async function write<E extends ObjectLiteral>(side: TypeormSide, op: Op, target: EntityTarget<E>, rows: E[]) {
  if (side.mode === 'orm') return void (await side.dataSource.getRepository(target).save(rows));
  if (op === 'save') return void (await bulkSave(side.dataSource, target, rows));
  if (op === 'insert') return void (await bulkInsert(side.dataSource, target, rows));
  return void (await bulkUpdate(side.dataSource, target, rows));
}

const make = <E extends object>(cls: new () => E, data: Partial<E>): E => Object.assign(new cls(), data);

it('typeorm table-inheritance/single-table/basic-functionality: each child class inserted through its own repository', async () => {
  await pair.compare(
    async (side) => {
      const students = [
        make(Student, { name: 'Alice', faculty: 'Economics' }),
        make(Student, { name: 'Bob', faculty: 'Programming' }),
      ];
      const teachers = [
        make(Teacher, { name: 'Mr. Garrison', specialization: 'Geography', salary: 2000 }),
        make(Teacher, { name: 'Mr. Adler', specialization: 'Mathematics', salary: 4000 }),
      ];
      const accountants = [
        make(Accountant, { name: 'Mr. Burns', department: 'Bookkeeping', salary: 3000 }),
        make(Accountant, { name: 'Mr. Trump', department: 'Director', salary: 5000 }),
      ];
      await write(side, 'insert', Student, students);
      await write(side, 'insert', Teacher, teachers);
      await write(side, 'insert', Accountant, accountants);
      const loaded = await side.dataSource.getRepository(Person).find({ order: { id: 'ASC' } });
      return { objects: [...students, ...teachers, ...accountants, ...loaded], value: loaded.map((p) => p.constructor.name) };
    },
    { tables: ['utb_sti_person'] },
  );
});

it('typeorm table-inheritance/single-table/basic-functionality: updates of each child class write their own columns', async () => {
  await pair.compare(
    async (side) => {
      const student = make(Student, { name: 'Alice', faculty: 'Economics' });
      const teacher = make(Teacher, { name: 'Mr. Garrison', specialization: 'Geography', salary: 2000 });
      await side.dataSource.manager.save([student]);
      await side.dataSource.manager.save([teacher]);
      student.faculty = 'Chemistry';
      teacher.specialization = 'Geometry';
      teacher.salary = 2500;
      await write(side, 'update', Student, [student]);
      await write(side, 'update', Teacher, [teacher]);
      return { objects: [student, teacher] };
    },
    { tables: ['utb_sti_person'] },
  );
});

it('typeorm table-inheritance/single-table/basic-functionality: loaded children of several classes saved through the parent', async () => {
  await pair.compare(
    async (side) => {
      await side.dataSource.manager.save([make(Student, { name: 'Alice', faculty: 'Economics' })]);
      await side.dataSource.manager.save([make(Accountant, { name: 'Mr. Burns', department: 'Bookkeeping', salary: 3000 })]);
      const loaded = await side.dataSource.getRepository(Person).find({ order: { id: 'ASC' } });
      (loaded[0] as Student).faculty = 'Physics';
      (loaded[1] as Accountant).salary = 3100;
      (loaded[1] as Accountant).name = 'Mr. C. Montgomery Burns';
      await write(side, 'save', Person, loaded);
      return { objects: loaded };
    },
    { tables: ['utb_sti_person'] },
  );
});

it('typeorm table-inheritance/single-table/non-virtual-discriminator-column: the discriminator property is written and set, an empty one included', async () => {
  await pair.compare(
    async (side) => {
      const staff = [make(StaffMember, { name: 'Roger', salary: 1000 })];
      const others = [make(OtherMember, { name: 'Empty', mood: 'Happy' })];
      await write(side, 'insert', StaffMember, staff);
      await write(side, 'insert', OtherMember, others);
      const loaded = await side.dataSource.getRepository(Member).find({ order: { id: 'ASC' } });
      return { objects: [...staff, ...others, ...loaded] };
    },
    { tables: ['utb_sti_member'] },
  );
});

it('typeorm table-inheritance/single-table/no-type-column: a child without a discriminator value stores its class name', async () => {
  await pair.compare(
    async (side) => {
      const notes = [make(StickyNote, { sticky: 'yes' }), make(StickyNote, { sticky: 'no', label: 'l' })];
      await write(side, 'save', StickyNote, notes);
      const loaded = await side.dataSource.getRepository(Note).find({ order: { id: 'ASC' } });
      return { objects: [...notes, ...loaded], value: loaded.map((n) => n.constructor.name) };
    },
    { tables: ['utb_sti_note'] },
  );
});
