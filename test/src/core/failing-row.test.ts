// Finding the row of a CHECK violation of a multi-row INSERT from the row PostgreSQL prints
// ("Failing row contains (…)."): only the values that print as sent are compared, at their columns'
// places, and a row is named only when exactly one fits. (Against PostgreSQL:
// test/src/conformance/encoding.test.ts, "a CHECK violation names the row".)
import { CheckViolationError } from '@cohort/core';
import { describe, expect, it } from 'vitest';
import { findFailingRow } from '../../../packages/core/src/errors/failing-row.js';
import { convertDatabaseError } from '../../../packages/core/src/errors/pg-error-converter.js';
import type { CatalogColumn, TableCatalog } from '../../../packages/core/src/model/table-catalog.js';

function table(types: Record<string, string>, extra: Partial<TableCatalog> = {}): TableCatalog {
  const columns = new Map<string, CatalogColumn>(
    Object.entries(types).map(([name, castType]) => [name, { name, castType, defaultExpr: null, identityAlways: false }]),
  );
  return { qualifiedName: 'public.t', serverVersion: 150000, columns, ...extra };
}

const TABLE = table({ id: 'integer', label: 'text', qty: 'integer', at: 'timestamp with time zone' });

/** A batch sending label, qty and at (the id is the table's default). */
function batch(rows: [string | null, string | null, string | null][]) {
  return {
    columns: ['label', 'qty', 'at'],
    values: [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    indices: rows.map((_, i) => 10 + i),
    entities: rows.map((r) => ({ label: r[0] })),
  };
}

const AT = '2024-01-01T00:00:00.000Z';
const PRINTED_AT = '2024-01-01 00:00:00+00';

describe('findFailingRow', () => {
  it("names the one row whose integer and text values stand at their places, a value holding ', ' included", () => {
    const rows = batch([
      ['a, b', '1', AT],
      ['a, b', '100', AT],
      ['c', '100', AT],
    ]);
    expect(findFailingRow(`Failing row contains (7, a, b, 100, ${PRINTED_AT}).`, rows, TABLE)).toBe(1);
    expect(findFailingRow(`Failing row contains (8, c, 100, ${PRINTED_AT}).`, rows, TABLE)).toBe(2);
  });

  it('names no row when two fit (never a guess), none fits, or the detail is of another form', () => {
    const rows = batch([
      ['same', '100', AT],
      ['same', '100', '2024-01-02T00:00:00.000Z'],
    ]);
    expect(findFailingRow(`Failing row contains (7, same, 100, ${PRINTED_AT}).`, rows, TABLE)).toBeUndefined();
    expect(findFailingRow(`Failing row contains (7, other, 100, ${PRINTED_AT}).`, rows, TABLE)).toBeUndefined();
    expect(findFailingRow('Failing row contains (label, qty) = (same, 100).', rows, TABLE)).toBeUndefined();
  });

  it('compares no value that may print otherwise: an integer not in plain decimal, a text with trailing spaces', () => {
    // Row 0 sent '0100' (printed 100): its qty is not compared, so it still fits; row 1's 5 does not.
    const rows = batch([
      ['x', '0100', AT],
      ['x', '5', AT],
    ]);
    expect(findFailingRow(`Failing row contains (7, x, 100, ${PRINTED_AT}).`, rows, TABLE)).toBe(0);
    // Compared as sent, '0100' would fit no row, and a row that sent '100' would be taken for it.
    const both = batch([
      ['x', '0100', AT],
      ['x', '100', AT],
    ]);
    expect(findFailingRow(`Failing row contains (7, x, 100, ${PRINTED_AT}).`, both, TABLE)).toBeUndefined();
    const spaced = batch([
      ['y  ', '100', AT],
      ['y', '7', AT],
    ]);
    // A varchar(n) may cut the trailing spaces: the first row's label matches any printed value.
    expect(findFailingRow(`Failing row contains (7, y, 100, ${PRINTED_AT}).`, spaced, TABLE)).toBe(0);
  });

  it('names no row for a table with a BEFORE INSERT row trigger (it may store other values) or a partitioned one', () => {
    const rows = batch([
      ['a', '1', AT],
      ['b', '100', AT],
    ]);
    const detail = `Failing row contains (7, b, 100, ${PRINTED_AT}).`;
    expect(findFailingRow(detail, rows, TABLE)).toBe(1);
    expect(findFailingRow(detail, rows, { ...TABLE, insertTriggers: true })).toBeUndefined();
    expect(findFailingRow(detail, rows, { ...TABLE, partitionKey: 'RANGE (qty)' })).toBeUndefined();
  });

  it("an upsert's DO UPDATE (the stored row merged with the sent one is printed) names no row", () => {
    const rows = batch([
      ['new', '100', AT],
      ['old', '5', AT],
    ]);
    const pg = {
      code: '23514',
      message: 'new row violates check constraint',
      detail: `Failing row contains (7, old, 5, ${PRINTED_AT}).`,
    };
    const plain = convertDatabaseError(pg, rows, 0, { table: TABLE, conflict: { kind: 'error' } });
    expect(plain).toBeInstanceOf(CheckViolationError);
    expect(plain).toMatchObject({ index: 11 });
    const upsert = convertDatabaseError(pg, rows, 0, {
      table: TABLE,
      conflict: { kind: 'update', target: ['label'], columns: ['qty'] } as never,
    });
    expect(upsert).toMatchObject({ index: undefined, batch: 0 });
  });
});
