// issue 24: a MikroORM stream (an async iterable) leaves its entities out of the identity map by
// default — a stream's promise is bounded memory — and keeps them managed when asked (`managed:
// true`). Arrays stay managed by default, as flush leaves them.
import { bulkInsert, bulkSave, bulkUpsert } from '@cohort/mikro-orm';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'reading' })
class Reading {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) sensor!: string;
  @Property({ type: 'integer' }) value!: number;
}

const reading = (sensor: string, value = 1) => Object.assign(new Reading(), { sensor, value });

async function* stream(rows: Reading[]) {
  for (const row of rows) yield row;
}

let own: OwnMikroOrm | undefined;
let orm: MikroORM;

beforeAll(async () => {
  own = await ownMikroOrm('mstream', { entities: [Reading] });
  ({ orm } = own);
});
beforeEach(async () => {
  await orm.em.fork().execute(`truncate "${own?.schema}"."reading" restart identity`);
});
afterAll(async () => {
  await own?.close();
});

const managedCount = (em: ReturnType<MikroORM['em']['fork']>) => em.getUnitOfWork().getIdentityMap().values().length;

it('a stream (default): entities get their keys, the identity map stays empty', async () => {
  const em = orm.em.fork();
  const rows = Array.from({ length: 2500 }, (_, i) => reading(`s${i}`));
  const result = await bulkInsert(em, Reading, stream(rows));
  expect(result).toMatchObject({ inserted: 2500, batches: 3 });
  expect(rows.every((r, i) => r.id === i + 1)).toBe(true);
  expect(managedCount(em)).toBe(0);
  expect(em.getUnitOfWork().getById(Reading, 1)).toBeUndefined();
  // Not managed, so a flush sends nothing for them.
  await em.flush();
  expect(await em.fork().count(Reading)).toBe(2500);
});

it('a stream with managed: true: every entity is managed, as flush leaves them', async () => {
  const em = orm.em.fork();
  const rows = [reading('a'), reading('b'), reading('c')];
  await bulkInsert(em, Reading, stream(rows), { managed: true });
  expect(managedCount(em)).toBe(3);
  expect(await em.findOne(Reading, { sensor: 'b' })).toBe(rows[1]);
  rows[1]!.value = 7;
  await em.flush();
  expect((await em.fork().findOneOrFail(Reading, { sensor: 'b' })).value).toBe(7);
});

it('an array (default): entities are managed', async () => {
  const em = orm.em.fork();
  const rows = [reading('a'), reading('b')];
  await bulkInsert(em, Reading, rows);
  expect(managedCount(em)).toBe(2);
});

it('bulkSave and bulkUpsert of a stream: unmanaged by default, managed when asked', async () => {
  const em = orm.em.fork();
  await bulkSave(em, Reading, stream([reading('a'), reading('b')]));
  await bulkUpsert(em, Reading, stream([reading('a', 5), reading('c', 6)]), { target: ['sensor'] });
  expect(managedCount(em)).toBe(0);
  await bulkUpsert(em, Reading, stream([reading('a', 8), reading('d', 9)]), { target: ['sensor'], managed: true });
  expect(managedCount(em)).toBe(2);
  const stored = await em.fork().find(Reading, {}, { orderBy: { sensor: 'asc' } });
  expect(stored.map((r) => [r.sensor, r.value])).toEqual([
    ['a', 8],
    ['b', 1],
    ['c', 6],
    ['d', 9],
  ]);
});
