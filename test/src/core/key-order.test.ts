// Cutting an array into batches in key order (issue 18: concurrent calls of several batches
// deadlocked): batches follow the key, every row keeps its input index, and a call reports
// outcomes, skipped rows and hooks as without the ordering.
import { describe, expect, it } from 'vitest';
import type { TransactionRunner } from '../../../packages/core/src/adapter/contract.js';
import { compareKeyValues, keyOrderedBatches } from '../../../packages/core/src/engine/batches/key-order.js';
import { runBatches } from '../../../packages/core/src/engine/batches/run-batches.js';
import type { StagedWork } from '../../../packages/core/src/engine/batches/staged-work.js';
import { NO_HOOKS } from '../../../packages/core/src/engine/lifecycle.js';
import type { BoundColumn } from '../../../packages/core/src/model/bound-model.js';

interface Row {
  key?: number | string;
  label: string;
}

function keyColumn(kind: BoundColumn<Row>['kind']): BoundColumn<Row> {
  return {
    name: 'key',
    property: 'key',
    kind,
    read: (row: Row) => row.key,
  } as unknown as BoundColumn<Row>;
}

const transaction: TransactionRunner<Row> = (fn) =>
  fn({ session: { query: async () => [] }, hooks: NO_HOOKS, inCallerTransaction: true });

/** Work that records each batch as its hooks would see it and reports one outcome per row. */
function recordingWork(seen: string[][], order = { columns: [keyColumn('integer')] }): StagedWork<Row, Row[], Row[]> {
  return {
    overlap: true,
    order,
    prepare: async (batch, _target, result) => {
      seen.push(batch.entities.map((row) => row.label));
      // Odd keys are skipped, as invalid rows are, by their input index.
      const kept: Row[] = [];
      batch.entities.forEach((row, position) => {
        const index = batch.indices[position] as number;
        if (Number(row.key) % 2 === 1) {
          result.skipped.push({ index, entity: row, reason: 'invalid' });
          result.outcomes.set(index, 'skipped');
        } else {
          kept.push(row);
          // Even keys at an even input index are 'updated', the others 'inserted': which row got
          // which outcome shows whether outcomes landed at their input index.
          result.outcomes.set(index, index % 2 === 0 ? 'updated' : 'inserted');
        }
      });
      return kept;
    },
    send: async (kept, _target, onSent) => {
      onSent?.();
      return kept;
    },
    finish: async () => {},
  };
}

describe('keyOrderedBatches', () => {
  it('cuts rows into batches by key, each batch in input order, every row with its input index', () => {
    const keys = [7, 3, 9, 1, 8, 2, 6];
    const whole = { number: 0, entities: keys.map((key, i) => ({ key, label: `r${i}` })), indices: keys.map((_, i) => i) };
    const batches = [...keyOrderedBatches(whole, 3, { columns: [keyColumn('integer')] })];
    // Keys 1 2 3 | 6 7 8 | 9, each batch's rows in input order.
    expect(batches.map((b) => b.entities.map((r) => r.key))).toEqual([[3, 1, 2], [7, 8, 6], [9]]);
    expect(batches.map((b) => b.indices)).toEqual([[1, 3, 5], [0, 4, 6], [2]]);
    expect(batches.map((b) => b.number)).toEqual([0, 1, 2]);
  });

  it('puts rows without a key last, in input order', () => {
    const rows: Row[] = [{ label: 'a' }, { key: 5, label: 'b' }, { label: 'c' }, { key: 4, label: 'd' }];
    const whole = { number: 0, entities: rows, indices: [0, 1, 2, 3] };
    const batches = [...keyOrderedBatches(whole, 2, { columns: [keyColumn('integer')] })];
    expect(batches.map((b) => b.entities.map((r) => r.label))).toEqual([
      ['b', 'd'],
      ['a', 'c'],
    ]);
  });
});

