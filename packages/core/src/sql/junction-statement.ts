import type { ForeignKeyUpdate } from '../model/entity-model.js';
import type { CatalogColumn, TableCatalog } from '../model/table-catalog.js';
import { holderText } from './holder-text.js';
import { quoteIdent } from './identifier.js';
import { type CompiledQuery, missingColumn } from './insert-statement.js';
import { UnnestArguments } from './unnest-arguments.js';

/** The junction rows of one batch, as data: a many-to-many relation's links to insert or to delete. */
export interface JunctionStatement {
  readonly table: TableCatalog;
  /** The junction's columns, in the order of each link's values. */
  readonly columns: readonly string[];
  /** A one-to-many's child table whose foreign key is set or cleared (see {@link compileForeignKeyUpdate}). */
  readonly foreignKey?: ForeignKeyUpdate;
}

/**
 * Compiles the links to add to `INSERT INTO j (a, b) SELECT … FROM unnest($1::t[], $2::t[]) AS u(a, b)`:
 * one statement for every link of the batch, whose text does not depend on their number. `values[c][r]`
 * is the text of column c of link r (typed array parameters where the column's type allows, else text
 * cast in SQL, as in the engine's INSERT).
 *
 * @example
 * ```ts
 * compileJunctionInsert({ table, columns: ['post_id', 'tag_id'] }, [['1', '1'], ['7', '8']]);
 * // INSERT INTO "s"."post_tag" ("post_id", "tag_id") SELECT u."post_id", u."tag_id" FROM unnest($1::integer[], $2::integer[]) AS u("post_id", "tag_id")
 * ```
 */
export function compileJunctionInsert(stmt: JunctionStatement, values: readonly (readonly (string | null)[])[]): CompiledQuery {
  const { args, select } = rowSource(stmt, values);
  const columns = stmt.columns.map(quoteIdent).join(', ');
  const sql =
    `INSERT INTO ${stmt.table.qualifiedName} (${columns}) SELECT ${select.join(', ')} ` +
    `FROM unnest(${args.args.join(', ')}) AS u(${args.aliases.join(', ')})`;
  return { sql, parameters: args.parameters };
}

/**
 * Compiles the links to remove to `DELETE FROM j USING unnest($1::t[], $2::t[]) AS u(a, b) WHERE
 * j.a = u.a AND j.b = u.b`: one statement for every link of the batch.
 *
 * @example
 * ```ts
 * compileJunctionDelete({ table, columns: ['post_id', 'tag_id'] }, [['1'], ['2']]);
 * // DELETE FROM "s"."post_tag" AS j USING unnest($1::integer[], $2::integer[]) AS u("post_id", "tag_id") WHERE j."post_id" = u."post_id" AND j."tag_id" = u."tag_id"
 * ```
 */
export function compileJunctionDelete(stmt: JunctionStatement, values: readonly (readonly (string | null)[])[]): CompiledQuery {
  const { args, select } = rowSource(stmt, values);
  const match = stmt.columns.map((name, c) => `j.${quoteIdent(name)} = ${select[c]}`);
  const sql =
    `DELETE FROM ${stmt.table.qualifiedName} AS j USING unnest(${args.args.join(', ')}) AS u(${args.aliases.join(', ')}) ` +
    `WHERE ${match.join(' AND ')}`;
  return { sql, parameters: args.parameters };
}

/**
 * Compiles the foreign keys of a one-to-many's items to set (or clear: NULL values) to `UPDATE t AS j
 * SET fk = u.fk FROM unnest($1::t[], $2::t[]) AS u(id, fk) WHERE j.id = u.id`: one statement for every
 * item of the batch. Update-date and version columns change as in the ORM's own UPDATE of the item.
 * `returnHolders`: the statement also returns, per item updated, its foreign key before (`old0`…)
 * and after (`new0`…), as {@link holderText}, and the position of its link in `values` (`link`, from 1;
 * see item-moves.ts).
 *
 * @example
 * ```ts
 * compileForeignKeyUpdate({ table, columns: ['id', 'shop_id'], foreignKey: { keyColumns: 1 } }, [['4'], ['1']]);
 * // UPDATE "purchase_order" AS j SET "shop_id" = u."shop_id" FROM unnest($1::integer[], $2::integer[]) AS u("id", "shop_id") WHERE j."id" = u."id"
 * ```
 */
export function compileForeignKeyUpdate(
  stmt: JunctionStatement,
  values: readonly (readonly (string | null)[])[],
  returnHolders = false,
): CompiledQuery {
  const { args, select } = rowSource(stmt, values);
  const keys = stmt.foreignKey?.keyColumns ?? 0;
  const set = stmt.columns.slice(keys).map((name, c) => `${quoteIdent(name)} = ${select[keys + c]}`);
  for (const name of stmt.foreignKey?.now ?? []) set.push(`${quoteIdent(name)} = CURRENT_TIMESTAMP`);
  for (const name of stmt.foreignKey?.increment ?? []) set.push(`${quoteIdent(name)} = j.${quoteIdent(name)} + 1`);
  const match = stmt.columns.slice(0, keys).map((name, c) => `j.${quoteIdent(name)} = ${select[c]}`);
  const source = `UPDATE ${stmt.table.qualifiedName} AS j SET ${set.join(', ')} FROM unnest(${args.args.join(', ')})`;
  if (!returnHolders) {
    return { sql: `${source} AS u(${args.aliases.join(', ')}) WHERE ${match.join(' AND ')}`, parameters: args.parameters };
  }
  // The same table joined again reads each item's row as it was before this statement (the
  // statement's snapshot): its holder before, next to the holder the statement gives it.
  const before = stmt.columns.slice(0, keys).map((name) => `o.${quoteIdent(name)} = j.${quoteIdent(name)}`);
  const fks = stmt.columns.slice(keys);
  // The links' positions, under a name no column has.
  let ord = 'cohort_link';
  while (stmt.columns.includes(ord)) ord += '_';
  const text = (alias: string, name: string) => holderText(`${alias}.${quoteIdent(name)}`, catalogColumn(stmt, name).castType);
  const returning = [
    ...fks.map((name, c) => `${text('o', name)} AS "old${c}"`),
    ...fks.map((name, c) => `${text('j', name)} AS "new${c}"`),
    `u.${quoteIdent(ord)} AS "link"`,
  ];
  const sql =
    `${source} WITH ORDINALITY AS u(${[...args.aliases, quoteIdent(ord)].join(', ')}), ${stmt.table.qualifiedName} AS o ` +
    `WHERE ${[...match, ...before].join(' AND ')} RETURNING ${returning.join(', ')}`;
  return { sql, parameters: args.parameters };
}

/** The `unnest` arguments of the links, and per column its value in the row source (cast when sent as text). */
function rowSource(stmt: JunctionStatement, values: readonly (readonly (string | null)[])[]) {
  const args = new UnnestArguments();
  const select: string[] = [];
  stmt.columns.forEach((name, c) => {
    const column = catalogColumn(stmt, name);
    args.add(values[c], column.paramType ?? 'text', name);
    const value = `u.${quoteIdent(name)}`;
    select.push(column.paramType ? value : `${value}::${column.castType}`);
  });
  return { args, select };
}

function catalogColumn(stmt: JunctionStatement, name: string): CatalogColumn {
  const column = stmt.table.columns.get(name);
  if (!column) throw missingColumn(name, stmt.table.qualifiedName);
  return column;
}
