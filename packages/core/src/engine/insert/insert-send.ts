import { convertDatabaseError } from '../../errors/pg-error-converter.js';
import { compileInsert } from '../../sql/insert-statement.js';
import { copyClientFor } from '../copy/copy-strategy.js';
import { copyDirectly } from '../copy/direct-copy.js';
import { insertThroughStage } from '../copy/stage-copy.js';
import { afterDispatch } from '../session/after-dispatch.js';
import type { InsertContext } from './insert-phases.js';
import type { PlannedRows } from './insert-plan.js';

/** What the statement gave back: the drawn keys of a direct COPY, or the returned rows. */
export interface SentRows<E> {
  readonly planned: PlannedRows<E>;
  readonly generated?: unknown[];
  readonly rows?: Record<string, unknown>[];
  /** The rows went through COPY (directly or through a stage). */
  readonly copied: boolean;
}

/** Sends the batch's one statement (or COPY). Touches no entity: {@link applyRows} does. */
export async function sendRows<E>(
  context: Pick<InsertContext<E>, 'options' | 'target'>,
  planned: PlannedRows<E>,
  onSent?: () => void,
): Promise<SentRows<E>> {
  const { options, target } = context;
  const { rows: batch, plan } = planned;
  if (!plan) return { planned, copied: false };
  const { stmt, values, sent, direct, binary } = plan;
  const early = batch.drawn ? await batch.drawn : undefined;
  // A failed draw is reported as a failure of this batch's write, as a draw made by the write is.
  if (early?.error !== undefined) throw convertDatabaseError(early.error, values, batch.number);
  const client = await copyClientFor(options.strategy, target.session, batch.entities.length, direct);
  try {
    if (client && direct) {
      // Every row is written and its returned values are known without reading anything back.
      const generated = await copyDirectly(target.session, client, stmt, sent, values, early?.keys, onSent);
      return { planned, copied: true, generated };
    }
    const kept = plan.upsert?.kept ?? [];
    if (client) {
      const rows = await insertThroughStage(target.session, client, { ...stmt, mapping: 'join' }, values, kept, onSent);
      return { planned, copied: true, rows };
    }
    const columns = stmt.sent.map((_, c) => binary?.[c] ?? values.text(c));
    const { sql, parameters } = compileInsert(stmt, columns, values.defaults, kept);
    const query = target.session.query(sql, parameters);
    afterDispatch(onSent);
    return { planned, copied: false, rows: await query };
  } catch (error) {
    throw convertDatabaseError(error, values, batch.number, stmt);
  }
}
