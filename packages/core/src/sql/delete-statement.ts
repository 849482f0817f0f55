import { type CatalogColumn, type TableCatalog, typedParameter } from '../model/table-catalog.js';
import { quoteIdent } from './identifier.js';
import type { CompiledQuery } from './insert-statement.js';
import { missingColumn } from './insert-statement.js';
import { inKeyOrder, UnnestArguments } from './unnest-arguments.js';

/** A DELETE of one batch, as data: rows matched by primary key, versions checked when given. */
export interface DeleteStatement {
  readonly table: TableCatalog;
  readonly key: readonly string[];
  /** Version column: a row is removed only when it still has the entity's version (when one is given). */
  readonly version?: string;
}

/** Parameters of a compiled delete, column-major: per key column its values, then the expected versions. */
export interface DeleteValues {
  readonly keys: readonly (readonly (string | null)[])[];
  /** Per row the version it must still have, or null to remove it whatever its version. */
  readonly expectedVersions?: readonly (string | null)[];
}

/** Result column: the row's 1-based position in the batch. */
export const DELETE_ORDINAL = '__ord';
/** Result column: true for a row the DELETE removed, false for one it found with another version (stale). */
export const DELETE_REMOVED = 'removed';
/** Result column of a DELETE matched by `= ANY` ({@link compileDelete}): the removed row's key as text. */
export const DELETE_KEY = '__key';

/**
 * Compiles to `WITH u AS (SELECT … FROM unnest(keys…) WITH ORDINALITY), locked AS (… FOR UPDATE),
 * d AS (DELETE FROM t USING u WHERE key = u.key [AND version = u.ver] RETURNING u.ord) SELECT ord,
 * true FROM d` — one statement per batch whose text does not depend on the row count, for simple and
 * composite keys alike. With a version column, the rows it found with another version come back too
 * (`removed` false): every part of one statement reads the same snapshot, so the outer SELECT still
 * sees the rows the DELETE removed and tells a stale row from one already gone (absent).
 * The rows are locked first in key order, as updates lock them, so concurrent calls cannot deadlock.
 *
 * @example
 * ```ts
 * compileDelete({ table, key: ['id'] }, { keys: [['1', '2']] });
 * // WITH u AS MATERIALIZED (SELECT * FROM unnest($1::int4[]) WITH ORDINALITY AS s("k0", "__ord")), … DELETE …
 * ```
 */
export function compileDelete(stmt: DeleteStatement, values: DeleteValues): CompiledQuery {
  const byAny = deleteByAny(stmt, values);
  if (byAny) return byAny;
  const m = matchRows(stmt, values);
  const ord = quoteIdent(DELETE_ORDINAL);
  const where = [...m.byKey, '(SELECT count(*) FROM locked) >= 0', ...m.versionCheck];
  const del = `d AS (DELETE FROM ${m.table} AS t USING u WHERE ${where.join(' AND ')} RETURNING u.${ord})`;
  const stale = stmt.version ? ` UNION ALL ${m.staleRows('')}` : '';
  const sql = `WITH ${m.ctes}, ${del} SELECT ${ord}, true AS ${quoteIdent(DELETE_REMOVED)} FROM d${stale}`;
  return { sql, parameters: m.parameters };
}

// Key types whose text PostgreSQL prints back exactly as the engine wrote it when the engine's
// text is canonical: integers in plain decimal, uuids in lower-case hyphenated form.
const CANONICAL_KEY_TEXT: Readonly<Record<string, RegExp>> = {
  smallint: /^(0|-?[1-9][0-9]*)$/,
  integer: /^(0|-?[1-9][0-9]*)$/,
  bigint: /^(0|-?[1-9][0-9]*)$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
};

/**
 * The faster form of a batch's DELETE where one is sure to be equivalent: one key column of an
 * integer or uuid type, no version check, every key's text canonical. `WITH locked AS (SELECT … WHERE
 * key = ANY($1) ORDER BY key FOR UPDATE) DELETE … WHERE key = ANY($1) RETURNING key::text` — the rows
 * locked in key order as in the general form, without joining an `unnest` of the keys twice. The
 * returned key texts tell the engine which rows were removed (see DELETE_KEY).
 */
