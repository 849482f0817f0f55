// Options are checked at run time (SPEC §8): JavaScript callers get no compiler, so every call checks
// its options once — unknown keys, values of the wrong kind, names of columns that do not exist —
// and refuses the call with a BulkUsageError naming the option before anything is sent.
// Also here: `skipUnchanged` (TypeORM's `skipUpdateIfNoValuesChanged`), in both adapters.
import { BulkUsageError } from '@cohort/core';
import * as mikroOrm from '@cohort/mikro-orm';
import * as typeorm from '@cohort/typeorm';
import { expect, it } from 'vitest';
import { KitchenStatus } from '../fixtures/fixture-names.js';
import { describeConformance, EVENT_NAMES, type OrmUnderTest } from '../harness/conformance.js';

type Operation = 'bulkInsert' | 'bulkUpdate' | 'bulkUpsert' | 'bulkSave' | 'bulkRemove';
const OPERATIONS: readonly Operation[] = ['bulkInsert', 'bulkUpdate', 'bulkUpsert', 'bulkSave', 'bulkRemove'];

/** [options, the option the error names, what the message says] */
type BadCase = readonly [unknown, string | undefined, RegExp];

/** Wrong for every operation. */
const EVERYWHERE: readonly BadCase[] = [
  [{ batchsize: 10 }, 'batchsize', /has no option "batchsize" \(did you mean "batchSize"\?\)/],
  [{ BatchSize: 10 }, 'BatchSize', /has no option "BatchSize" \(did you mean "batchSize"\?\)/],
  [{ batchSize: 0 }, 'batchSize', /option "batchSize" must be a positive integer, got 0/],
  [{ batchSize: '500' }, 'batchSize', /option "batchSize" must be a positive integer, got "500"/],
  [{ batchSize: 1.5 }, 'batchSize', /must be a positive integer, got 1.5/],
  [{ hooks: 'false' }, 'hooks', /option "hooks" must be a boolean, got "false"/],
  [{ validate: 0 }, 'validate', /option "validate" must be a boolean/],
  [{ onInvalid: 'ignore' }, 'onInvalid', /option "onInvalid" must be one of "error", "skip", got "ignore"/],
  [{ atomic: 'no' }, 'atomic', /option "atomic" must be a boolean/],
  [{ pipeline: null }, 'pipeline', /option "pipeline" must be a boolean, got null/],
  [{ onProgress: true }, 'onProgress', /option "onProgress" must be a function/],
  [{ strategy: 'COPY' }, 'strategy', /option "strategy" must be one of "auto", "unnest", "copy"/],
];

/** Wrong for one operation. */
const PER_OPERATION: Readonly<Record<Operation, readonly BadCase[]>> = {
  bulkInsert: [
    [{ onConflict: 'replace' }, 'onConflict', /option "onConflict" must be 'error', 'ignore' or an object/],
    [
      { onConflict: { targte: ['email'] } },
      'onConflict.targte',
      /no option "onConflict.targte" \(did you mean "onConflict.target"\?\)/,
    ],
    [
      { onConflict: { target: ['emial'] } },
      'onConflict.target',
      /Unique has no column or property "emial" \(did you mean "email"\?\)/,
    ],
    [{ onConflict: { action: 'merge' } }, 'onConflict.action', /must be one of "ignore", "update"/],
    [{ duplicates: 'first' }, 'duplicates', /option "duplicates" must be one of "error", "keepFirst", "keepLast"/],
    [{ target: ['email'] }, 'target', /bulkInsert has no option "target" \(an option of bulkUpsert\)/],
    [
      { checkVersion: false },
      'checkVersion',
      /bulkInsert has no option "checkVersion" \(an option of bulkUpdate, bulkSave, bulkRemove\)/,
    ],
  ],
  bulkUpdate: [
    [{ checkVersion: 'no' }, 'checkVersion', /option "checkVersion" must be a boolean/],
    [{ expressions: { name: 1 } }, 'expressions', /option "expressions" must be an object whose values are SQL strings/],
    [{ expressions: { nmae: '{value}' } }, 'expressions', /Unique has no column or property "nmae" \(did you mean "name"\?\)/],
    [{ onConflict: 'ignore' }, 'onConflict', /bulkUpdate has no option "onConflict" \(an option of bulkInsert, bulkSave\)/],
  ],
  bulkUpsert: [
    [{ target: 'email' }, 'target', /option "target" must be an array of strings, got "email"/],
    [{ target: ['email', 'nope'] }, 'target', /Unique has no column or property "nope"/],
    [{ update: [1] }, 'update', /option "update" must be an array of strings/],
    [{ where: true }, 'where', /option "where" must be a string/],
    [{ skipUnchanged: 'yes' }, 'skipUnchanged', /option "skipUnchanged" must be a boolean/],
    [{ skipUnchanged: true, where: 't.name IS NULL' }, 'skipUnchanged', /"skipUnchanged" and "where" cannot be combined/],
    [{ onConflict: 'ignore' }, 'onConflict', /bulkUpsert has no option "onConflict"/],
  ],
  bulkSave: [
    [{ onConflict: 7 }, 'onConflict', /option "onConflict" must be 'error', 'ignore' or an object/],
    [{ checkVersion: 1 }, 'checkVersion', /must be a boolean/],
    [{ where: 'true' }, 'where', /bulkSave has no option "where" \(an option of bulkUpsert\)/],
  ],
  bulkRemove: [
    [{ checkVersion: 'no' }, 'checkVersion', /option "checkVersion" must be a boolean/],
    [
      { expressions: {} },
      'expressions',
      /bulkRemove has no option "expressions" \(an option of bulkUpsert, bulkUpdate, bulkSave\)/,
    ],
    [{ onConflict: 'ignore' }, 'onConflict', /bulkRemove has no option "onConflict"/],
  ],
};

