/**
 * What the engine needs from a database connection: the adapter binds it to the ORM's running
 * transaction. Structural, so core depends on no driver.
 */
export interface SqlSession {
  /** Runs one statement with bound parameters (`$1`, `$2`…) and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * The raw node-postgres client of the running transaction, when the adapter can reach it.
   * Enables COPY; without it the engine uses `unnest` statements.
   */
  copyClient?(): Promise<CopyCapableClient | undefined>;
  /**
   * A Buffer parameter reaches PostgreSQL in binary form (node-postgres' own client): array
   * parameters of some types are then sent as binary arrays. Otherwise every parameter is text.
   */
  readonly binaryParameters?: boolean;
  /** Reports a statement the engine sent outside `query` (COPY) to the ORM's logger. */
  logStatement?(sql: string): void;
}

/** The part of a node-postgres client that COPY needs (`client.query(copyStream)`). */
export interface CopyCapableClient {
  query(stream: unknown): unknown;
}