function deleteByAny(stmt: DeleteStatement, values: DeleteValues): CompiledQuery | undefined {
  const [key, ...more] = stmt.key;
  const keys = values.keys[0];
  if (key === undefined || more.length > 0 || stmt.version || !keys) return undefined;
  const column = catalogColumn(stmt, key);
  const canonical = column.paramType ? CANONICAL_KEY_TEXT[column.paramType] : undefined;
  if (!canonical || !keys.every((text) => text !== null && canonical.test(text))) return undefined;
  const table = stmt.table.qualifiedName;
  const k = `t.${quoteIdent(key)}`;
  const match = `${k} = ANY($1::${column.paramType}[])`;
  const lock = `locked AS MATERIALIZED (SELECT 1 FROM ${table} AS t WHERE ${match} ORDER BY ${k} FOR UPDATE OF t)`;
  const sql =
    `WITH ${lock} DELETE FROM ${table} AS t WHERE ${match} AND (SELECT count(*) FROM locked) >= 0 ` +
    `RETURNING ${k}::text AS ${quoteIdent(DELETE_KEY)}, true AS ${quoteIdent(DELETE_REMOVED)}`;
  return { sql, parameters: [keys] };
}

/** The parts of a statement that matches a batch's rows by key (and version): see {@link compileDelete}. */
export interface RowMatch {
  readonly parameters: unknown[];
  /** `u AS MATERIALIZED (…), locked AS MATERIALIZED (…)`: the batch's keys, and its rows locked in key order. */
  readonly ctes: string;
  readonly table: string;
  /** `t.key = u.k0`, per key column. */
  readonly byKey: readonly string[];
  /** The version condition, when the statement has a version column (else empty). */
  readonly versionCheck: readonly string[];
  /** `SELECT u.ord, false[, extra] FROM u JOIN t … WHERE [condition AND] not in d`: the rows found but not written. */
  staleRows(extra: string, condition?: string): string;
}

/** Builds the parts shared by a DELETE and a soft delete of a batch matched by key. */
export function matchRows(stmt: DeleteStatement, values: DeleteValues): RowMatch {
  const unnest = new UnnestArguments();
  const add = (value: unknown, type: string, alias: string) => unnest.add(value, type, alias);
  const { parameters, args, aliases } = unnest;
  const typed = (column: string) => typedParameter(catalogColumn(stmt, column), undefined);
  for (const [i, k] of stmt.key.entries()) add(values.keys[i], typed(k) ?? 'text', `k${i}`);
  if (stmt.version) add(values.expectedVersions ?? values.keys[0]?.map(() => null), typed(stmt.version) ?? 'text', 'ver');

  const cast = (column: string, alias: string) =>
    typed(column) ? `u.${quoteIdent(alias)}` : `u.${quoteIdent(alias)}::${catalogColumn(stmt, column).castType}`;
  const byKey = stmt.key.map((k, i) => `t.${quoteIdent(k)} = ${cast(k, `k${i}`)}`);
  const keyOrder = stmt.key.map((k) => inKeyOrder(`t.${quoteIdent(k)}`, catalogColumn(stmt, k).castType));
  const table = stmt.table.qualifiedName;
  const ord = quoteIdent(DELETE_ORDINAL);
  const versionCheck = stmt.version ? [`(u."ver" IS NULL OR t.${quoteIdent(stmt.version)} = ${cast(stmt.version, 'ver')})`] : [];
  const source = `SELECT * FROM unnest(${args.join(', ')}) WITH ORDINALITY AS s(${[...aliases, ord].join(', ')})`;
  const lock = `locked AS MATERIALIZED (SELECT 1 FROM ${table} AS t JOIN u ON ${byKey.join(' AND ')} ORDER BY ${keyOrder.join(', ')} FOR UPDATE OF t)`;
  return {
    parameters,
    ctes: `u AS MATERIALIZED (${source}), ${lock}`,
    table,
    byKey,
    versionCheck,
    staleRows: (extra, condition) =>
      `SELECT u.${ord}, false${extra} FROM u JOIN ${table} AS t ON ${byKey.join(' AND ')} ` +
      `WHERE ${condition ? `${condition} AND ` : ''}NOT EXISTS (SELECT 1 FROM d WHERE d.${ord} = u.${ord})`,
  };
}

function catalogColumn(stmt: DeleteStatement, column: string): CatalogColumn {
  const col = stmt.table.columns.get(column);
  if (!col) throw missingColumn(column, stmt.table.qualifiedName);
  return col;
}
