// The UPDATE that links a tree's rows to their new parents once the parents have keys (see
// insert-self-references.ts): one statement for rows that write the same columns, keyed by primary
// key, moving version and update dates on as the ORMs' own UPDATE does, and reading back what the
// ORM's UPDATE reads back.
import type { RowChange, SelfReference, WriteTarget } from '../../adapter/contract.js';
import type { BulkWriteError } from '../../errors/bulk-write-error.js';
import { convertDatabaseError } from '../../errors/pg-error-converter.js';
import { BulkUsageError } from '../../errors/usage-errors.js';
import type { BoundColumn, BoundModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { readTableCatalog } from '../../model/table-catalog.js';
import { encodeColumn } from '../../sql/batch-values.js';
import { compileReferenceUpdate, REFERENCE_ORDINAL } from '../../sql/reference-update.js';
import { versionStepOf } from '../../sql/version-step.js';

/** A row whose join columns wait for its parent's key. */
export interface Waiting<E> {
  readonly entity: E;
  readonly index: number;
  readonly reference: SelfReference;
}

/**
 * Sends the UPDATE that writes the rows' join columns (and the `extra` columns their changes name),
 * in the call's transaction; each reference's `written` is called once it is done, and with the
 * adapter's `TreeUpdate` the values read back go on the rows (`written`).
 */
export async function sendTreeLinks<E>(
  model: BoundModel<E>,
  target: WriteTarget<E>,
  rows: readonly (readonly Waiting<E>[])[],
  extra: readonly BoundColumn<E>[],
  changes: readonly RowChange[],
  batchNumber: number,
): Promise<void> {
  const keys = primaryColumns(model);
  const first = rows[0] as readonly Waiting<E>[];
  const set = [
    ...joinColumnsOf(
      model,
      first.flatMap((w) => w.reference.columns),
    ),
    ...extra,
  ];
  const referenced = first.flatMap((w, i) =>
    joinColumnsOf(model, w.reference.referenced).map((column) => ({ column, reference: i })),
  );
  const columns = [...keys, ...set];
  const values = [
    ...keys.map((column) =>
      encodeColumn(
        column as BoundColumn<never>,
        rows.map((r) => column.read((r[0] as Waiting<E>).entity)),
      ),
    ),
    ...referenced.map(({ column, reference }) =>
      encodeColumn(
        column as BoundColumn<never>,
        rows.map((r) => column.read((r[reference] as Waiting<E>).reference.target as E)),
      ),
    ),
    ...extra.map((column) =>
      encodeColumn(
        column as BoundColumn<never>,
        rows.map((r) => column.read((r[0] as Waiting<E>).entity)),
      ),
    ),
  ];
  const table = await readTableCatalog(target.session, model);
  const version = model.columns.find((c) => c.role === 'version');
  const touch = model.columns.filter((c) => c.role === 'updateDate');
  const tree = model.treeUpdate;
  // What the ORM's UPDATE reads back: the version, update dates, and the model's other read-back
  // columns (MikroORM: stored generated columns).
  const returning = tree ? [...new Set([...(version ? [version] : []), ...touch, ...(model.returningOnUpdate ?? [])])] : [];
  const query = compileReferenceUpdate(
    {
      table,
      keys: keys.map((c) => c.name),
      set: set.map((c) => c.name),
      version: version?.name,
      versionStep: version ? versionStepOf(version) : undefined,
      touch: touch.map((c) => c.name),
      returning: returning.map((c) => c.name),
    },
    values,
  );
  let returned: Record<string, unknown>[];
  try {
    returned = await target.session.query(query.sql, query.parameters);
  } catch (error) {
    const located = {
      columns: columns.map((c) => c.name),
      values,
      indices: rows.map((r) => (r[0] as Waiting<E>).index),
      entities: rows.map((r) => (r[0] as Waiting<E>).entity),
    };
    throw convertDatabaseError<E>(error, located, batchNumber) as BulkWriteError<E>;
  }
  for (const row of rows) for (const waiting of row) waiting.reference.written?.();
  if (!tree) return;
  for (const row of returned) {
    const position = Number(row[REFERENCE_ORDINAL]) - 1;
    const values: Record<string, unknown> = {};
    returning.forEach((column, i) => {
      values[column.name] = row[`r${i}`];
    });
    const linked = (rows[position] as readonly Waiting<E>[])[0] as Waiting<E>;
    tree.written(linked.entity, values, changes[position] as RowChange);
  }
}

/** The model's columns of these names (a self-reference's join or referenced columns). */
export function joinColumnsOf<E>(model: BoundModel<E>, names: readonly string[]): BoundColumn<E>[] {
  return names.map((name) => {
    const column = model.columns.find((c) => c.name === name);
    // An adapter names only its model's join columns; anything else is a mapping it cannot write.
    if (!column) throw new BulkUsageError(`${model.name} maps no column ${name} (a self-reference's join column)`);
    return column;
  });
}
