// Scenarios from MikroORM's tests of native PostgreSQL enums (tests/features/native-postgres-enums):
// columns of a `create type … as enum` type and arrays of it, values with awkward characters, the
// empty string, defaults; written with persist()+flush() and with cohort's bulk calls.
import { BulkValidationError, bulkInsert } from '@cohort/mikro-orm';
import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, PrimaryKey } from '@mikro-orm/decorators/legacy';
import { expect, it } from 'vitest';
import { mikroOrmPair } from '../../harness/upstream-pair.js';
import { upsert, WriteRecorder, write } from './writes.js';

enum UmbScope {
  Local = 'local',
  Global = 'global',
  Odd = '1 & 2 / 3 : 4 * 5 " 6',
  Empty = '',
}

@Entity({ tableName: 'umb_enum_entity' })
class UmbEnumEntity {
  @PrimaryKey() id!: number;
  @Enum({ items: () => UmbScope, nativeEnumName: 'umb_scope' }) type: Opt<UmbScope> = UmbScope.Local;
  @Enum({ items: () => UmbScope, nativeEnumName: 'umb_scope', array: true }) types: UmbScope[] = [];
  @Enum({ items: ['A', 'B', 'C'], nativeEnumName: 'umb_letter', nullable: true }) letter?: 'A' | 'B' | 'C' | null;
}

const pair = mikroOrmPair('umb_enum', { entities: [UmbEnumEntity], subscribers: [new WriteRecorder()] });

it('mikro-orm native-postgres-enums/GH5322: native enum and enum array, odd values and the empty string', async () => {
  await pair.compare(
    async (side) => {
      const rows = [
        Object.assign(new UmbEnumEntity(), { types: [UmbScope.Global, UmbScope.Odd, UmbScope.Empty] }),
        Object.assign(new UmbEnumEntity(), { type: UmbScope.Odd, types: [] }),
      ];
      await write(side, UmbEnumEntity, rows, 'insert');
      side.em.clear();
      const loaded = await side.em.find(UmbEnumEntity, {}, { orderBy: { id: 'asc' } });
      return { objects: [...rows, ...loaded] };
    },
    { tables: ['umb_enum_entity'] },
  );
});

it('mikro-orm native-postgres-enums/GH5322: pushing to a loaded enum array is an update', async () => {
  await pair.compare(
    async (side) => {
      await write(side, UmbEnumEntity, [Object.assign(new UmbEnumEntity(), { types: [UmbScope.Global] })]);
      side.em.clear();
      const [loaded] = await side.em.find(UmbEnumEntity, {});
      loaded!.types.push(UmbScope.Local);
      loaded!.type = UmbScope.Empty;
      await write(side, UmbEnumEntity, [loaded!]);
      return { objects: [loaded!] };
    },
    { tables: ['umb_enum_entity'] },
  );
});

it('mikro-orm native-postgres-enums/GH6101: a nullable native enum set, changed and cleared', async () => {
  await pair.compare(
    async (side) => {
      const rows = [Object.assign(new UmbEnumEntity(), { letter: 'A' as const }), new UmbEnumEntity()];
      await write(side, UmbEnumEntity, rows);
      rows[0]!.letter = null;
      rows[1]!.letter = 'C';
      await write(side, UmbEnumEntity, rows, 'update');
      return { objects: rows };
    },
    { tables: ['umb_enum_entity'] },
  );
});

it('mikro-orm native-postgres-enums: upsert of native enum values', async () => {
  await pair.compare(
    async (side) => {
      await write(side, UmbEnumEntity, [Object.assign(new UmbEnumEntity(), { id: 1, letter: 'A' as const })]);
      side.em.clear();
      const rows = [
        Object.assign(new UmbEnumEntity(), { id: 1, type: UmbScope.Global, types: [UmbScope.Odd], letter: 'B' as const }),
        Object.assign(new UmbEnumEntity(), { id: 2, type: UmbScope.Empty, types: [UmbScope.Empty] }),
      ];
      const upserted = await upsert(side, UmbEnumEntity, rows);
      side.em.clear();
      const loaded = await side.em.find(UmbEnumEntity, {}, { orderBy: { id: 'asc' } });
      return { objects: [...upserted, ...loaded] };
    },
    // em.upsert fires no create/update events, bulkUpsert does (docs/differences.md, "Upsert hooks").
    { tables: ['umb_enum_entity'], ignoreJournal: true },
  );
});

it('mikro-orm native-postgres-enums: a value outside the enum is refused before anything is sent', async () => {
  const side = pair.subject();
  const rows = [
    Object.assign(new UmbEnumEntity(), { types: [UmbScope.Local] }),
    Object.assign(new UmbEnumEntity(), { types: ['nope' as UmbScope] }),
  ];
  const error = await bulkInsert(side.em, UmbEnumEntity, rows).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BulkValidationError);
  expect((error as Error).message).toMatch(/types/);
  expect(await side.query(`SELECT count(*)::int AS n FROM "${side.schema}".umb_enum_entity`)).toEqual([{ n: 0 }]);
});
