/** A running PostgreSQL: the URL to connect to and how to stop it. */
export interface Database {
  url: string;
  /** true when this process started an embedded server (no DATABASE_URL). */
  embedded: boolean;
  stop(): Promise<void>;
}
/** DATABASE_URL when set, otherwise an embedded PostgreSQL on a free port in a temporary directory. */
export function startDatabase(options?: { log?: (line: string) => void }): Promise<Database>;
/** A fresh uniquely named schema and a way to drop it. */
export function createSchema(url: string, prefix: string): Promise<{ name: string; drop(): Promise<void> }>;
