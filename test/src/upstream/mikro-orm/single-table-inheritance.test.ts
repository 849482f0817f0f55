// Scenarios from MikroORM's tests of single-table inheritance (tests/features/single-table-inheritance,
// tests/features/inheritance): subclasses sharing one table through a discriminator column, written
// together with persist()+flush() and with cohort's bulk calls on the root class or a subclass.
import { bulkUpdate, UnsupportedFeatureError } from '@cohort/mikro-orm';
import { raw } from '@mikro-orm/core';
import {
  BeforeCreate,
  BeforeUpdate,
  Embeddable,
  Embedded,
  Entity,
  Enum,
  PrimaryKey,
  Property,
} from '@mikro-orm/decorators/legacy';
import { expect, it } from 'vitest';
import { journal, mikroOrmPair } from '../../harness/upstream-pair.js';
import { managed, WriteRecorder, write } from './writes.js';

// single-table-inheritance.mysql: a concrete root with hooks that subclasses extend and override.
@Entity({
  tableName: 'umb_sti_person',
  discriminatorColumn: 'kind',
  discriminatorMap: { person: 'UmbPerson', employee: 'UmbEmployee', manager: 'UmbManager', owner: 'UmbOwner' },
})
class UmbPerson {
  @PrimaryKey() id!: number;
  @Property({ type: 'string' }) firstName!: string;
  @Property({ type: 'string' }) lastName!: string;
  @Enum({ items: ['person', 'employee', 'manager', 'owner'], nullable: true }) kind?: string;
  @Property({ type: 'string', nullable: true }) hookTrace?: string | null;

  @BeforeCreate() personCreated() {
    this.hookTrace = `${this.hookTrace ?? ''}person;`;
    journal.record('beforeCreate', { class: this.constructor.name, name: this.firstName });
  }
  @BeforeUpdate() personUpdated() {
    journal.record('beforeUpdate', { class: this.constructor.name, id: this.id });
  }
}

@Entity()
class UmbEmployee extends UmbPerson {
  @Property({ type: 'integer', nullable: true }) employeeProp?: number | null;
}

@Entity()
class UmbManager extends UmbEmployee {
  @Property({ type: 'string', nullable: true }) managerProp?: string | null;

  @BeforeCreate() managerCreated() {
    this.hookTrace = `${this.hookTrace ?? ''}manager;`;
  }
}

@Entity()
class UmbOwner extends UmbManager {
  @Property({ type: 'string', nullable: true }) ownerProp?: string | null;

  // Overrides the root's hook: flush runs the override once.
  @BeforeCreate() override personCreated() {
    this.hookTrace = `${this.hookTrace ?? ''}owner;`;
    journal.record('beforeCreate(override)', { class: this.constructor.name, name: this.firstName });
  }
}

// sti-batch-update-returning: an abstract root, subclass-only properties.
@Entity({ tableName: 'umb_sti_vehicle', abstract: true, discriminatorColumn: 'type' })
abstract class UmbVehicle {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', nullable: true }) type?: string;
  @Property({ type: 'string' }) brand!: string;
}

@Entity({ discriminatorValue: 'car' })
class UmbCar extends UmbVehicle {
  @Property({ type: 'integer', nullable: true }) doors?: number | null;
}

@Entity({ discriminatorValue: 'bike' })
class UmbBike extends UmbVehicle {
  @Property({ type: 'integer', nullable: true }) gears?: number | null;
}

// GH5224: optimistic locks and STI, with an unprefixed embeddable on the root.
@Embeddable()
class UmbEmail {
  @Property({ type: 'string', fieldName: 'email' }) value!: string;
  constructor(value: string) {
    this.value = value;
  }
}

@Entity({ tableName: 'umb_sti_member', abstract: true, discriminatorColumn: 'type' })
abstract class UmbMember {
  @PrimaryKey() id!: number;
  @Property({ type: 'string' }) name: string;
  @Embedded(() => UmbEmail, { prefix: false }) email: UmbEmail;
  @Property({ type: 'integer', version: true }) version!: number;
  constructor(name: string, email: string) {
    this.name = name;
    this.email = new UmbEmail(email);
  }
}

