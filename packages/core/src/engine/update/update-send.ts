import { convertDatabaseError } from '../../errors/pg-error-converter.js';
import { compileUpdate, type UpdateStatement, type UpdateValues, updateStageColumns } from '../../sql/update-statement.js';
import { AUTO_COPY_UPDATES, copyClientFor } from '../copy/copy-strategy.js';
import { copyIntoStage, dropStage, ordinals, type StageValues } from '../copy/stage-copy.js';
import { afterDispatch } from '../session/after-dispatch.js';
import type { UpdateContext } from './update-phases.js';
import type { PlannedUpdate } from './update-plan.js';

/** What the UPDATE returned. */
export interface SentUpdate<E> {
  readonly planned: PlannedUpdate<E>;
  readonly rows: Record<string, unknown>[];
}

/** Sends the planned UPDATE (touches no entity: {@link applyUpdate} does). */
export async function sendUpdate<E>(
  context: Pick<UpdateContext<E>, 'options' | 'target'>,
  planned: PlannedUpdate<E>,
  onSent?: () => void,
): Promise<SentUpdate<E>> {
  const { options, target } = context;
  const { changed, stmt, values } = planned;
  if (!stmt || !values) return { planned, rows: [] };
  const client = await copyClientFor(options.strategy, target.session, changed.entities.length, AUTO_COPY_UPDATES);
  try {
    if (client) {
      const rowCount = changed.entities.length;
      const stage = await copyIntoStage(
        target.session,
        client,
        updateStageColumns(stmt),
        rowCount,
        (c, r) => stageField(values, c, r),
        stageValues(stmt, values, rowCount),
      );
      const query = target.session.query(compileUpdate({ ...stmt, stage }, values).sql);
      afterDispatch(onSent);
      const rows = await query;
      await dropStage(target.session, stage);
      return { planned, rows };
    }
    const { sql, parameters } = compileUpdate(stmt, values);
    const query = target.session.query(sql, parameters);
    afterDispatch(onSent);
    return { planned, rows: await query };
  } catch (error) {
    throw convertDatabaseError(
      error,
      { columns: [...stmt.key], values: values.keys.map((k) => [...k]), indices: changed.indices, entities: changed.entities },
      changed.number,
    );
  }
}

/** Column c of row r of an update's stage table (see updateStageColumns). */
function stageField(values: UpdateValues, c: number, r: number): string | null {
  if (c === 0) return String(r + 1);
  let at = c - 1;
  if (at < values.keys.length) return values.keys[at]?.[r] ?? null;
  at -= values.keys.length;
  const column = at >> 1;
  if (column < values.values.length) {
    return at % 2 === 0 ? (values.values[column]?.[r] ?? null) : values.changed[column]?.[r] ? 't' : 'f';
  }
  return values.expectedVersions?.[r] ?? null;
}

/** The stage's rows as values, in {@link updateStageColumns}' order, for the binary format. */
function stageValues(stmt: UpdateStatement, values: UpdateValues, rowCount: number): StageValues | undefined {
  const { raw } = values;
  if (!raw) return undefined;
  const type = (column: string) => stmt.table.columns.get(column)?.castType ?? '';
  const versions = stmt.version ? [raw.expectedVersions ?? new Array<unknown>(rowCount).fill(null)] : [];
  return {
    types: [
      'bigint',
      ...stmt.key.map(type),
      ...stmt.columns.flatMap((c) => [type(c.name), 'boolean']),
      ...(stmt.version ? [type(stmt.version)] : []),
    ],
    raw: [
      ordinals(rowCount),
      ...raw.keys,
      ...stmt.columns.flatMap((_, i) => [raw.values[i] ?? [], values.changed[i] ?? []]),
      ...versions,
    ],
  };
}
