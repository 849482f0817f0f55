import type { SqlSession } from '../adapter/contract.js';
import { BulkUsageError } from '../errors/usage-errors.js';
import { qualifiedTable } from '../sql/identifier.js';
import type { BoundModel } from './bound-model.js';
import type { EntityModel, JunctionTable } from './entity-model.js';

/** What PostgreSQL itself says about one column. */
export interface CatalogColumn {
  readonly name: string;
  /** Type name usable in a cast, without length modifiers (`character varying`, `integer[]`). */
  readonly castType: string;
  /**
   * The element type of this column's `unnest` parameter (`$1::integer[]`) when parsing an array of
   * it is exactly the cast from text (the type's own input function); undefined for every other
   * type, whose values travel as `text[]` and are cast in SQL.
   */
  readonly paramType?: string;
  /** The SQL expression the database would use for DEFAULT, if any (`nextval(…)`, `now()`). */
  readonly defaultExpr: string | null;
  /** GENERATED ALWAYS AS IDENTITY: explicit values need OVERRIDING SYSTEM VALUE. */
  readonly identityAlways: boolean;
}

/**
 * The element type a column's values travel in as an `unnest` array parameter, or undefined when
 * they travel as text and are cast in SQL (types without a typed parameter; every column read from
 * a `stage` table, whose columns are text).
 */
export function typedParameter(column: CatalogColumn, stage: string | undefined): string | undefined {
  return stage ? undefined : column.paramType;
}

/** The column's default draws from a sequence (serial, or an identity column): keys can be drawn ahead of a COPY. */
export function drawsFromSequence(column: CatalogColumn | undefined): boolean {
  return /^nextval\(/i.test(column?.defaultExpr ?? '');
}

/** PostgreSQL 18 and later: RETURNING can read an upserted row as it was before its update (`old.`). */
export function returnsOldRows(catalog: TableCatalog | undefined): boolean {
  return (catalog?.serverVersion ?? 0) >= 180000;
}

/** The table as the database knows it. */
export interface TableCatalog {
  readonly qualifiedName: string;
  /** `server_version_num` of the server (PostgreSQL 18 can return the rows before an upsert). */
  readonly serverVersion: number;
  readonly columns: ReadonlyMap<string, CatalogColumn>;
  /**
   * The partition key of a declaratively partitioned table, as PostgreSQL prints it (`RANGE (day)`,
   * `LIST (region)`); undefined for a table that is not partitioned.
   */
  readonly partitionKey?: string;
  /** The table has a BEFORE INSERT row trigger, which may store other values than those sent. */
  readonly insertTriggers?: boolean;
}

/**
 * Types whose cast from text is their input function (no cast of their own in pg_cast, or a binary
 * one), so a typed array parameter stores what `text::type` would, and PostgreSQL skips a
 * text-to-type conversion per value. Other types (char(n), bit(n), enums, domains, arrays, custom
 * types) keep the text path.
 */
export const TYPED_PARAMETERS: ReadonlySet<string> = new Set([
  'smallint',
  'integer',
  'bigint',
  'real',
  'double precision',
  'numeric',
  'boolean',
  'text',
  'character varying',
  'uuid',
  'date',
  'timestamp without time zone',
  'timestamp with time zone',
  'time without time zone',
  'interval',
  'json',
  'jsonb',
]);

// Read once per model: types and defaults do not change under a running application. Each entry
// remembers the session that reads it, for the calls that find it still loading.
const cache = new WeakMap<object, { readonly session: SqlSession; readonly catalog: Promise<TableCatalog> }>();

// Casts use the type without its modifier; for char(n) and bit(n) that would mean length 1, so
// those are cast to their unbounded forms and the column's own assignment cast checks the length.
const CATALOG_SQL = `SELECT a.attname AS name,
  CASE t.typname WHEN 'bpchar' THEN 'bpchar' WHEN '_bpchar' THEN 'bpchar[]'
       WHEN 'bit' THEN 'varbit' WHEN '_bit' THEN 'varbit[]' ELSE a.atttypid::regtype::text END AS cast_type,
  CASE WHEN a.attidentity <> '' THEN format('nextval(%L::regclass)', pg_get_serial_sequence($1, a.attname))
       ELSE pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
  a.attidentity = 'a' AS identity_always,
  current_setting('server_version_num')::int AS server_version,
  pg_get_partkeydef(a.attrelid) AS partition_key,
  EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = a.attrelid AND NOT g.tgisinternal AND (g.tgtype & 7) = 7) AS rewrites
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;

interface CatalogRow {
  name: string;
  cast_type: string;
  default_expr: string | null;
  identity_always: boolean;
  server_version: number;
  partition_key: string | null;
  rewrites: boolean;
}

/**
 * Reads (once per adapter model, which adapters cache per entity class, or per junction table) the
 * column types and default expressions of the model's table.
 */
export function readTableCatalog(
  session: SqlSession,
  model: EntityModel | BoundModel<never> | JunctionTable,
): Promise<TableCatalog> {
  const key = ('source' in model ? model.source : undefined) ?? model;
  const entry = cache.get(key);
  if (!entry) {
    const catalog = loadCatalog(session, qualifiedTable(key.table, key.schema));
    const own = { session, catalog };
    cache.set(key, own);
    catalog.catch(() => {
      if (cache.get(key) === own) cache.delete(key);
    });
    return catalog;
  }
  if (entry.session === session) return entry.catalog;
  // Being read on another call's session: when that read fails (that call failed and its
  // transaction ended under it), this call reads the catalog on its own session.
  return entry.catalog.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
    return readTableCatalog(session, model);
  });
}

async function loadCatalog(session: SqlSession, qualifiedName: string): Promise<TableCatalog> {
  const rows = await session.query<CatalogRow>(CATALOG_SQL, [qualifiedName]);
  if (rows.length === 0) {
    throw new BulkUsageError(`table ${qualifiedName} does not exist (create it — migrations, schema sync — before writing)`);
  }
  const columns = new Map<string, CatalogColumn>();
  for (const r of rows) {
    columns.set(r.name, {
      name: r.name,
      castType: r.cast_type,
      paramType: TYPED_PARAMETERS.has(r.cast_type) ? r.cast_type : undefined,
      defaultExpr: r.default_expr,
      identityAlways: r.identity_always,
    });
  }
  const partitionKey = rows[0]?.partition_key ?? undefined;
  const insertTriggers = rows[0]?.rewrites === true;
  return { qualifiedName, columns, serverVersion: Number(rows[0]?.server_version ?? 0), partitionKey, insertTriggers };
}
