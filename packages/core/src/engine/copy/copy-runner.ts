import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { CopyCapableClient } from '../../adapter/contract.js';

/**
 * Streams `chunks` into `COPY … FROM STDIN` on the transaction's own client (so the rows commit or
 * roll back with everything else). Returns the number of rows PostgreSQL reports. `onSent` is called
 * once every chunk is on its way to the server (PostgreSQL may still be storing them).
 */
export async function runCopy(
  client: CopyCapableClient,
  sql: string,
  chunks: Iterable<string | Buffer>,
  onSent?: () => void,
): Promise<number> {
  const stream = client.query(copyFrom(sql)) as NodeJS.WritableStream & { rowCount?: number };
  const source = Readable.from(chunks, { objectMode: false });
  // 'end': the last chunk went to the COPY stream; setImmediate: it reaches the socket a few ticks later.
  if (onSent) source.once('end', () => setImmediate(onSent));
  await pipeline(source, stream);
  return stream.rowCount ?? 0;
}