@Entity({ discriminatorValue: 'student' })
class UmbStudent extends UmbMember {}

@Entity({ discriminatorValue: 'teacher' })
class UmbTeacher extends UmbMember {}

// GH5813: two subclasses with a property of the same name mapped to different columns.
@Entity({ tableName: 'umb_sti_transport', abstract: true, discriminatorColumn: 'type' })
abstract class UmbTransport {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Enum({ items: ['air', 'road'] }) type!: 'air' | 'road';
}

@Entity({ discriminatorValue: 'air' })
class UmbAirTransport extends UmbTransport {
  @Property({ type: 'string', fieldName: 'air_category' }) category!: string;
}

@Entity({ discriminatorValue: 'road' })
class UmbRoadTransport extends UmbTransport {
  @Property({ type: 'string', fieldName: 'road_category' }) category!: string;
}

// GH7826: the child re-declares the root's primary key.
@Entity({ tableName: 'umb_sti_animal', discriminatorColumn: 'type', abstract: true })
abstract class UmbAnimal {
  @PrimaryKey({ type: 'string' }) id!: string;
  @Property({ type: 'string', nullable: true }) type?: string;
}

@Entity({ discriminatorValue: 'dog' })
class UmbDog extends UmbAnimal {
  @PrimaryKey({ type: 'string' }) declare id: string;
  @Property({ type: 'string', nullable: true }) bark?: string | null;
}

const pair = mikroOrmPair('umb_sti', {
  entities: [
    UmbPerson,
    UmbEmployee,
    UmbManager,
    UmbOwner,
    UmbVehicle,
    UmbCar,
    UmbBike,
    UmbMember,
    UmbStudent,
    UmbTeacher,
    UmbTransport,
    UmbAirTransport,
    UmbRoadTransport,
    UmbAnimal,
    UmbDog,
  ],
  subscribers: [new WriteRecorder()],
});

const people = () => [
  Object.assign(new UmbPerson(), { firstName: 'Plain', lastName: 'Person' }),
  Object.assign(new UmbEmployee(), { firstName: 'Emp', lastName: 'Loyee', employeeProp: 1 }),
  Object.assign(new UmbManager(), { firstName: 'Man', lastName: 'Ager', employeeProp: 2, managerProp: 'm' }),
  Object.assign(new UmbOwner(), {
    firstName: 'Own',
    lastName: 'Er',
    employeeProp: 3,
    managerProp: 'o',
    ownerProp: 'company',
  }),
];

it('mikro-orm single-table-inheritance: persisting and loading STI entities of four classes in one call', async () => {
  await pair.compare(
    async (side) => {
      const all = people();
      await write(side, UmbPerson, all);
      side.em.clear();
      const loaded = await side.em.find(UmbPerson, {}, { orderBy: { id: 'asc' } });
      return { objects: [...all, ...loaded], value: loaded.map((p) => p.constructor.name) };
    },
    { tables: ['umb_sti_person'] },
  );
});

it('mikro-orm single-table-inheritance: hooks inherited and overridden by subclasses run as flush runs them', async () => {
  await pair.compare(
    async (side) => {
      const all = people();
      await write(side, UmbPerson, all, 'insert');
      all[1]!.lastName = 'Changed';
      (all[3] as UmbOwner).ownerProp = 'holding';
      await write(side, UmbPerson, all);
      return { objects: all, value: managed(side, UmbPerson) };
    },
    { tables: ['umb_sti_person'] },
  );
});

it('mikro-orm single-table-inheritance: a subclass written through its own class keeps the discriminator', async () => {
  await pair.compare(
    async (side) => {
      const managers = [
        Object.assign(new UmbManager(), { firstName: 'A', lastName: 'One', managerProp: 'x' }),
        Object.assign(new UmbManager(), { firstName: 'B', lastName: 'Two' }),
      ];
      await write(side, UmbManager, managers);
      side.em.clear();
      const loaded = await side.em.find(UmbEmployee, {}, { orderBy: { id: 'asc' } });
      return { objects: [...managers, ...loaded], value: loaded.map((p) => p.constructor.name) };
    },
    { tables: ['umb_sti_person'] },
  );
});

