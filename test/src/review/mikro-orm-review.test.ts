// Review of this session's MikroORM fixes: STI column mapping against flush, and per-row upserts
// (undefined columns, onCreate values, version, read-back) written in one batch against the same
// rows written one per batch from an async iterable (cross-batch state, input kinds).
import { bulkInsert, bulkUpsert } from '@cohort/mikro-orm';
import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { it } from 'vitest';
import { withForcedStrategy } from '../harness/own-mikro-orm-pair.js';
import { mikroOrmPair } from '../harness/upstream-pair.js';
import { upsert } from '../upstream/mikro-orm/writes.js';

@Entity({ tableName: 'rv_mo_transport', abstract: true, discriminatorColumn: 'type' })
abstract class RvTransport {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Enum({ items: ['air', 'road'] }) type!: 'air' | 'road';
}

@Entity({ discriminatorValue: 'air' })
class RvAirTransport extends RvTransport {
  @Property({ type: 'string', fieldName: 'air_category', nullable: true }) category?: string | null;
}

@Entity({ discriminatorValue: 'road' })
class RvRoadTransport extends RvTransport {
  @Property({ type: 'string', fieldName: 'road_category', default: 'unset' }) category?: string;
}

@Entity({ tableName: 'rv_mo_item' })
class RvItem {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', unique: true }) code!: string;
  @Property({ type: 'string', nullable: true }) name?: string | null;
  @Property({ type: 'string', nullable: true }) note?: string | null;
  @Property({ type: 'string', onCreate: () => 'created' }) origin?: string;
  @Property({ version: true }) version?: number;
}

const pair = mikroOrmPair('rv_mo', { entities: [RvTransport, RvAirTransport, RvRoadTransport, RvItem] });

it('STI: a row of one subclass leaves the column of the other subclass to its default, as flush does', async () => {
  await pair.compare(
    async (side) => {
      const rows = [
        Object.assign(new RvAirTransport(), { id: 1, type: 'air' as const, category: 'cargo' }),
        Object.assign(new RvRoadTransport(), { id: 2, type: 'road' as const, category: 'freight' }),
      ];
      if (side.mode === 'orm') {
        side.em.persist(rows);
        await side.em.flush();
      } else {
        await bulkInsert(side.em, RvTransport, rows, withForcedStrategy());
      }
      return { objects: rows };
    },
    { tables: ['rv_mo_transport'] },
  );
});

async function* fromIterable<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

it('upsert with per-row undefined columns and onCreate values: one batch = one row per batch from an async iterable', async () => {
  // Both sides are cohort: the reference writes one row per batch (nothing mixed inside a batch).
  await pair.compare(
    async (side) => {
      const seed = [
        Object.assign(new RvItem(), { id: 1, code: 'a', name: 'A', note: 'keep-a' }),
        Object.assign(new RvItem(), { id: 2, code: 'b', name: 'B', note: 'keep-b' }),
      ];
      await bulkInsert(side.em, RvItem, seed, withForcedStrategy());
      side.em.clear();
      const rows = [
        Object.assign(new RvItem(), { id: 1, code: 'a', name: 'A2' }),
        Object.assign(new RvItem(), { id: 2, code: 'b', note: 'new-b' }),
        Object.assign(new RvItem(), { id: 3, code: 'c', name: 'C' }),
        Object.assign(new RvItem(), { id: 4, code: 'd', origin: 'given' }),
      ];
      const result =
        side.mode === 'orm'
          ? await bulkUpsert(
              side.em,
              RvItem,
              fromIterable(rows),
              withForcedStrategy({ batchSize: 1, onConflictFields: ['code'] }),
            )
          : await bulkUpsert(side.em, RvItem, rows, withForcedStrategy({ onConflictFields: ['code'] }));
      return { objects: rows, value: result.outcomes };
    },
    { tables: ['rv_mo_item'] },
  );
});

it('upsertMany of found and new rows with onCreate values, each row giving every column: as em.upsertMany()', async () => {
  await pair.compare(
    async (side) => {
      await bulkInsert(
        side.em,
        RvItem,
        [Object.assign(new RvItem(), { id: 1, code: 'a', name: 'A', note: 'n' })],
        withForcedStrategy(),
      );
      side.em.clear();
      const rows = [
        Object.assign(new RvItem(), { id: 1, code: 'a', name: 'A2', note: null }),
        Object.assign(new RvItem(), { id: 2, code: 'b', name: 'B', note: 'm' }),
      ];
      const returned = await upsert(side, RvItem, rows, withForcedStrategy({ onConflictFields: ['code'] }));
      return { objects: returned };
    },
    // The version moving on is a listed difference (docs/differences.md, "Upsert of a row with a version").
    { tables: ['rv_mo_item'], mask: ['version'] },
  );
});
