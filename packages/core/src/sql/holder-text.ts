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

// A number as PostgreSQL's numeric input reads it, in decimal (an exponent of at most 4 digits, so
// that the cast to numeric cannot overflow): what a key of a numeric type prints.
const DECIMAL = "'^[[:space:]]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,4})?[[:space:]]*$'";
const NAN = "'^[[:space:]]*nan[[:space:]]*$'";
const INFINITY = "'^[[:space:]]*[+-]?inf(inity)?[[:space:]]*$'";
const INTEGER_RANGE: Record<string, readonly [string, string]> = {
  smallint: ['-32768', '32767'],
  integer: ['-2147483648', '2147483647'],
  bigint: ['-9223372036854775808', '9223372036854775807'],
};

/**
 * The SQL of text `sql` cast to `castType`, NULL where the text is no value of the type: a key of a
 * wider column (bigint, numeric, a float) that an integer foreign key cannot hold (out of range, a
 * fraction, NaN, an infinity), an infinity for a numeric before PostgreSQL 14. Such a key is no item's
 * holder. Without pg_input_is_valid (PostgreSQL 16): a decimal's text is cast to numeric, then checked.
 */
function fittingCast(sql: string, castType: string): string {
  const range = INTEGER_RANGE[castType];
  if (range) {
    const n = `${sql}::numeric`;
    return `CASE WHEN ${sql} ~ ${DECIMAL} THEN CASE WHEN ${n} = trunc(${n}) AND ${n} BETWEEN ${range[0]} AND ${range[1]} THEN ${n}::${castType} END END`;
  }
  if (castType === 'numeric') {
    return `CASE WHEN ${sql} ~ ${DECIMAL} OR ${sql} ~* ${NAN} OR (${sql} ~* ${INFINITY} AND current_setting('server_version_num')::int >= 140000) THEN ${sql}::numeric END`;
  }
  return `${sql}::${castType}`;
}

/**
 * Compiles the {@link holderText} of values given as text, `values[c][r]` of column c of row r, cast
 * to `types[c]`: `SELECT holderText(u.v0::t0) AS "c0", … FROM unnest($1::text[], …) WITH ORDINALITY`,
 * one row per row given, in their order; NULL for a value the type cannot hold (see fittingCast).
 *
 * @example
 * ```ts
 * compileHolderText(['numeric'], [['1.5', '2']]);
 * // SELECT trim_scale(CASE WHEN u."v0" ~ '^…$' … THEN u."v0"::numeric END)::text AS "c0" FROM unnest($1::text[]) …
 * ```
 */
export function compileHolderText(types: readonly string[], values: readonly (readonly (string | null)[])[]): CompiledQuery {
  const args = new UnnestArguments();
  const select = types.map((type, c) => {
    args.add(values[c], 'text', `v${c}`);
    return `${holderText(fittingCast(`u.${quoteIdent(`v${c}`)}`, type), type)} AS ${quoteIdent(`c${c}`)}`;
  });
  const sql =
    `SELECT ${select.join(', ')} FROM unnest(${args.args.join(', ')}) WITH ORDINALITY ` +
    `AS u(${[...args.aliases, quoteIdent('ord')].join(', ')}) ORDER BY u.${quoteIdent('ord')}`;
  return { sql, parameters: args.parameters };
}