it('mikro-orm sti-batch-update-returning: update of subclass-only properties on loaded entities', async () => {
  await pair.compare(
    async (side) => {
      const vehicles = [
        Object.assign(new UmbCar(), { id: 1, brand: 'audi', doors: 4 }),
        Object.assign(new UmbBike(), { id: 2, brand: 'bmx', gears: 3 }),
      ];
      await write(side, UmbVehicle, vehicles, 'insert');
      side.em.clear();
      const [car, bike] = await side.em.find(UmbVehicle, {}, { orderBy: { id: 'asc' } });
      (car as UmbCar).doors = 5;
      (bike as UmbBike).gears = 4;
      await write(side, UmbVehicle, [car!, bike!], 'update');
      return { objects: [car!, bike!] };
    },
    { tables: ['umb_sti_vehicle'] },
  );
});

it('mikro-orm sti-batch-update-returning: a raw SQL value is refused by bulkUpdate, naming the property', async () => {
  const side = pair.subject();
  const vehicles = [
    Object.assign(new UmbCar(), { id: 1, brand: 'audi', doors: 4 }),
    Object.assign(new UmbBike(), { id: 2, brand: 'bmx', gears: 3 }),
  ];
  side.em.persist(vehicles);
  await side.em.flush();
  (vehicles[0] as UmbCar).doors = raw('doors + 1') as unknown as number;
  (vehicles[1] as UmbBike).gears = 9;
  const error = await bulkUpdate(side.em, UmbVehicle, vehicles).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnsupportedFeatureError);
  expect((error as Error).message).toMatch(/doors/);
  const rows = await side.query(`SELECT id, doors, gears FROM "${side.schema}".umb_sti_vehicle ORDER BY id`);
  expect(rows).toEqual([
    { id: 1, doors: 4, gears: null },
    { id: 2, doors: null, gears: 3 },
  ]);
});

it('mikro-orm single-table-inheritance/GH5224: optimistic locks and STI', async () => {
  await pair.compare(
    async (side) => {
      const members = [new UmbTeacher('John', 'john@foo.bar'), new UmbStudent('Eric', 'eric@foo.bar')];
      await write(side, UmbMember, members, 'insert');
      side.em.clear();
      const loaded = await side.em.find(UmbMember, {}, { orderBy: { id: 'asc' } });
      loaded[0]!.name = 'Johnny';
      loaded[1]!.email = new UmbEmail('eric@bar.foo');
      await write(side, UmbMember, loaded, 'update');
      return { objects: [...members, ...loaded], value: loaded.map((m) => m.constructor.name) };
    },
    { tables: ['umb_sti_member'] },
  );
});

it('mikro-orm single-table-inheritance/GH5813: same property name in two subclasses, different columns', async () => {
  await pair.compare(
    async (side) => {
      const transports = [
        Object.assign(new UmbAirTransport(), { id: 1, type: 'air' as const, category: 'cargo' }),
        Object.assign(new UmbRoadTransport(), { id: 2, type: 'road' as const, category: 'freight' }),
      ];
      await write(side, UmbTransport, transports);
      transports[1]!.category = 'haulage';
      await write(side, UmbTransport, transports);
      side.em.clear();
      const loaded = await side.em.find(UmbTransport, {}, { orderBy: { id: 'asc' } });
      return { objects: [...transports, ...loaded] };
    },
    { tables: ['umb_sti_transport'] },
  );
});

it('mikro-orm single-table-inheritance/GH7826: a child re-declaring the primary key', async () => {
  await pair.compare(
    async (side) => {
      const dogs = [Object.assign(new UmbDog(), { id: 'rex', bark: 'woof' }), Object.assign(new UmbDog(), { id: 'fido' })];
      await write(side, UmbAnimal, dogs);
      dogs[1]!.bark = 'arf';
      await write(side, UmbDog, dogs);
      const found = [await side.em.findOne(UmbDog, 'rex'), await side.em.findOne(UmbAnimal, 'fido')];
      return { objects: dogs, value: [found[0] === dogs[0], found[1] === dogs[1]] };
    },
    { tables: ['umb_sti_animal'] },
  );
});
