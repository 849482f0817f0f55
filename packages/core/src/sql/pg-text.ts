/**
 * Turns a value, as an ORM hands it to node-postgres, into PostgreSQL's text input form. Every
 * column travels as text (in `unnest($n::text[])` arrays or COPY rows) and is cast in SQL, so the
 * conversions here follow node-postgres' own (`prepareValue`) to store exactly what the ORM's own
 * save would store.
 */
export function toPgText(value: unknown, zoned = false): string | null {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      break;
  }
  // Local time with its offset, as node-postgres sends it: the same wall-clock time for timestamp and
  // date columns. For timestamptz (`zoned`) UTC ISO text is the same instant, and much cheaper.
  if (value instanceof Date) return zoned && !Number.isNaN(value.getTime()) ? value.toISOString() : localDateTime(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return arrayLiteral(value);
  const custom = (value as { toPostgres?: (prepare: (v: unknown) => unknown) => unknown }).toPostgres;
  if (typeof custom === 'function') return toPgText(custom.call(value, toPgText));
  return JSON.stringify(value);
}

/** A PostgreSQL array literal: `{1,NULL,"a \"b\""}`. */
export function arrayLiteral(values: readonly unknown[]): string {
  const parts = values.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    const text = toPgText(v) as string;
    return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return `{${parts.join(',')}}`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function localDateTime(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  let year = d.getFullYear();
  const bc = year < 1;
  if (bc) year = Math.abs(year) + 1;
  return (
    `${pad(year, 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}${bc ? ' BC' : ''}`
  );
}
