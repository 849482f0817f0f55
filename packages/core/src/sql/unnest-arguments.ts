import { quoteIdent } from './identifier.js';

/**
 * The array parameters of an `unnest($1::t1[], $2::t2[], …) AS s(a1, a2, …)` row source, added one
 * column at a time: the statement's parameters, the typed arguments and the aliases, in step.
 */
export class UnnestArguments {
  readonly parameters: unknown[] = [];
  readonly args: string[] = [];
  readonly aliases: string[] = [];

  /** Adds one column: its array of values, sent as `type[]`, named `alias` in the row source. */
  add(values: unknown, type: string, alias: string): void {
    this.parameters.push(values);
    this.args.push(`$${this.parameters.length}::${type}[]`);
    this.aliases.push(quoteIdent(alias));
  }
}

/** Whether a column of this type sorts by a collation (text, varchar, char). */
export function collatable(castType: string): boolean {
  return /^(text|character varying|varchar|character|char|bpchar)\b/i.test(castType);
}

/**
 * A key column in the order the engine cuts an array into batches: text in byte order (COLLATE "C"),
 * whatever the database's collation; other types as they sort.
 */
export function inKeyOrder(columnSql: string, castType: string): string {
  return collatable(castType) ? `${columnSql} COLLATE "C"` : columnSql;
}
