import { type CatalogColumn, type TableCatalog, typedParameter } from '../model/table-catalog.js';
import { quoteIdent } from './identifier.js';
import type { CompiledQuery } from './insert-statement.js';
import { missingColumn } from './insert-statement.js';
import { inKeyOrder, UnnestArguments } from './unnest-arguments.js';
import { nextVersionSql, type VersionStep } from './version-step.js';

/** One column an UPDATE may set: per row, a value and whether this row changes it. */
export interface UpdateColumn {
  readonly name: string;
  /** SQL replacing the value, with `{current}` (the row's current value) and `{value}` (this row's value). */
  readonly expression?: string;
  /** SQL for the rows that do not change the column (default: the current value). */
  readonly otherwise?: string;
}

/** An UPDATE of one batch, as data: rows matched by primary key, changed columns set per row. */
export interface UpdateStatement {
  readonly table: TableCatalog;
  readonly key: readonly string[];
  readonly columns: readonly UpdateColumn[];
  /** Version column: checked against the row's expected version (when given) and moved on. */
  readonly version?: string;
  /** How the version moves on (default: incremented). */
  readonly versionStep?: VersionStep;
  /** Columns set to the statement's timestamp on every updated row. */
  readonly touch: readonly string[];
  readonly returning: readonly string[];
  /**
   * Read the rows from this temporary table (filled by COPY) instead of array parameters: its columns
   * are those of {@link updateStageColumns}.
   */
  readonly stage?: string;
}

/** Parameters of a compiled update, column-major. */
export interface UpdateValues {
  readonly keys: readonly (readonly (string | null)[])[];
  readonly values: readonly (readonly (string | null)[])[];
  readonly changed: readonly (readonly boolean[])[];
  readonly expectedVersions?: readonly (string | null)[];
  /**
   * Binary arrays standing in for `keys` and `values` (same positions; undefined where a column
   * travels as text), for columns with a typed parameter; not used with a stage.
   */
  readonly binary?: { readonly keys: readonly (Buffer | undefined)[]; readonly values: readonly (Buffer | undefined)[] };
  /**
   * The values of `keys`, `values` and `expectedVersions` as the driver would get them (before
   * their text), for a stage filled in COPY's binary format; absent when the rows cannot go
   * through a stage.
   */
  readonly raw?: {
    readonly keys: readonly (readonly unknown[])[];
    readonly values: readonly (readonly unknown[])[];
    readonly expectedVersions?: readonly unknown[];
  };
}

export const UPDATE_ORDINAL = '__ord';
/** Result columns of an update that reads nothing back (see compileUpdate). */
export const UPDATE_MATCHED_COUNT = 'matched_count';
export const UPDATE_MATCHED = 'matched';

/** Columns of an update's stage table, in COPY order: ordinal, keys, values and flags, version. */
export function updateStageColumns(stmt: Pick<UpdateStatement, 'key' | 'columns' | 'version'>): { name: string; type: string }[] {
  return [
    { name: UPDATE_ORDINAL, type: 'int8' },
    ...stmt.key.map((_, i) => ({ name: `k${i}`, type: 'text' })),
    ...stmt.columns.flatMap((_, i) => [
      { name: `v${i}`, type: 'text' },
      { name: `ch${i}`, type: 'boolean' },
    ]),
    ...(stmt.version ? [{ name: 'ver', type: 'text' }] : []),
  ];
}

/**
 * Compiles to `WITH u AS (SELECT … FROM unnest(…) WITH ORDINALITY) UPDATE t SET col = CASE WHEN
 * changed THEN value ELSE col END … FROM u WHERE key = u.key [AND version = u.version] RETURNING
 * u.ord, …`: one statement per batch whose text does not depend on the row count. A column is only
 * written on the rows that changed it, so concurrent writers of other columns are not overwritten.
 * Rows the WHERE clause does not match (stale version, row gone) are absent from the result (with
 * nothing to return, from the `matched` ordinals of its one row).
 */
