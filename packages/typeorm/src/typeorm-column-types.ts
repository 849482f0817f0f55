// Column type names (as TypeORM entities declare them) shared by the adapter's shortcuts around
// TypeORM's own machinery: integer, numeric, text, uuid and boolean families.

/** Scalar PostgreSQL type names that TypeORM neither converts on the way to the driver nor normalises when diffing. */
export const SCALAR_TYPE_NAMES: readonly string[] = [
  'int',
  'int2',
  'int4',
  'int8',
  'integer',
  'smallint',
  'bigint',
  'numeric',
  'decimal',
  'real',
  'float',
  'float4',
  'float8',
  'double precision',
  'varchar',
  'character varying',
  'char',
  'character',
  'text',
  'citext',
  'uuid',
  'boolean',
  'bool',
];
