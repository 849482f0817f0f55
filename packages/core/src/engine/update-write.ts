// A batch's UPDATE: built from the changed rows (keys, changed values, per-row flags; binary arrays
// where the session takes them), sent (one statement, or COPY into a stage first), and what it
// returned put back onto the entities.
import type { UpdateHookBatch, WriteTarget } from '../adapter/contract.js';
import { DuplicateKeyInBatchError, OptimisticLockError } from '../errors/bulk-write-error.js';
import { convertDatabaseError } from '../errors/pg-error-converter.js';
import type { BoundColumn, BoundModel } from '../model/bound-model.js';
import { primaryColumns } from '../model/entity-model.js';
import { readTableCatalog } from '../model/table-catalog.js';
import { binaryParameter } from '../sql/copy-binary.js';
import { toPgText } from '../sql/pg-text.js';
import {
  compileUpdate,
  UPDATE_MATCHED,
  UPDATE_MATCHED_COUNT,
  UPDATE_ORDINAL,
  type UpdateColumn,
  type UpdateStatement,
  type UpdateValues,
  updateStageColumns,
} from '../sql/update-statement.js';
import { versionStepOf } from '../sql/version-step.js';
import type { BulkResult, UpdateOptions } from './bulk-options.js';
import { columnName } from './conflict-plan.js';
import { copyClientFor, copyIntoStage, dropStage, mayCopy } from './copy-insert.js';
import { afterDispatch } from './copy-runner.js';

/** A batch's UPDATE, built: the changed rows, the statement and its values. */
export interface PlannedUpdate<E> {
  readonly changed: UpdateHookBatch<E>;
  /** Undefined when no row changed. */
  readonly stmt?: UpdateStatement;
  readonly values?: UpdateValues;
  readonly returned: BoundColumn<E>[];
}

/** What the UPDATE returned. */
export interface SentUpdate<E> {
  readonly planned: PlannedUpdate<E>;
  readonly rows: Record<string, unknown>[];
}

/** Builds the batch's UPDATE from the changed rows (reads the catalog once per table, sends nothing else). */
export async function planUpdate<E>(
  model: BoundModel<E>,
  options: UpdateOptions,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  target: WriteTarget<E>,
): Promise<PlannedUpdate<E>> {
  if (changed.entities.length === 0) return { changed, returned: [] };
  const catalog = await readTableCatalog(target.session, model as BoundModel<never>);
  const keys = primaryColumns(model);
  const version = model.columns.find((c) => c.role === 'version');
  const touched = new Set(changed.changes.flatMap((c) => c.columns ?? []));
  // An update date is set to the statement's time, unless the row changed it by hand: then, as
  // save() does, the row's value is written (`otherwise` keeps the timestamp for the other rows).
  const dates = model.columns.filter((c) => c.role === 'updateDate');
  const handSet = new Set(dates.filter((c) => c.updatable && touched.has(c.name)).map((c) => c.name));
  const touch = dates.filter((c) => !handSet.has(c.name));
  const expressions = expressionColumns(model, options);
  const special = new Set([...keys, ...touch, ...(version ? [version] : [])].map((c) => c.name));
  const setColumns = model.columns.filter((c) => c.updatable && touched.has(c.name) && !special.has(c.name));

  const rowsPrepared = prepared.size > 0 ? changed.entities.map((e) => prepared.get(e)) : [];
  const read = (c: BoundColumn<E>, r: number) => c.read(changed.entities[r] as E, rowsPrepared[r]);
  const text = (c: BoundColumn<E>, r: number) => toPgText(read(c, r), c.kind === 'timestamptz');
  const keyRaw = keys.map((k) => changed.entities.map((_, r) => read(k, r)));
  const keyTexts = keyRaw.map((raw, i) => raw.map((v) => toPgText(v, (keys[i] as BoundColumn<E>).kind === 'timestamptz')));
  rejectDuplicateKeys(keyTexts, changed);
  const flags = setColumns.map((c) => changed.changes.map((change) => (change.columns ?? []).includes(c.name)));
  const raw = setColumns.map((c, i) => changed.entities.map((_, r) => ((flags[i] as boolean[])[r] ? read(c, r) : null)));
  // Columns that can travel as binary arrays do, unless the rows may go through a stage (COPY).
  const binary =
    target.session.binaryParameters && !mayCopy(options.strategy, target.session, changed.entities.length, COPY_UPDATES)
      ? {
          keys: keyRaw.map((r, i) => binaryParameter(catalog.columns.get((keys[i] as BoundColumn<E>).name), r)),
          values: raw.map((r, i) => binaryParameter(catalog.columns.get((setColumns[i] as BoundColumn<E>).name), r)),
        }
      : undefined;
  // The values' text, encoded when first asked for: not at all when every column travels in binary.
  let texts: (string | null)[][] | undefined;
  const valueTexts = () =>
    raw.map((column, i) => {
      const zoned = (setColumns[i] as BoundColumn<E>).kind === 'timestamptz';
      return column.map((v) => toPgText(v, zoned));
    });
  const checkVersion = version && options.checkVersion !== false;
  const returning = model.returningOnUpdate ?? model.columns.filter((c) => c.role === 'version' || c.role === 'updateDate');
  const returned: BoundColumn<E>[] = [
    ...returning,
    ...setColumns.filter((c) => expressions.has(c.name) && !returning.includes(c)),
  ];
  const stmt: UpdateStatement = {
    table: catalog,
    key: keys.map((k) => k.name),
    columns: setColumns.map(
      (c): UpdateColumn => ({
        name: c.name,
        expression: expressions.get(c.name),
        otherwise: handSet.has(c.name) ? 'CURRENT_TIMESTAMP' : undefined,
      }),
    ),
    version: version?.name,
    versionStep: version ? versionStepOf(version) : undefined,
    touch: touch.map((c) => c.name),
    returning: returned.map((c) => c.name),
  };
  const updateValues: UpdateValues = {
    keys: keyTexts,
    get values() {
      texts ??= valueTexts();
      return texts;
    },
    changed: flags,
    expectedVersions: checkVersion ? changed.entities.map((_, r) => text(version, r)) : changed.entities.map(() => null),
    binary,
  };
  return { changed, stmt, values: updateValues, returned };
}

