import { quoteIdent } from './identifier.js';
import { columnAlias, keepAlias } from './insert-aliases.js';
import type { InsertStatement } from './insert-statement.js';

/** What to do when a row conflicts with an existing one. */
export type ConflictAction =
  | { kind: 'error' }
  | { kind: 'ignore'; target?: readonly string[] }
  | {
      kind: 'update';
      target: readonly string[];
      set: readonly ConflictSet[];
      /** Optional condition (SQL over `t` and `excluded`); rows where it is false are skipped. */
      where?: string;
      /**
       * The update's condition is only "some value it writes differs from the stored one" (made from
       * the SET, `compare`): a row it skips is unchanged, not skipped. Not with `where`.
       */
      skipsUnchanged?: boolean;
    };

/** One column an upsert's update writes. */
export interface ConflictSet {
  readonly column: string;
  /** SQL expression over `excluded` and the table alias `t` (default `excluded."col"`). */
  readonly expr?: string;
  /** The value written is the row's own (`excluded`): a row that does not give it writes nothing. */
  readonly fromRow?: boolean;
  /**
   * Rows flagged `keep` for this column (see {@link InsertStatement.sent}) leave the stored value
   * as it is; the others write `expr`.
   */
  readonly unlessKept?: boolean;
  /** With `skipsUnchanged`: how the value written is compared with the stored one (as is, or as text). */
  readonly compare?: 'value' | 'text';
}

/** The statement's `ON CONFLICT` clause (empty when a conflict is an error). */
export function conflictClause(stmt: InsertStatement): string {
  const conflict = stmt.conflict;
  switch (conflict.kind) {
    case 'error':
      return '';
    case 'ignore':
      return conflict.target?.length
        ? ` ON CONFLICT (${conflict.target.map(quoteIdent).join(', ')}) DO NOTHING`
        : ' ON CONFLICT DO NOTHING';
    case 'update': {
      const values = conflict.set.map((s) => {
        const value = s.expr ?? `excluded.${quoteIdent(s.column)}`;
        return s.unlessKept ? unlessKept(stmt, conflict.target, s.column, value) : value;
      });
      const set = conflict.set.map((s, i) => `${quoteIdent(s.column)} = ${values[i]}`);
      const condition = conflict.skipsUnchanged ? valuesDiffer(conflict.set, values) : conflict.where;
      const where = condition ? ` WHERE ${condition}` : '';
      return ` ON CONFLICT (${conflict.target.map(quoteIdent).join(', ')}) DO UPDATE SET ${set.join(', ')}${where}`;
    }
  }
}

/** True when the update would change a value of the stored row `t` (a row that keeps a column does not). */
function valuesDiffer(set: readonly ConflictSet[], values: readonly string[]): string {
  const compared = set.flatMap((s, i) => {
    if (!s.compare) return [];
    const text = s.compare === 'text' ? '::text' : '';
    return [`t.${quoteIdent(s.column)}${text} IS DISTINCT FROM (${values[i]})${text}`];
  });
  return compared.length > 0 ? `(${compared.join(' OR ')})` : 'false';
}

/**
 * `CASE WHEN <the row keeps it> THEN t."col" ELSE value END`. The update sees only `t` and
 * `excluded`, not the row's flags: the conflict target (unique within a batch) finds them in `u`,
 * through an uncorrelated `IN (SELECT …)` PostgreSQL hashes once per statement.
 */
function unlessKept(stmt: InsertStatement, target: readonly string[], column: string, value: string): string {
  const at = stmt.sent.findIndex((s) => s.name === column);
  // Internal assertion: called only for columns sent with keep flags.
  if (at < 0 || !stmt.sent[at]?.kept) throw new Error(`cohort internal error: column ${column} has no keep flags`);
  const key = target.map((n) => `excluded.${quoteIdent(n)}`).join(', ');
  const source = target.map((n) => `u.${columnAlias(n, stmt)}`).join(', ');
  return `CASE WHEN (${key}) IN (SELECT ${source} FROM u WHERE u.${keepAlias(at)}) THEN t.${quoteIdent(column)} ELSE ${value} END`;
}
