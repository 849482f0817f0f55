import { DELETE_ORDINAL, DELETE_REMOVED, type DeleteStatement, type DeleteValues, matchRows } from './delete-statement.js';
import { quoteIdent } from './identifier.js';
import type { CompiledQuery } from './insert-statement.js';

/**
 * A soft delete of one batch, as data: the rows matched by primary key (versions checked when
 * `version` is given) get their delete-date column set, as an ORM's soft remove sets it.
 */
export interface SoftDeleteStatement extends DeleteStatement {
  /** The delete-date column, set to CURRENT_TIMESTAMP; a row whose column is set already is not matched. */
  readonly deleteDate: string;
  /** An update-date column, set to CURRENT_TIMESTAMP too. */
  readonly updateDate?: string;
  /** A version column, incremented (whether or not it is checked). */
  readonly bumpVersion?: string;
  /** Columns whose new values come back, as `r0`, `r1`… (null on a stale row). */
  readonly returning: readonly string[];
}

/** Result column of a soft delete's `returning` column `i`. */
export const softDeleteReturned = (i: number): string => `r${i}`;

/**
 * Compiles to `WITH u AS MATERIALIZED (unnest(keys…) WITH ORDINALITY), locked AS (… FOR UPDATE),
 * d AS (UPDATE t SET deleted = CURRENT_TIMESTAMP[, version = version + 1][, updated = CURRENT_TIMESTAMP]
 * FROM u WHERE key = u.key AND deleted IS NULL [AND version = u.ver] RETURNING u.ord, …) SELECT ord,
 * true, … FROM d` — the shape of {@link compileDelete}: one statement per batch, the rows locked in
 * key order first. A row soft-deleted already, like one gone, is absent from the result; with a
 * version column, a row found not deleted with another version comes back with `removed` false.
 *
 * @example
 * ```ts
 * compileSoftDelete({ table, key: ['id'], deleteDate: 'deleted_at', returning: ['deleted_at'] }, { keys: [['1', '2']] });
 * // WITH u AS MATERIALIZED (…), locked AS MATERIALIZED (…), d AS (UPDATE … SET "deleted_at" = CURRENT_TIMESTAMP …
 * ```
 */
export function compileSoftDelete(stmt: SoftDeleteStatement, values: DeleteValues): CompiledQuery {
  const m = matchRows(stmt, values);
  const ord = quoteIdent(DELETE_ORDINAL);
  const deleted = `t.${quoteIdent(stmt.deleteDate)}`;
  const set = [`${quoteIdent(stmt.deleteDate)} = CURRENT_TIMESTAMP`];
  if (stmt.bumpVersion) set.push(`${quoteIdent(stmt.bumpVersion)} = t.${quoteIdent(stmt.bumpVersion)} + 1`);
  if (stmt.updateDate) set.push(`${quoteIdent(stmt.updateDate)} = CURRENT_TIMESTAMP`);
  const where = [...m.byKey, '(SELECT count(*) FROM locked) >= 0', `${deleted} IS NULL`, ...m.versionCheck];
  const aliases = stmt.returning.map((_, i) => quoteIdent(softDeleteReturned(i)));
  const returning = stmt.returning.map((c, i) => `, t.${quoteIdent(c)} AS ${aliases[i]}`).join('');
  const upd = `d AS (UPDATE ${m.table} AS t SET ${set.join(', ')} FROM u WHERE ${where.join(' AND ')} RETURNING u.${ord}${returning})`;
  const selected = aliases.map((a) => `, ${a}`).join('');
  const stale = stmt.version ? ` UNION ALL ${m.staleRows(aliases.map(() => ', NULL').join(''), `${deleted} IS NULL`)}` : '';
  const sql = `WITH ${m.ctes}, ${upd} SELECT ${ord}, true AS ${quoteIdent(DELETE_REMOVED)}${selected} FROM d${stale}`;
  return { sql, parameters: m.parameters };
}
