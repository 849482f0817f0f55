import { BulkUsageError } from '../errors/usage-errors.js';
import { type CatalogColumn, type TableCatalog, typedParameter } from '../model/table-catalog.js';
import { type ConflictAction, conflictClause } from './conflict-clause.js';
import { quoteIdent } from './identifier.js';
import { columnAlias, defaultAlias, INSERTED, keepAlias, ORDINAL, oldName, returnedName, valueAlias } from './insert-aliases.js';
import { inKeyOrder } from './unnest-arguments.js';

/** An INSERT of one batch, as data. Compiled to one statement with constant text per shape. */
export interface InsertStatement {
  readonly table: TableCatalog;
  /**
   * Columns whose values are sent; `mixed` ones fall back to the column default per row; `kept` ones
   * carry a per-row flag (`k<i>`): the row does not give the column, so an upsert that finds the row
   * keeps the stored value (see {@link ConflictSet.unlessKept}).
   */
  readonly sent: readonly { name: string; mixed: boolean; kept?: boolean }[];
  /** Key columns the database generates that are not sent (made in SQL so rows can be matched). */
  readonly generatedKeys: readonly string[];
  /** Columns matching each returned row to its input row: the primary key. */
  readonly rowKey: readonly string[];
  /** Columns to read back, in order (`r0`, `r1`, … in the result). */
  readonly returning: readonly string[];
  readonly conflict: ConflictAction;
  /** Write rows in this column order instead of input order (stable key order against deadlocks). */
  readonly orderBy?: readonly string[];
  /** Columns whose value before an upsert's update is returned (`o0`, `o1`…; PostgreSQL ≥ 18). */
  readonly returnOld?: readonly string[];
  /**
   * How returned rows are matched to input rows. `join` (always valid): the key is made in SQL and
   * joined back to the ordinal. `sequence`: only for a plain insert whose single key comes from a
   * sequence — every row is inserted (a conflict fails the statement) and the sequence is drawn in
   * ordinal order, so the k-th smallest returned key is the k-th row; this saves the join.
   */
  readonly mapping?: 'join' | 'sequence';
  /** Number of rows; only needed when no column is sent (every value is a default). */
  readonly rowCount?: number;
  /**
   * Read the rows from this (temporary) table instead of `unnest` parameters: it has the columns
   * of {@link stageColumns}, filled by COPY.
   */
  readonly stage?: string;
}

/**
 * Columns of a stage table for `stmt`, in COPY order: the ordinal, the values, the default flags,
 * the keep flags.
 */
export function stageColumns(stmt: Pick<InsertStatement, 'sent'>): { name: string; type: string }[] {
  return [
    { name: ORDINAL, type: 'int8' },
    ...stmt.sent.map((_, i) => ({ name: `v${i}`, type: 'text' })),
    ...stmt.sent.flatMap((s, i) => (s.mixed ? [{ name: `d${i}`, type: 'boolean' }] : [])),
    ...stmt.sent.flatMap((s, i) => (s.kept ? [{ name: `k${i}`, type: 'boolean' }] : [])),
    ...(stmt.sent.length === 0 ? [{ name: 'none', type: 'text' }] : []),
  ];
}

