// The column aliases an INSERT's statement gives its rows (the `u` CTE and the unnest `s`) and
// the columns it returns: shared by the statement (insert-statement.ts), its ON CONFLICT clause
// (conflict-clause.ts) and the engine that reads the returned rows.
import { quoteIdent } from './identifier.js';
import type { InsertStatement } from './insert-statement.js';

export const ORDINAL = '__ord';
export const INSERTED = '__inserted';
export const returnedName = (i: number) => `r${i}`;
export const oldName = (i: number) => `o${i}`;

/** Row alias of sent column i's value. */
export const valueAlias = (i: number) => quoteIdent(`v${i}`);
/** Row alias of sent column i's default flag. */
export const defaultAlias = (i: number) => quoteIdent(`d${i}`);
/** Row alias of sent column i's keep flag. */
export const keepAlias = (i: number) => quoteIdent(`k${i}`);
/** Alias of a sent or generated column in `u`. */
export const columnAlias = (name: string, stmt: InsertStatement) => quoteIdent(`c${columnIndex(stmt, name)}`);

function columnIndex(stmt: InsertStatement, name: string): number {
  const sentAt = stmt.sent.findIndex((s) => s.name === name);
  if (sentAt >= 0) return sentAt;
  const genAt = stmt.generatedKeys.indexOf(name);
  if (genAt >= 0) return stmt.sent.length + genAt;
  // Internal assertion: the statement only names columns it sends or generates.
  throw new Error(`cohort internal error: column ${name} is neither sent nor generated`);
}
