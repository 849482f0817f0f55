// issue 24: a MikroORM batch event carries `em` (MikroORM's own name for the EntityManager its
// events get), the transactional EntityManager: what a subscriber writes with it commits or rolls
// back with the batch.
import { bulkInsert, bulkRemove, type MikroOrmBulkEvent, type MikroOrmBulkSubscriber } from '@cohort/mikro-orm';
import type { EventSubscriber } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

@Entity({ tableName: 'note' })
class Note {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 20, unique: true }) title!: string;
}

const note = (title: string) => Object.assign(new Note(), { title });

/** Typed against the adapter's subscriber type: `e.em.execute` type-checks without a cast. */
class NoteAudit implements EventSubscriber<Note>, MikroOrmBulkSubscriber<Note, EntityManager> {
  readonly seen: { em: EntityManager; manager: EntityManager; inTransaction: boolean }[] = [];
  getSubscribedEntities() {
    return [Note];
  }
  async afterBulkInsert(e: MikroOrmBulkEvent<Note, EntityManager>) {
    this.seen.push({ em: e.em, manager: e.manager, inTransaction: e.em.isInTransaction() });
    await e.em.execute(`insert into "${schema}"."note_audit" (action, n) values ('insert', ${e.entities.length})`);
  }
  async afterBulkRemove(e: MikroOrmBulkEvent<Note, EntityManager>) {
    this.seen.push({ em: e.em, manager: e.manager, inTransaction: e.em.isInTransaction() });
    await e.em.execute(`insert into "${schema}"."note_audit" (action, n) values ('remove', ${e.entities.length})`);
  }
}

let own: OwnMikroOrm | undefined;
let orm: MikroORM;
let schema: string;
const audit = new NoteAudit();

beforeAll(async () => {
  own = await ownMikroOrm('mevent', { entities: [Note], subscribers: [audit] });
  ({ orm, schema } = own);
  await orm.em.fork().execute(`create table "${schema}"."note_audit" (action text not null, n int not null)`);
});
beforeEach(async () => {
  audit.seen.length = 0;
  await orm.em.fork().execute(`truncate "${schema}"."note", "${schema}"."note_audit" restart identity`);
});
afterAll(async () => {
  await own?.close();
});

const auditRows = () => orm.em.fork().execute(`select action, n from "${schema}"."note_audit" order by action`);

it('em is the transactional EntityManager (the same as manager), once per batch', async () => {
  const em = orm.em.fork();
  await em.transactional(async (tem) => {
    await bulkInsert(tem, Note, [note('a'), note('b'), note('c')], { batchSize: 2 });
    expect(audit.seen).toHaveLength(2);
    for (const { em: eventEm, manager, inTransaction } of audit.seen) {
      expect(eventEm).toBe(manager);
      expect(inTransaction).toBe(true);
      expect(eventEm.getTransactionContext()).toBe(tem.getTransactionContext());
    }
  });
  expect(await auditRows()).toEqual([
    { action: 'insert', n: 2 },
    { action: 'insert', n: 1 },
  ]);
});

it('what the subscriber writes with em rolls back with the call', async () => {
  const em = orm.em.fork();
  await expect(
    em.transactional(async (tem) => {
      await bulkInsert(tem, Note, [note('x'), note('y')]);
      throw new Error('the caller changes its mind');
    }),
  ).rejects.toThrow('the caller changes its mind');
  expect(audit.seen).toHaveLength(1);
  expect(await auditRows()).toEqual([]);
  expect(await orm.em.fork().execute(`select count(*)::int as n from "${schema}"."note"`)).toEqual([{ n: 0 }]);
});

it('a call in its own transaction: em is in that transaction; remove events carry it too', async () => {
  const em = orm.em.fork();
  const notes = [note('r1'), note('r2')];
  await bulkInsert(em, Note, notes);
  await bulkRemove(em, Note, notes);
  expect(audit.seen.map((s) => s.inTransaction)).toEqual([true, true]);
  expect(audit.seen.every((s) => s.em === s.manager)).toBe(true);
  expect(await auditRows()).toEqual([
    { action: 'insert', n: 2 },
    { action: 'remove', n: 2 },
  ]);
});
