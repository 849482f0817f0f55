// A batch's UPDATE, built from the changed rows: keys, changed values and per-row flags (binary
// arrays where the session takes them), with the statement that writes them (update-send.ts sends it).
import type { UpdateHookBatch } from '../../adapter/contract.js';
import type { BoundColumn, BoundModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { readTableCatalog, type TableCatalog } from '../../model/table-catalog.js';
import { binaryParameter } from '../../sql/copy-binary.js';
import { toPgText } from '../../sql/pg-text.js';
import type { UpdateColumn, UpdateStatement, UpdateValues } from '../../sql/update-statement.js';
import { versionStepOf } from '../../sql/version-step.js';
import { AUTO_COPY_UPDATES, mayCopy } from '../copy/copy-strategy.js';
import type { UpdateOptions } from '../options/bulk-options.js';
import { rejectDuplicateKeys } from '../rows/row-keys.js';
import { columnName } from '../upsert/conflict-plan.js';
import type { UpdateContext } from './update-phases.js';

/** A batch's UPDATE, built: the changed rows, the statement and its values. */
export interface PlannedUpdate<E> {
  readonly changed: UpdateHookBatch<E>;
  /** Undefined when no row changed. */
  readonly stmt?: UpdateStatement;
  readonly values?: UpdateValues;
  readonly returned: BoundColumn<E>[];
}

/** Builds the batch's UPDATE from the changed rows (reads the catalog once per table, sends nothing else). */
export async function planUpdate<E>(
  context: UpdateContext<E>,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
): Promise<PlannedUpdate<E>> {
  if (changed.entities.length === 0) return { changed, returned: [] };
  const { model, options, target } = context;
  const catalog = await readTableCatalog(target.session, model as BoundModel<never>);
  const columns = updateColumns(model, options, changed);
  const values = updateValues(context, changed, prepared, catalog, columns);
  const returning = model.returningOnUpdate ?? model.columns.filter((c) => c.role === 'version' || c.role === 'updateDate');
  const returned: BoundColumn<E>[] = [
    ...returning,
    ...columns.set.filter((c) => columns.expressions.has(c.name) && !returning.includes(c)),
  ];
  return { changed, stmt: updateStatement(catalog, columns, returned), values, returned };
}

/** The columns a batch's UPDATE matches, sets, checks and touches. */
interface UpdateColumns<E> {
  readonly keys: BoundColumn<E>[];
  readonly version?: BoundColumn<E>;
  /** Columns some row changed (not keys, not the version, not touched update dates). */
  readonly set: BoundColumn<E>[];
  /** Update-date columns set to the statement's time. */
  readonly touch: BoundColumn<E>[];
  /** Update-date columns some row set by hand. */
  readonly handSet: ReadonlySet<string>;
  /** Column name → SQL expression (the `expressions` option). */
  readonly expressions: Map<string, string>;
}

function updateColumns<E>(model: BoundModel<E>, options: UpdateOptions, changed: UpdateHookBatch<E>): UpdateColumns<E> {
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
  const set = model.columns.filter((c) => c.updatable && touched.has(c.name) && !special.has(c.name));
  return { keys, version, set, touch, handSet, expressions };
}

/** The rows' keys, changed values and flags (refusing a key given twice), read once from the entities. */
function updateValues<E>(
  context: UpdateContext<E>,
  changed: UpdateHookBatch<E>,
  prepared: ReadonlyMap<E, unknown>,
  catalog: TableCatalog,
  columns: UpdateColumns<E>,
): UpdateValues {
  const { options, target } = context;
  const { keys, version, set: setColumns } = columns;
  const rowsPrepared = prepared.size > 0 ? changed.entities.map((e) => prepared.get(e)) : [];
  const read = (c: BoundColumn<E>, r: number) => c.read(changed.entities[r] as E, rowsPrepared[r]);
  const text = (c: BoundColumn<E>, r: number) => toPgText(read(c, r), c.kind === 'timestamptz');
  const keyRaw = keys.map((k) => changed.entities.map((_, r) => read(k, r)));
  const keyTexts = keyRaw.map((raw, i) => raw.map((v) => toPgText(v, (keys[i] as BoundColumn<E>).kind === 'timestamptz')));
  rejectDuplicateKeys(keyTexts, changed);
  const flags = setColumns.map((c) => changed.changes.map((change) => (change.columns ?? []).includes(c.name)));
  const raw = setColumns.map((c, i) => changed.entities.map((_, r) => ((flags[i] as boolean[])[r] ? read(c, r) : null)));
  // Columns that can travel as binary arrays do, unless the rows may go through a stage (COPY).
  const staged = mayCopy(options.strategy, target.session, changed.entities.length, AUTO_COPY_UPDATES);
  const checkVersion = version && options.checkVersion !== false;
  const binary =
    target.session.binaryParameters && !staged
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
  return {
    keys: keyTexts,
    get values() {
      texts ??= valueTexts();
      return texts;
    },
    changed: flags,
    expectedVersions: checkVersion ? changed.entities.map((_, r) => text(version, r)) : changed.entities.map(() => null),
    binary,
    raw: staged
      ? {
          keys: keyRaw,
          values: raw,
          expectedVersions: checkVersion ? changed.entities.map((_, r) => read(version, r)) : undefined,
        }
      : undefined,
  };
}

function updateStatement<E>(catalog: TableCatalog, columns: UpdateColumns<E>, returned: BoundColumn<E>[]): UpdateStatement {
  const { keys, version, handSet, expressions } = columns;
  return {
    table: catalog,
    key: keys.map((k) => k.name),
    columns: columns.set.map(
      (c): UpdateColumn => ({
        name: c.name,
        expression: expressions.get(c.name),
        otherwise: handSet.has(c.name) ? 'CURRENT_TIMESTAMP' : undefined,
      }),
    ),
    version: version?.name,
    versionStep: version ? versionStepOf(version) : undefined,
    touch: columns.touch.map((c) => c.name),
    returning: returned.map((c) => c.name),
  };
}

/** Column name → SQL expression, from the `expressions` option (keys may be properties or columns). */
export function expressionColumns<E>(model: BoundModel<E>, options: UpdateOptions): Map<string, string> {
  return new Map(Object.entries(options.expressions ?? {}).map(([key, sql]) => [columnName(model, key), sql]));
}
