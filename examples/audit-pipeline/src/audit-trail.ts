// The audit subscriber, written once against cohort's batch-subscriber interface (BulkSubscriber,
// exported by both adapters): for every batch an insert, update, upsert or remove writes, one
// INSERT of one audit row per entity, through the event's manager — in the call's transaction, so
// the audit commits or rolls back with the data. An upsert's rows arrive as the insert and update
// events of what happened to each.
import type { BulkEvent, BulkSubscriber, BulkUpdateEvent } from '@cohort/core';

/** What the trail needs of an ORM: run one SQL statement on the event's manager, name an entity type. */
export interface AuditPort<TMetadata, TManager> {
  execute(manager: TManager, sql: string, parameters: unknown[]): Promise<unknown>;
  entityName(metadata: TMetadata): string;
}

/** The audit table: one row per audited entity; the rows of one batch share `xact` (the transaction) and `batch`. */
export function auditTableSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS "${schema}"."audit_log" (
  id serial PRIMARY KEY,
  xact bigint NOT NULL DEFAULT txid_current(),
  batch int NOT NULL,
  action text NOT NULL,
  entity text NOT NULL,
  entity_id int NOT NULL,
  changes text[],
  at timestamptz NOT NULL DEFAULT now()
)`;
}

/** One audit pipeline for every ORM: give it the ORM's port, register it as the ORM's subscriber. */
export class AuditTrail<E extends { id: number }, TMetadata, TManager> implements BulkSubscriber<E, TMetadata, TManager> {
  constructor(
    private readonly port: AuditPort<TMetadata, TManager>,
    private readonly schema: string,
  ) {}

  async afterBulkInsert(event: BulkEvent<E, TMetadata, TManager>): Promise<void> {
    await this.write(
      'insert',
      event,
      event.entities.map((e) => e.id),
    );
  }

  async afterBulkUpdate(event: BulkUpdateEvent<E, TMetadata, TManager>): Promise<void> {
    const changes = event.changes.map((c) => [...c.properties]);
    await this.write(
      'update',
      event,
      event.entities.map((e) => e.id),
      changes,
    );
  }

  // Before the DELETE (in its transaction): after it the objects no longer carry their keys.
  async beforeBulkRemove(event: BulkEvent<E, TMetadata, TManager>): Promise<void> {
    await this.write(
      'remove',
      event,
      event.entities.map((e) => e.id),
    );
  }

  private async write(action: string, event: BulkEvent<E, TMetadata, TManager>, ids: number[], changes?: string[][]) {
    // The batch's rows as one JSON parameter: drivers differ in how they bind arrays (MikroORM's
    // execute() expands them into lists), never in how they bind a string.
    const rows = JSON.stringify(ids.map((id, i) => ({ id, changes: changes?.[i] ?? null })));
    await this.port.execute(
      event.manager,
      `INSERT INTO "${this.schema}"."audit_log" (batch, action, entity, entity_id, changes)
       SELECT $1, $2, $3, (r->>'id')::int,
              CASE WHEN jsonb_typeof(r->'changes') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(r->'changes')) END
       FROM jsonb_array_elements($4::jsonb) AS r`,
      [event.batch, action, this.port.entityName(event.metadata), rows],
    );
  }
}
