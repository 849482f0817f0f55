// Scenarios from MikroORM's tests of optimistic locking (tests/features/optimistic-lock: GH2401,
// GH3440; the version property of tests/features/default-values/default-values.postgre.test.ts),
// run once with persist()+flush() and once with cohort's bulkSave / bulkUpdate on equal inputs:
// version numbers and dates after inserts and updates, and stale versions refused.
import { bulkInsert, OptimisticLockError } from '@cohort/mikro-orm';
import { type Platform, Type } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { expect, it } from 'vitest';
import { mikroOrmPair } from '../../harness/upstream-pair.js';
import { write as save } from './writes.js';

/** GH2401: the version starts as a class field initialised to 0. */
@Entity({ tableName: 'uma_ol_versioned' })
class Versioned {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({ version: true, type: 'integer' }) version: number = 0;
}

/** default-values.postgre: the version left undefined, filled by the database. */
@Entity({ tableName: 'uma_ol_plain_version' })
class PlainVersion {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({ version: true, type: 'integer' }) version!: number;
}

/** A Date version (MikroORM: `current_timestamp(3)` on each update). */
@Entity({ tableName: 'uma_ol_dated' })
class Dated {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({ version: true, type: 'datetime', length: 3 }) version!: Date;
}

/** GH3440: a custom-type key (a uuid stored as 16 bytes) on a versioned entity. */
class BinaryUuid extends Type<string, Buffer> {
  override convertToDatabaseValue(value: string): Buffer {
    return Buffer.from(value.replace(/-/g, ''), 'hex');
  }
  override convertToJSValue(value: Buffer | string): string {
    const hex = Buffer.isBuffer(value) ? value.toString('hex') : value;
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
  }
  override getColumnType(_prop: unknown, _platform: Platform) {
    return 'bytea';
  }
}

@Entity({ tableName: 'uma_ol_couch' })
class Couch {
  @PrimaryKey({ type: BinaryUuid }) id!: string;
  @Property({ type: BinaryUuid }) userId!: string;
  @Property({ type: 'string', length: 40 }) name!: string;
  @Property({ version: true, type: 'integer' }) version!: number;
}

const pair = mikroOrmPair('uma_ol', { entities: [Versioned, PlainVersion, Dated, Couch] });

it('mikro-orm optimistic-lock: GH2401 a version initialised to 0 inserts and then updates', async () => {
  await pair.compare(
    async (side) => {
      const v = Object.assign(new Versioned(), { name: 'name1' });
      await save(side, Versioned, [v], 'insert');
      const afterInsert = v.version;
      v.name = 'name2';
      await save(side, Versioned, [v], 'update');
      return { objects: [v], value: { afterInsert } };
    },
    { tables: ['uma_ol_versioned'] },
  );
});

it('mikro-orm optimistic-lock: default-values — an undefined version is 1 after the insert', async () => {
  await pair.compare(
    async (side) => {
      const vs = [Object.assign(new PlainVersion(), { name: 'a' }), Object.assign(new PlainVersion(), { name: 'b' })];
      await save(side, PlainVersion, vs);
      return { objects: vs };
    },
    { tables: ['uma_ol_plain_version'] },
  );
});

it('mikro-orm optimistic-lock: each update of a changed entity moves its version by one, an unchanged one keeps it', async () => {
  await pair.compare(
    async (side) => {
      const vs = ['a', 'b', 'c'].map((name) => Object.assign(new PlainVersion(), { name }));
      await save(side, PlainVersion, vs);
      vs[0]!.name = 'a2';
      vs[2]!.name = 'c2';
      await save(side, PlainVersion, vs);
      vs[0]!.name = 'a3';
      await save(side, PlainVersion, vs);
      return { objects: vs };
    },
    { tables: ['uma_ol_plain_version'] },
  );
});

it('mikro-orm optimistic-lock: a stale version (row updated through another EntityManager) is refused, nothing written', async () => {
  await pair.compare(
    async (side) => {
      const vs = ['a', 'b'].map((name) => Object.assign(new PlainVersion(), { name }));
      await save(side, PlainVersion, vs);
      const other = side.orm.em.fork();
      const theirs = await other.findOneOrFail(PlainVersion, vs[1]!.id);
      theirs.name = 'theirs';
      await other.flush();
      vs[0]!.name = 'mine a';
      vs[1]!.name = 'mine b';
      let error: unknown;
      try {
        await save(side, PlainVersion, vs, 'update');
      } catch (e) {
        error = e;
      }
      if (side.mode === 'cohort') expect(error).toBeInstanceOf(OptimisticLockError);
      expect(error).toBeInstanceOf(Error);
      return { value: { name: (error as Error).name } };
    },
    { tables: ['uma_ol_plain_version'] },
  );
});

it('mikro-orm optimistic-lock: a Date version is set on insert and moved on by an update', async () => {
  await pair.compare(
    async (side) => {
      const d = Object.assign(new Dated(), { name: 'one' });
      await save(side, Dated, [d]);
      const first = d.version;
      expect(first).toBeInstanceOf(Date);
      await new Promise((resolve) => setTimeout(resolve, 5));
      d.name = 'two';
      await save(side, Dated, [d]);
      expect(d.version.getTime()).toBeGreaterThan(first.getTime());
      const [row] = await side.query<{ version: Date }>(`SELECT version FROM "${side.schema}".uma_ol_dated`);
      expect(row?.version.getTime()).toBe(d.version.getTime());
      return { objects: [d] };
    },
    { tables: ['uma_ol_dated'], mask: ['version'] },
  );
});

it('mikro-orm optimistic-lock: a stale Date version is refused', async () => {
  await pair.compare(
    async (side) => {
      const d = Object.assign(new Dated(), { name: 'one' });
      await save(side, Dated, [d]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const other = side.orm.em.fork();
      const theirs = await other.findOneOrFail(Dated, d.id);
      theirs.name = 'theirs';
      await other.flush();
      d.name = 'mine';
      let error: unknown;
      try {
        await save(side, Dated, [d], 'update');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      return { value: { name: (error as Error).name } };
    },
    { tables: ['uma_ol_dated'], mask: ['version'] },
  );
});

it('mikro-orm optimistic-lock: GH3440 a custom-type key with a version — insert, load, update', async () => {
  await pair.compare(
    async (side) => {
      const c = Object.assign(new Couch(), {
        id: 'aaaaaaaa-c65f-42b8-408a-034a6948448f',
        userId: 'bbbbbbbb-c65f-42b8-408a-034a6948448f',
        name: 'n1',
      });
      if (side.mode === 'orm') await side.orm.em.fork().persist(c).flush();
      else await bulkInsert(side.orm.em.fork(), Couch, [c]);
      const loaded = await side.em.findOneOrFail(Couch, c.id);
      loaded.name = 'n2';
      await save(side, Couch, [loaded], 'update');
      return { objects: [c, loaded] };
    },
    { tables: ['uma_ol_couch'] },
  );
});
