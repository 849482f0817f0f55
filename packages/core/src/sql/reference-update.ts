import type { CatalogColumn, TableCatalog } from '../model/table-catalog.js';
import { quoteIdent } from './identifier.js';
import { type CompiledQuery, missingColumn } from './insert-statement.js';
import { UnnestArguments } from './unnest-arguments.js';
import { nextVersionSql, type VersionStep } from './version-step.js';

/** The name the ordinal of each row of a reference UPDATE is returned under. */
export const REFERENCE_ORDINAL = 'cohort_ordinal';

/** A follow-up UPDATE of foreign keys, as data: the rows are matched by `keys`, `set` is written. */
export interface ReferenceUpdate {
  readonly table: TableCatalog;
  /** The primary-key columns that find each row. */
  readonly keys: readonly string[];
  /** The foreign-key columns written. */
  readonly set: readonly string[];
  /** The version column, moved on as the ORMs' own UPDATE moves it. */
  readonly version?: string;
  readonly versionStep?: VersionStep;
  /** Update-date columns set to the statement's time. */
  readonly touch?: readonly string[];
  /**
   * Columns returned per row (as `r0`, `r1`…, with the row's 1-based position as
   * {@link REFERENCE_ORDINAL}); none: the statement returns nothing.
   */
  readonly returning?: readonly string[];
}

/**
 * Compiles one UPDATE of the foreign keys of many rows (a tree's parents, known once the batch's
 * INSERT returned their keys): `values[c][r]` is the text of column c (keys, then set) of row r.
 *
 * @example
 * ```ts
 * compileReferenceUpdate({ table, keys: ['id'], set: ['parent_id'] }, [['1', '2'], ['2', null]]);
 * // UPDATE "s"."category" AS t SET "parent_id" = u."parent_id" FROM unnest($1::integer[], $2::integer[]) AS u("id", "parent_id") WHERE t."id" = u."id"
 * ```
 */
export function compileReferenceUpdate(stmt: ReferenceUpdate, values: readonly (readonly (string | null)[])[]): CompiledQuery {
  const args = new UnnestArguments();
  const select: string[] = [];
  [...stmt.keys, ...stmt.set].forEach((name, c) => {
    const column = catalogColumn(stmt.table, name);
    args.add(values[c], column.paramType ?? 'text', name);
    const value = `u.${quoteIdent(name)}`;
    select.push(column.paramType ? value : `${value}::${column.castType}`);
  });
  const set = stmt.set.map((name, c) => `${quoteIdent(name)} = ${select[stmt.keys.length + c]}`);
  if (stmt.version) {
    set.push(`${quoteIdent(stmt.version)} = ${nextVersionSql(stmt.versionStep, `t.${quoteIdent(stmt.version)}`)}`);
  }
  for (const name of stmt.touch ?? []) set.push(`${quoteIdent(name)} = CURRENT_TIMESTAMP`);
  const match = stmt.keys.map((name, c) => `t.${quoteIdent(name)} = ${select[c]}`);
  const returning = stmt.returning ?? [];
  const ordinal = returning.length > 0 ? ' WITH ORDINALITY' : '';
  const aliases = returning.length > 0 ? [...args.aliases, quoteIdent(REFERENCE_ORDINAL)] : args.aliases;
  const returned = returning.map((name, i) => `t.${quoteIdent(name)} AS ${quoteIdent(`r${i}`)}`);
  const sql =
    `UPDATE ${stmt.table.qualifiedName} AS t SET ${set.join(', ')} ` +
    `FROM unnest(${args.args.join(', ')})${ordinal} AS u(${aliases.join(', ')}) WHERE ${match.join(' AND ')}` +
    (returning.length > 0 ? ` RETURNING u.${quoteIdent(REFERENCE_ORDINAL)}, ${returned.join(', ')}` : '');
  return { sql, parameters: args.parameters };
}

function catalogColumn(table: TableCatalog, name: string): CatalogColumn {
  const column = table.columns.get(name);
  if (!column) throw missingColumn(name, table.qualifiedName);
  return column;
}