describe('compareKeyValues: the order PostgreSQL sorts the keys in', () => {
  it('integers as numbers, also bigint text', () => {
    expect(compareKeyValues(9, 10, 'integer')).toBeLessThan(0);
    expect(compareKeyValues('9007199254740993', '10', 'bigint')).toBeGreaterThan(0);
    expect(compareKeyValues('-2', 1, 'bigint')).toBeLessThan(0);
  });

  it('text by code point (COLLATE "C"), not by UTF-16 unit', () => {
    expect(compareKeyValues('B', 'a', 'string')).toBeLessThan(0);
    expect(compareKeyValues('a-b', 'ab', 'string')).toBeLessThan(0);
    // U+FF5E (one unit) sorts before U+1F600 (a surrogate pair, whose first unit is 0xD83D).
    expect(compareKeyValues('\u{ff5e}', '\u{1f600}', 'string')).toBeLessThan(0);
  });

  it('uuids by their lower-case hex text, instants by time', () => {
    expect(compareKeyValues('A0000000-0000-0000-0000-000000000000', 'b0000000-0000-0000-0000-000000000000', 'uuid')).toBeLessThan(
      0,
    );
    expect(compareKeyValues(new Date(2000, 0, 2), new Date(2000, 0, 1), 'timestamptz')).toBeGreaterThan(0);
  });
});

describe('runBatches with an array of several batches and work that locks rows in key order', () => {
  const keys = [50, 12, 33, 4, 41, 27, 8, 16, 45, 20];
  const input = (): Row[] => keys.map((key, i) => ({ key, label: `r${i}` }));

  it('writes the batches in key order; outcomes and skipped rows stay in input order', async () => {
    const seen: string[][] = [];
    const progress: number[] = [];
    const result = await runBatches(
      input(),
      { batchSize: 4, onProgress: (p) => progress.push(p.skipped) },
      transaction,
      recordingWork(seen),
    );
    // Keys 4 8 12 16 | 20 27 33 41 | 45 50, each batch's rows in input order.
    expect(seen).toEqual([
      ['r1', 'r3', 'r6', 'r7'],
      ['r2', 'r4', 'r5', 'r9'],
      ['r0', 'r8'],
    ]);
    expect(result.outcomes).toEqual([
      'updated',
      'inserted',
      'skipped',
      'inserted',
      'skipped',
      'skipped',
      'updated',
      'inserted',
      'skipped',
      'inserted',
    ]);
    expect(result.skipped.map((s) => s.index)).toEqual([2, 4, 5, 8]);
    // Skipped rows of the batches done: none, then 33 41 27, then 45.
    expect(progress).toEqual([0, 3, 4]);
    expect(result.batches).toBe(3);
  });

  it('one batch, a stream, atomic: false or work without an order: batches in input order', async () => {
    for (const [options, source, order] of [
      [{ batchSize: 10 }, input(), undefined],
      [{ batchSize: 4, atomic: false }, input(), undefined],
      [
        { batchSize: 4 },
        (async function* () {
          yield* input();
        })(),
        undefined,
      ],
      [{ batchSize: 4 }, input(), 'none'],
    ] as const) {
      const seen: string[][] = [];
      const work = recordingWork(seen);
      await runBatches(source, options, transaction, order === 'none' ? { ...work, order: undefined } : work);
      expect(seen.flat()).toEqual(keys.map((_, i) => `r${i}`));
    }
  });

  it('refuses the same object twice before any batch, naming both input rows', async () => {
    const rows = input();
    rows[7] = rows[2] as Row;
    const seen: string[][] = [];
    await expect(runBatches(rows, { batchSize: 4 }, transaction, recordingWork(seen))).rejects.toMatchObject({
      name: 'BulkUsageError',
      indices: [2, 7],
    });
    expect(seen).toEqual([]);
  });
});

describe('an array that holds one key twice', () => {
  it('is cut in input order, as before: the two rows stay in their own batches', () => {
    const keys = [5, 1, 5, 3];
    const whole = { number: 0, entities: keys.map((key, i) => ({ key, label: `r${i}` })), indices: [0, 1, 2, 3] };
    const batches = [...keyOrderedBatches(whole, 2, { columns: [keyColumn('integer')] })];
    expect(batches.map((b) => b.indices)).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('uuids that differ only in case are one key', () => {
    const uuid = 'a0000000-0000-0000-0000-00000000000a';
    const rows: Row[] = [
      { key: uuid, label: 'a' },
      { key: 'f0000000-0000-0000-0000-000000000000', label: 'b' },
      { key: uuid.toUpperCase(), label: 'c' },
    ];
    const batches = [
      ...keyOrderedBatches({ number: 0, entities: rows, indices: [0, 1, 2] }, 2, { columns: [keyColumn('uuid')] }),
    ];
    expect(batches.map((b) => b.indices)).toEqual([[0, 1], [2]]);
  });
});