const person = (side: OrmUnderTest, email: string, name: string | null = email.split('@')[0] ?? null) =>
  side.create('Unique', { email, name, version: 1 });

function call(side: OrmUnderTest, operation: Operation, entities: object[], options: unknown) {
  return side[operation](entities, options as never, 'Unique');
}

describeConformance('options are checked at run time', ({ subject }) => {
  it('each unknown key and wrong value, for every operation: a BulkUsageError naming it, nothing written', async () => {
    await subject().bulkInsert([person(subject(), 'seed@x')]);
    const before = await subject().rows('unique_fixture');
    subject().resetLogs();
    for (const operation of OPERATIONS) {
      for (const [options, option, message] of [...EVERYWHERE, ...PER_OPERATION[operation]]) {
        const what = `${operation} ${JSON.stringify(options)}`;
        const error = await call(
          subject(),
          operation,
          [person(subject(), 'new@x'), person(subject(), 'seed@x', 'x')],
          options,
        ).catch((e: unknown) => e);
        expect(error, what).toBeInstanceOf(BulkUsageError);
        expect((error as BulkUsageError).option, what).toBe(option);
        expect((error as Error).message, what).toMatch(message);
        expect((error as Error).message, what).toMatch(new RegExp(`^cohort: ${operation}\\b`));
      }
    }
    expect(await subject().rows('unique_fixture')).toEqual(before);
    expect(subject().hooks).toEqual([]);
    expect(subject().sql).toEqual([]);
  });

  it('options that are not an object (null, an array, a string) are refused, for every operation', async () => {
    const side = subject();
    const adapter = side.orm === 'typeorm' ? typeorm : mikroOrm;
    const target = side.orm === 'typeorm' ? side.native.dataSource : side.native.em;
    const Unique = person(side, 'a@x').constructor;
    for (const operation of OPERATIONS) {
      for (const [options, got] of [
        [null, 'null'],
        [[{ batchSize: 1 }], 'an array'],
        ['fast', '"fast"'],
      ] as const) {
        const run = adapter[operation] as (t: unknown, e: unknown, rows: object[], o: unknown) => Promise<unknown>;
        const error = await run(target, Unique, [person(side, 'a@x')], options).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BulkUsageError);
        expect((error as Error).message).toMatch(
          new RegExp(`^cohort: ${operation}'s options must be an object, got ${got.replace(/[[\]]/g, '\\$&')}`),
        );
      }
    }
    expect(await side.rows('unique_fixture')).toEqual([]);
  });

  it("an adapter's own option names are its own: the other adapter's are unknown there", async () => {
    const foreign = subject().orm === 'typeorm' ? { managed: false } : { listeners: false };
    const [option] = Object.keys(foreign);
    for (const operation of OPERATIONS) {
      const error = await call(subject(), operation, [person(subject(), 'a@x')], foreign).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BulkUsageError);
      expect(error).toMatchObject({ option });
      expect((error as Error).message).toMatch(new RegExp(`${operation} has no option "${option}"`));
    }
    expect(await subject().rows('unique_fixture')).toEqual([]);
  });

  it('undefined values count as absent, as in the ORMs; every option of the operation is accepted', async () => {
    const result = await subject().bulkInsert([person(subject(), 'a@x')], {
      batchSize: undefined,
      hooks: true,
      validate: true,
      onInvalid: 'error',
      atomic: true,
      onProgress: () => {},
      pipeline: undefined,
      onConflict: { target: ['email'], action: 'update', update: ['name'], skipUnchanged: true },
      duplicates: 'error',
    });
    expect(result.inserted).toBe(1);
    const upserted = await subject().bulkUpsert([person(subject(), 'a@x', 'A')], {
      target: ['email'],
      update: ['name', 'version'],
      expressions: { version: '{current} + {value}' },
      duplicates: 'keepLast',
      where: undefined,
    });
    expect(upserted.updated).toBe(1);
  });
});

