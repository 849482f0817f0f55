/** One statement an ORM sent, as its logger saw it. */
export interface SqlLogEntry {
  sql: string;
  params?: readonly unknown[];
}

/** How many statements of `log` match `pattern` (tested against the trimmed SQL text). */
export function countStatements(log: readonly SqlLogEntry[], pattern: RegExp): number {
  return log.filter((entry) => pattern.test(entry.sql.trim())).length;
}

/** The statements of `log` that match `pattern`. */
export function statements(log: readonly SqlLogEntry[], pattern: RegExp): SqlLogEntry[] {
  return log.filter((entry) => pattern.test(entry.sql.trim()));
}
