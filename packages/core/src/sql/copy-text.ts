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
export function* copyChunks(
  columnCount: number,
  rowCount: number,
  field: (column: number, row: number) => string | null,
  chunkSize = 1 << 16,
): Generator<string> {
  let chunk = '';
  for (let r = 0; r < rowCount; r++) {
    let line = '';
    for (let c = 0; c < columnCount; c++) {
      if (c > 0) line += '\t';
      line += copyField(field(c, r));
    }
    chunk += `${line}\n`;
    if (chunk.length >= chunkSize) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