describeConformance('bulkUpsert skipUnchanged', ({ subject }) => {
  const xmins = async (side: OrmUnderTest) =>
    new Map(
      (await side.query<{ email: string; x: string }>('SELECT email, xmin::text AS x FROM unique_fixture')).map((r) => [
        r.email,
        r.x,
      ]),
    );

  it('rows whose values all equal the stored ones are not rewritten: unchanged, no after-update hook, no values back', async () => {
    await subject().bulkInsert([person(subject(), 'a@x', 'A'), person(subject(), 'b@x', 'B')]);
    const before = await xmins(subject());
    subject().resetLogs();
    const same = person(subject(), 'a@x', 'A');
    const input = [same, person(subject(), 'b@x', 'B2'), person(subject(), 'c@x', 'C')];
    const result = await subject().bulkUpsert(input, { target: ['email'], skipUnchanged: true });
    expect(result).toMatchObject({
      inserted: 1,
      updated: 1,
      unchanged: 1,
      skipped: [],
      outcomes: ['unchanged', 'updated', 'inserted'],
    });
    const after = await xmins(subject());
    expect(after.get('a@x')).toBe(before.get('a@x'));
    expect(after.get('b@x')).not.toBe(before.get('b@x'));
    expect((same as { id?: number }).id).toBeUndefined();
    const names = EVENT_NAMES[subject().orm];
    const afterHooks = subject()
      .hooks.filter((h) => h.source === 'subscriber' && (h.event === names.afterInsert || h.event === names.afterUpdate))
      .map((h) => `${h.event}:${h.key}`);
    expect(afterHooks).toEqual([`${names.afterInsert}:c@x`, `${names.afterUpdate}:b@x`]);
    expect((await subject().rows('unique_fixture')).map((r) => [r.email, r.name])).toEqual([
      ['a@x', 'A'],
      ['b@x', 'B2'],
      ['c@x', 'C'],
    ]);
  });

  it('a value an expression computes counts: unchanged only when it equals the stored one', async () => {
    await subject().bulkInsert([person(subject(), 'a@x'), person(subject(), 'b@x')]);
    const [zero, one] = [person(subject(), 'a@x'), person(subject(), 'b@x')];
    (zero as { version: number }).version = 0;
    (one as { version: number }).version = 1;
    const result = await subject().bulkUpsert([zero, one], {
      update: ['version'],
      expressions: { version: '{current} + {value}' },
      skipUnchanged: true,
    });
    expect(result.outcomes).toEqual(['unchanged', 'updated']);
    expect((await subject().rows('unique_fixture')).map((r) => r.version)).toEqual([1, 2]);
  });

  it('bulkInsert with onConflict { action: update, skipUnchanged }: the same outcomes', async () => {
    await subject().bulkInsert([person(subject(), 'a@x', 'A')]);
    const result = await subject().bulkInsert([person(subject(), 'a@x', 'A'), person(subject(), 'b@x', 'B')], {
      onConflict: { target: ['email'], action: 'update', skipUnchanged: true },
    });
    expect(result.outcomes).toEqual(['unchanged', 'inserted']);
  });

  it('every column kind compares by value (json as text): the same row again is unchanged, one changed value is not', async () => {
    const kitchen = {
      name: 'k',
      smallInt: -3,
      bigInt: '-9223372036854775808',
      numericVal: '12.50',
      realVal: -0.25,
      doubleVal: Math.PI,
      boolVal: false,
      charVal: 'xyz',
      textVal: 'tab\there',
      uuidVal: '9f1c2b7e-5a7d-4c1e-8f3a-0d2b6c4e8a10',
      dateVal: '2000-01-01',
      timeVal: '00:00:01',
      timestampVal: new Date('1999-12-31T23:59:59.999Z'),
      timestamptzVal: new Date('2038-01-19T03:14:07.000Z'),
      jsonVal: { deep: [1, { two: 'x' }] },
      jsonbVal: { b: 1, a: null },
      status: KitchenStatus.Archived,
      intArray: [0, null, -5],
      textArray: ['{braces}', null, ''],
      bytes: Buffer.from('héllo', 'utf8'),
    };
    const first = subject().create('Kitchen', kitchen);
    await subject().bulkInsert([first]);
    const id = (first as { id: number }).id;
    const again = subject().create('Kitchen', { ...kitchen, id });
    const changed = subject().create('Kitchen', { ...kitchen, id, jsonVal: { deep: [1, { two: 'y' }] } });
    const unchanged = await subject().bulkUpsert([again], { target: ['id'], skipUnchanged: true });
    expect(unchanged.outcomes).toEqual(['unchanged']);
    const updated = await subject().bulkUpsert([changed], { target: ['id'], skipUnchanged: true });
    expect(updated.outcomes).toEqual(['updated']);
    expect((await subject().rows('kitchen'))[0]?.json_val).toEqual({ deep: [1, { two: 'y' }] });
  });
});