/** Sends the planned UPDATE (touches no entity: {@link applyUpdate} does). */
export async function sendUpdate<E>(
  options: UpdateOptions,
  planned: PlannedUpdate<E>,
  target: WriteTarget<E>,
  onSent?: () => void,
): Promise<SentUpdate<E>> {
  const { changed, stmt, values } = planned;
  if (!stmt || !values) return { planned, rows: [] };
  const client = await copyClientFor(options.strategy, target.session, changed.entities.length, COPY_UPDATES);
  try {
    if (client) {
      const stage = await copyIntoStage(target.session, client, updateStageColumns(stmt), changed.entities.length, (c, r) =>
        stageField(values, c, r),
      );
      const query = target.session.query(compileUpdate({ ...stmt, stage }, values).sql);
      afterDispatch(onSent);
      const rows = await query;
      await dropStage(target.session, stage);
      return { planned, rows };
    }
    const { sql, parameters } = compileUpdate(stmt, values);
    const query = target.session.query(sql, parameters);
    afterDispatch(onSent);
    return { planned, rows: await query };
  } catch (error) {
    throw convertDatabaseError(
      error,
      { columns: [...stmt.key], values: values.keys.map((k) => [...k]), indices: changed.indices, entities: changed.entities },
      changed.number,
    );
  }
}

/** Returned values onto the entities; a row the UPDATE did not match fails the call; outcomes into `result`. */
export function applyUpdate<E>(sent: SentUpdate<E>, target: WriteTarget<E>, result: BulkResult<E>): void {
  const { changed, stmt, returned } = sent.planned;
  if (!stmt) return;
  const rows = sent.rows;
  const seen = new Set<number>();
  const [summary] = stmt.returning.length === 0 ? rows : [];
  if (summary) {
    // One row: every row matched, or the ordinals of those that did.
    if (Number(summary[UPDATE_MATCHED_COUNT]) < changed.entities.length) {
      for (const ordinal of (summary[UPDATE_MATCHED] as unknown[] | null) ?? []) seen.add(Number(ordinal) - 1);
    } else {
      for (let position = 0; position < changed.entities.length; position++) seen.add(position);
    }
  } else {
    for (const row of rows) {
      const position = Number(row[UPDATE_ORDINAL]) - 1;
      seen.add(position);
      const entity = changed.entities[position] as E;
      for (const [i, column] of returned.entries()) column.write(entity, row[`r${i}`]);
    }
  }
  if (seen.size < changed.entities.length) {
    const stale = changed.entities.map((_, p) => p).filter((p) => !seen.has(p));
    throw new OptimisticLockError(
      stale.map((p) => changed.indices[p] as number),
      stale.map((p) => changed.entities[p] as E),
      changed.number,
    );
  }
  changed.entities.forEach((entity, position) => {
    result.updated++;
    result.outcomes[changed.indices[position] as number] = 'updated';
    target.changes?.updated?.(entity);
  });
}

/**
 * Whether `strategy: 'auto'` stages updates through COPY (large batches): off until the benchmark
 * shows it pays; `'copy'` forces it.
 */
const COPY_UPDATES = false;

/** Column c of row r of an update's stage table (see updateStageColumns). */
function stageField(values: UpdateValues, c: number, r: number): string | null {
  if (c === 0) return String(r + 1);
  let at = c - 1;
  if (at < values.keys.length) return values.keys[at]?.[r] ?? null;
  at -= values.keys.length;
  const column = at >> 1;
  if (column < values.values.length) {
    return at % 2 === 0 ? (values.values[column]?.[r] ?? null) : values.changed[column]?.[r] ? 't' : 'f';
  }
  return values.expectedVersions?.[r] ?? null;
}

function rejectDuplicateKeys<E>(keyTexts: (string | null)[][], batch: UpdateHookBatch<E>): void {
  const seen = new Map<string | null, number>();
  const [only] = keyTexts;
  for (let row = 0; row < batch.entities.length; row++) {
    // A single key column's text is its own map key; a composite key is joined as JSON.
    const key = keyTexts.length === 1 && only ? (only[row] ?? null) : JSON.stringify(keyTexts.map((k) => k[row]));
    const first = seen.get(key);
    if (first !== undefined) {
      throw new DuplicateKeyInBatchError(
        [batch.indices[first] as number, batch.indices[row] as number],
        { key: keyTexts.map((k) => k[row]) },
        batch.entities[row] as E,
        batch.number,
      );
    }
    seen.set(key, row);
  }
}

/** Column name → SQL expression, from the `expressions` option (keys may be properties or columns). */
export function expressionColumns<E>(model: BoundModel<E>, options: UpdateOptions): Map<string, string> {
  return new Map(Object.entries(options.expressions ?? {}).map(([key, sql]) => [columnName(model, key), sql]));
}