export function compileUpdate(stmt: UpdateStatement, values: UpdateValues): CompiledQuery {
  // A column every row changes is set without its per-row flag (and the flag is not sent).
  const everyRow = stmt.columns.map((_, i) => (values.changed[i] ?? []).every(Boolean));
  // A column of a type with a typed array parameter arrives typed; others (and a stage's columns)
  // as text, cast here.
  const typed = (column: string) => typedParameter(catalogColumn(stmt, column), stmt.stage);
  const { parameters, args, aliases } = updateParameters(stmt, values, everyRow, typed);
  const cast = (column: string, alias: string) =>
    typed(column) ? `u.${quoteIdent(alias)}` : `u.${quoteIdent(alias)}::${catalogColumn(stmt, column).castType}`;
  const sets = updateSets(stmt, everyRow, cast);
  const { lock, where } = lockedMatch(stmt, cast);
  const returning = [
    `u.${quoteIdent(UPDATE_ORDINAL)}`,
    ...stmt.returning.map((r, i) => `t.${quoteIdent(r)} AS ${quoteIdent(`r${i}`)}`),
  ];
  const source = stmt.stage
    ? `SELECT * FROM ${quoteIdent(stmt.stage)}`
    : `SELECT * FROM unnest(${args.join(', ')}) WITH ORDINALITY AS s(${[...aliases, quoteIdent(UPDATE_ORDINAL)].join(', ')})`;
  // With nothing to read back, one row comes back instead of one per row: how many rows matched and,
  // only when some did not (stale version, row gone), the ordinals of those that did.
  const result =
    stmt.returning.length === 0
      ? `SELECT count(*)::int8 AS ${quoteIdent(UPDATE_MATCHED_COUNT)}, CASE WHEN count(*) < (SELECT count(*) FROM u) ` +
        `THEN array_agg(${quoteIdent(UPDATE_ORDINAL)}) END AS ${quoteIdent(UPDATE_MATCHED)} FROM upd`
      : 'SELECT * FROM upd ORDER BY 1';
  const sql =
    `WITH u AS MATERIALIZED (${source}), ${lock}, ` +
    `upd AS (UPDATE ${stmt.table.qualifiedName} AS t SET ${sets.join(', ')} FROM u WHERE ${where.join(' AND ')} ` +
    `RETURNING ${returning.join(', ')}) ${result}`;
  return { sql, parameters: stmt.stage ? [] : parameters };
}

/** The unnest's array parameters (keys, values and their flags, expected versions) and their aliases. */
function updateParameters(
  stmt: UpdateStatement,
  values: UpdateValues,
  everyRow: readonly boolean[],
  typed: (column: string) => string | undefined,
): { parameters: unknown[]; args: string[]; aliases: string[] } {
  const unnest = new UnnestArguments();
  const add = (value: unknown, type: string, alias: string) => unnest.add(value, type, alias);
  const { parameters, args, aliases } = unnest;
  const binary = stmt.stage ? undefined : values.binary;
  for (const [i, k] of stmt.key.entries()) add(binary?.keys[i] ?? values.keys[i], typed(k) ?? 'text', `k${i}`);
  stmt.columns.forEach((c, i) => {
    add(binary?.values[i] ?? values.values[i], typed(c.name) ?? 'text', `v${i}`);
    if (!everyRow[i]) add(values.changed[i], 'boolean', `ch${i}`);
  });
  if (stmt.version) add(values.expectedVersions, typed(stmt.version) ?? 'text', 'ver');
  return { parameters, args, aliases };
}

/** The SET list: changed columns (per row unless every row changed them), the version, touched dates. */
function updateSets(
  stmt: UpdateStatement,
  everyRow: readonly boolean[],
  cast: (column: string, alias: string) => string,
): string[] {
  const sets = stmt.columns.map((c, i) => {
    const current = `t.${quoteIdent(c.name)}`;
    const value = cast(c.name, `v${i}`);
    const next = c.expression ? `(${c.expression.replaceAll('{current}', current).replaceAll('{value}', value)})` : value;
    if (everyRow[i]) return `${quoteIdent(c.name)} = ${next}`;
    return `${quoteIdent(c.name)} = CASE WHEN u.${quoteIdent(`ch${i}`)} THEN ${next} ELSE ${c.otherwise ?? current} END`;
  });
  if (stmt.version) {
    sets.push(`${quoteIdent(stmt.version)} = ${nextVersionSql(stmt.versionStep, `t.${quoteIdent(stmt.version)}`)}`);
  }
  for (const column of stmt.touch) sets.push(`${quoteIdent(column)} = CURRENT_TIMESTAMP`);
  return sets;
}

/** The `locked` CTE (rows locked in key order) and the WHERE that matches rows by key (and version). */
function lockedMatch(stmt: UpdateStatement, cast: (column: string, alias: string) => string): { lock: string; where: string[] } {
  const byKey = stmt.key.map((k, i) => `t.${quoteIdent(k)} = ${cast(k, `k${i}`)}`);
  // The rows are locked first, in key order (text keys in byte order, COLLATE "C"), the order the
  // engine cuts an array into batches in: concurrent updates of overlapping rows then lock them in
  // one order and cannot deadlock (the UPDATE's own join visits rows in whatever order its plan gives).
  const keyOrder = stmt.key.map((k) => inKeyOrder(`t.${quoteIdent(k)}`, catalogColumn(stmt, k).castType));
  const lock =
    `locked AS MATERIALIZED (SELECT 1 FROM ${stmt.table.qualifiedName} AS t JOIN u ON ${byKey.join(' AND ')} ` +
    `ORDER BY ${keyOrder.join(', ')} FOR UPDATE OF t)`;
  const where = [...byKey, '(SELECT count(*) FROM locked) >= 0'];
  if (stmt.version) {
    where.push(`(u."ver" IS NULL OR t.${quoteIdent(stmt.version)} = ${cast(stmt.version, 'ver')})`);
  }
  return { lock, where };
}

function catalogColumn(stmt: UpdateStatement, column: string): CatalogColumn {
  const col = stmt.table.columns.get(column);
  if (!col) throw missingColumn(column, stmt.table.qualifiedName);
  return col;
}
