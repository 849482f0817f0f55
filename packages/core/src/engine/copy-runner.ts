import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { CopyCapableClient } from './sql-session.js';

/**
 * Streams `chunks` into `COPY … FROM STDIN` on the transaction's own client (so the rows commit or
 * roll back with everything else). Returns the number of rows PostgreSQL reports.
 */
export async function runCopy(client: CopyCapableClient, sql: string, chunks: Iterable<string | Buffer>): Promise<number> {
  const stream = client.query(copyFrom(sql)) as NodeJS.WritableStream & { rowCount?: number };
  await pipeline(Readable.from(chunks, { objectMode: false }), stream);
  return stream.rowCount ?? 0;
}