/** A statement ready for the driver. */
export interface CompiledQuery {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** Result columns of a compiled insert. */

function catalogColumn(stmt: InsertStatement, name: string): CatalogColumn {
  const col = stmt.table.columns.get(name);
  if (!col) throw missingColumn(name, stmt.table.qualifiedName);
  return col;
}

/**
 * Compiles to:
 * `WITH u AS MATERIALIZED (SELECT … FROM unnest($1::integer[], $2::text[], …) WITH ORDINALITY) ,
 *  ins AS (INSERT … SELECT … FROM u ORDER BY … ON CONFLICT … RETURNING …)
 *  SELECT u.ord, ins.… FROM ins JOIN u ON <row key>`.
 * Every value is one array parameter per column (typed, or text cast in SQL; see
 * {@link CatalogColumn.paramType}), so the text does not depend on the row
 * count (no 65,535-parameter ceiling) and rows are matched back by the ordinal, never by position.
 */
export function compileInsert(
  stmt: InsertStatement,
  values: readonly unknown[],
  defaults: readonly unknown[],
  kept: readonly unknown[] = [],
): CompiledQuery {
  if (stmt.mapping === 'sequence') return compileSequenceInsert(stmt, values, defaults);
  const { parameters, from, projections } = sources(stmt, values, defaults, true, kept);

  const targets = [...stmt.sent.map((s) => s.name), ...stmt.generatedKeys];
  const overriding = targets.some((n) => catalogColumn(stmt, n).identityAlways) ? ' OVERRIDING SYSTEM VALUE' : '';
  // Text keys in byte order (COLLATE "C"), the order the engine cuts an array into batches in.
  const order = (stmt.orderBy ?? []).map((n) => inKeyOrder(columnAlias(n, stmt), catalogColumn(stmt, n).castType));
  order.push(quoteIdent(ORDINAL));

  const upsert = stmt.conflict.kind === 'update';
  const keyReturn = stmt.rowKey.map((n, i) => `t.${quoteIdent(n)} AS ${quoteIdent(`k${i}`)}`);
  const conflictKeys = stmt.conflict.kind === 'update' ? stmt.conflict.target : [];
  const targetReturn = upsert ? conflictKeys.map((n, i) => `t.${quoteIdent(n)} AS ${quoteIdent(`t${i}`)}`) : [];
  const returning = [
    ...keyReturn,
    ...targetReturn,
    ...stmt.returning.map((n, i) => `t.${quoteIdent(n)} AS ${quoteIdent(returnedName(i))}`),
    ...(stmt.returnOld ?? []).map((n, i) => `old.${quoteIdent(n)} AS ${quoteIdent(oldName(i))}`),
    ...(upsert ? [`${insertedTest(stmt, conflictKeys)} AS ${quoteIdent(INSERTED)}`] : []),
  ];

  const picked = [
    `u.${quoteIdent(ORDINAL)}`,
    ...stmt.returning.map((_, i) => `i.${quoteIdent(returnedName(i))}`),
    ...(stmt.returnOld ?? []).map((_, i) => `i.${quoteIdent(oldName(i))}`),
    ...(upsert ? [`i.${quoteIdent(INSERTED)}`] : []),
  ].join(', ');
  const byRowKey = stmt.rowKey.map((n, i) => `i.${quoteIdent(`k${i}`)} = u.${columnAlias(n, stmt)}`).join(' AND ');
  let select = `SELECT ${picked} FROM ins i JOIN u ON ${byRowKey}`;
  if (upsert && !sameColumns(conflictKeys, stmt.rowKey)) {
    // An updated row keeps its existing key, so it is matched by the conflict target instead.
    const byTarget = conflictKeys.map((n, i) => `i.${quoteIdent(`t${i}`)} = u.${columnAlias(n, stmt)}`).join(' AND ');
    select =
      `SELECT ${picked} FROM ins i JOIN u ON ${byRowKey} WHERE i.${quoteIdent(INSERTED)} ` +
      `UNION ALL SELECT ${picked} FROM ins i JOIN u ON ${byTarget} WHERE NOT i.${quoteIdent(INSERTED)}`;
  }

  const sql =
    `WITH u AS MATERIALIZED (SELECT s.${quoteIdent(ORDINAL)}, ${projections.join(', ')} FROM ${from}), ` +
    `ins AS (INSERT INTO ${stmt.table.qualifiedName} AS t (${targets.map(quoteIdent).join(', ')})${overriding} ` +
    `SELECT ${targets.map((n) => columnAlias(n, stmt)).join(', ')} FROM u ORDER BY ${order.join(', ')}` +
    `${conflictClause(stmt)} RETURNING ${returning.join(', ')}) ` +
    `${select} ORDER BY 1`;
  return { sql, parameters };
}

/**
 * Whether a row the upsert returns was inserted rather than updated: `xmax = 0` on the row version it
 * wrote. A partitioned table returns no system column but ctid and tableoid (PostgreSQL error 0A000),
 * so there a row counts as inserted when no row with its conflict key was visible to the statement
 * (its subquery reads the statement's snapshot). Under READ COMMITTED, a row with that key committed
 * by another transaction after the snapshot, which the upsert then updates, counts as inserted.
 */
function insertedTest(stmt: InsertStatement, conflictKeys: readonly string[]): string {
  if (!stmt.table.partitionKey || conflictKeys.length === 0) return '(t.xmax = 0)';
  const same = conflictKeys.map((n) => `p.${quoteIdent(n)} = t.${quoteIdent(n)}`).join(' AND ');
  return `(NOT EXISTS (SELECT 1 FROM ${stmt.table.qualifiedName} p WHERE ${same}))`;
}

/** `INSERT … SELECT … FROM unnest(…) WITH ORDINALITY ORDER BY ord RETURNING key, …` (see `mapping`). */
function compileSequenceInsert(stmt: InsertStatement, values: readonly unknown[], defaults: readonly unknown[]): CompiledQuery {
  if (stmt.conflict.kind !== 'error' || stmt.rowKey.length !== 1 || stmt.generatedKeys.join() !== stmt.rowKey.join()) {
    // Internal assertion: only chosen for such inserts (see the strategy choice).
    throw new Error('cohort internal error: sequence mapping needs a plain insert with one generated key');
  }
  const { parameters, from, projections } = sources(stmt, values, defaults, false);
  const targets = stmt.sent.map((s) => s.name);
  const overriding = targets.some((n) => catalogColumn(stmt, n).identityAlways) ? ' OVERRIDING SYSTEM VALUE' : '';
  const returning = [
    `t.${quoteIdent(stmt.rowKey[0] as string)} AS ${quoteIdent('k0')}`,
    ...stmt.returning.map((n, i) => `t.${quoteIdent(n)} AS ${quoteIdent(returnedName(i))}`),
  ];
  const columns = targets.length ? ` (${targets.map(quoteIdent).join(', ')})${overriding}` : '';
  const select = targets.length ? projections.join(', ') : '';
  const sql =
    `INSERT INTO ${stmt.table.qualifiedName} AS t${columns} SELECT ${select} ` +
    `FROM ${from} ORDER BY s.${quoteIdent(ORDINAL)} RETURNING ${returning.join(', ')}`;
  return { sql, parameters };
}

/** The unnest parameters and the projection of every sent (and SQL-generated) column. */
function sources(
  stmt: InsertStatement,
  values: readonly unknown[],
  defaults: readonly unknown[],
  aliased: boolean,
  kept: readonly unknown[] = [],
) {
  const { parameters, from } = rowSource(stmt, values, defaults, kept);
  const as = (name: string) => (aliased ? ` AS ${columnAlias(name, stmt)}` : '');
  const projections = stmt.sent.map((s, i) => {
    const col = catalogColumn(stmt, s.name);
    const cast = typedParameter(col, stmt.stage) ? `s.${valueAlias(i)}` : `s.${valueAlias(i)}::${col.castType}`;
    if (!s.mixed || !col.defaultExpr) return `${cast}${as(s.name)}`;
    return `CASE WHEN s.${defaultAlias(i)} THEN ${col.defaultExpr} ELSE ${cast} END${as(s.name)}`;
  });
  if (aliased) {
    for (const name of stmt.generatedKeys) {
      const col = catalogColumn(stmt, name);
      if (!col.defaultExpr) {
        // The entity says the database generates the key; the table disagrees (schema drift).
        throw new BulkUsageError(
          `key column ${name} of ${stmt.table.qualifiedName} has no default in the database to generate it, though the entity maps it as generated`,
        );
      }
      projections.push(`${col.defaultExpr}${as(name)}`);
    }
    stmt.sent.forEach((s, i) => {
      if (s.kept) projections.push(`s.${keepAlias(i)} AS ${keepAlias(i)}`);
    });
  }
  return { parameters, from, projections };
}

/** `unnest($1::integer[], $2::text[], …) WITH ORDINALITY AS s(…)`, or the stage table `AS s`. */
function rowSource(stmt: InsertStatement, values: readonly unknown[], defaults: readonly unknown[], kept: readonly unknown[]) {
  if (stmt.stage) return { parameters: [] as unknown[], from: `${quoteIdent(stmt.stage)} AS s` };
  const parameters: unknown[] = [];
  const unnestArgs: string[] = [];
  const aliases: string[] = [];
  stmt.sent.forEach((s, i) => {
    parameters.push(values[i]);
    unnestArgs.push(`$${parameters.length}::${typedParameter(catalogColumn(stmt, s.name), stmt.stage) ?? 'text'}[]`);
    aliases.push(valueAlias(i));
  });
  stmt.sent.forEach((s, i) => {
    if (!s.mixed) return;
    parameters.push(defaults[i]);
    unnestArgs.push(`$${parameters.length}::boolean[]`);
    aliases.push(defaultAlias(i));
  });
  stmt.sent.forEach((s, i) => {
    if (!s.kept) return;
    parameters.push(kept[i]);
    unnestArgs.push(`$${parameters.length}::boolean[]`);
    aliases.push(keepAlias(i));
  });
  if (stmt.sent.length === 0) {
    // Every value is a default: one array of NULLs still gives unnest its row count.
    parameters.push(new Array(stmt.rowCount ?? 0).fill(null));
    unnestArgs.push(`$${parameters.length}::text[]`);
    aliases.push(quoteIdent('none'));
  }
  const from = `unnest(${unnestArgs.join(', ')}) WITH ORDINALITY AS s(${[...aliases, quoteIdent(ORDINAL)].join(', ')})`;
  return { parameters, from };
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** The entity maps a column the table lacks (schema drift): the call is wrong, not a row. */
export function missingColumn(name: string, table: string): BulkUsageError {
  return new BulkUsageError(`column ${name} does not exist in ${table}, though the entity maps it (is the schema up to date?)`);
}
