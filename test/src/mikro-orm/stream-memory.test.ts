// A stream's written rows are not held by the call once their batch is done: with `managed: false`
// (a stream's default) nothing else refers to them, so the garbage collector can take them while
// later batches are written (the guide's bounded-memory promise for streams). A weak reference to the
// first row, checked after a full collection while the stream yields a later batch's rows, says so.
// The rows the call wrote, and that a later call links (not inserts again) an entity a stream wrote,
// are checked too. Default and COPY (`COHORT_STRATEGY=copy`).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bulkInsert } from '@cohort/mikro-orm';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forcedStrategy } from '../harness/forced-strategy.js';
import { type OwnMikroOrm, ownMikroOrm } from '../harness/own-mikro-orm.js';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

@Entity({ tableName: 'sm_line' })
class SmLine {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 40 }) body!: string;
}

@Entity({ tableName: 'sm_mark' })
class SmMark {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @ManyToOne(() => SmLine) line!: SmLine;
}

let own: OwnMikroOrm;
beforeAll(async () => {
  own = await ownMikroOrm('smm', { entities: [SmLine, SmMark] });
});
afterAll(async () => {
  await own?.close();
});
beforeEach(async () => {
  await own.orm.em
    .getConnection()
    .execute(`truncate "${own.schema}"."sm_mark", "${own.schema}"."sm_line" restart identity cascade`);
});
const opts = forcedStrategy ? { strategy: forcedStrategy } : {};
const count = async (table: string) =>
  Number((await own.orm.em.getConnection().execute(`select count(*)::int as n from "${own.schema}"."${table}"`))[0]?.n);

describe('a managed: false stream', () => {
  it('does not hold the rows of its finished batches: the first row is collected while a later batch is read', async () => {
    const em = own.orm.em.fork() as EntityManager;
    let first: WeakRef<SmLine> | undefined;
    let collectedMidway: boolean | undefined;
    async function* lines() {
      for (let i = 0; i < 3000; i++) {
        if (i === 2500) {
          // Past the job that made the weak reference, then a full collection.
          await new Promise((resolve) => setImmediate(resolve));
          collect();
          collectedMidway = first?.deref() === undefined;
        }
        const line = Object.assign(new SmLine(), { body: `line ${i}` });
        if (i === 0) first = new WeakRef(line);
        yield line;
      }
    }
    const result = await bulkInsert(em, SmLine, lines(), { ...opts, batchSize: 500 });
    expect(result.inserted).toBe(3000);
    expect(await count('sm_line')).toBe(3000);
    expect(collectedMidway).toBe(true);
  });

  it('an entity it wrote is linked by a later call, not inserted again', async () => {
    const em = own.orm.em.fork() as EntityManager;
    const line = Object.assign(new SmLine(), { body: 'kept' });
    async function* one() {
      yield line;
    }
    await bulkInsert(em, SmLine, one(), opts);
    await bulkInsert(em, SmMark, [Object.assign(new SmMark(), { line })], { ...opts, managed: false });
    expect(await count('sm_line')).toBe(1);
    expect(await count('sm_mark')).toBe(1);
  });
});
