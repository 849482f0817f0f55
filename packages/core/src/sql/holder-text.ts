import { quoteIdent } from './identifier.js';
import type { CompiledQuery } from './insert-statement.js';
import { UnnestArguments } from './unnest-arguments.js';

// Types whose values PostgreSQL prints alike exactly when they are equal (equality is what a
// foreign key matches by), once `holderText` has dropped a numeric's scale and put an instant in
// UTC. Others (citext, interval, floats with -0, …) may print equal values differently.
const EXACT_TEXT = new Set([
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'text',
  'character varying',
  'bpchar',
  'uuid',
  'date',
  'timestamp without time zone',
  'timestamp with time zone',
  'time without time zone',
  'boolean',
  'bytea',
]);

/** Whether {@link holderText} of a column of this type tells equal values from different ones exactly. */
export function exactHolderText(castType: string): boolean {
  return EXACT_TEXT.has(castType);
}

/**
 * The SQL of a value's text as cohort compares a one-to-many item's holder: one text per value of
 * the type, whatever form it was given in (`1.50` and `1.5`, an instant at any offset, a uuid in
 * capitals). For the types of {@link exactHolderText}; a text key keeps its case.
 */
export function holderText(sql: string, castType: string): string {
  if (castType === 'numeric') return `trim_scale(${sql})::text`;
  if (castType === 'timestamp with time zone') return `(${sql} AT TIME ZONE 'UTC')::text`;
  return `${sql}::text`;
}

/**
 * Compiles the {@link holderText} of values given as text, `values[c][r]` of column c of row r, cast
 * to `types[c]`: `SELECT holderText(u.v0::t0) AS "c0", … FROM unnest($1::text[], …) WITH ORDINALITY`,
 * one row per row given, in their order.
 *
 * @example
 * ```ts
 * compileHolderText(['numeric'], [['1.5', '2']]);
 * // SELECT trim_scale(u."v0"::numeric)::text AS "c0" FROM unnest($1::text[]) WITH ORDINALITY AS u("v0", "ord") ORDER BY u."ord"
 * ```
 */
export function compileHolderText(types: readonly string[], values: readonly (readonly (string | null)[])[]): CompiledQuery {
  const args = new UnnestArguments();
  const select = types.map((type, c) => {
    args.add(values[c], 'text', `v${c}`);
    return `${holderText(`u.${quoteIdent(`v${c}`)}::${type}`, type)} AS ${quoteIdent(`c${c}`)}`;
  });
  const sql =
    `SELECT ${select.join(', ')} FROM unnest(${args.args.join(', ')}) WITH ORDINALITY ` +
    `AS u(${[...args.aliases, quoteIdent('ord')].join(', ')}) ORDER BY u.${quoteIdent('ord')}`;
  return { sql, parameters: args.parameters };
}
