/**
 * Encodes rows in COPY's text format: columns separated by tabs, rows ended by newlines, NULL as
 * `\N`, and backslash, tab, newline and carriage return escaped inside values.
 */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  // Fast path: most values need no escaping.
  if (!/[\\\t\n\r]/.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch] as string);
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Yields the COPY text of `rowCount` rows in chunks of about `chunkSize` characters; `field(c, r)`
 * gives the text of column c of row r.
 */
export function copyChunks(
  columnCount: number,
  rowCount: number,
  field: (column: number, row: number) => string | null,
  chunkSize = 1 << 16,
): Generator<string> {
  return copyFieldChunks(columnCount, rowCount, (c, r) => copyField(field(c, r)), chunkSize);
}

/** As {@link copyChunks}, with `field(c, r)` giving a field already in COPY form (escaped, `\N`). */
export function* copyFieldChunks(
  columnCount: number,
  rowCount: number,
  field: (column: number, row: number) => string,
  chunkSize = 1 << 16,
): Generator<string> {
  let chunk = '';
  for (let r = 0; r < rowCount; r++) {
    let line = columnCount > 0 ? field(0, r) : '';
    for (let c = 1; c < columnCount; c++) line += `\t${field(c, r)}`;
    chunk += `${line}\n`;
    if (chunk.length >= chunkSize) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
