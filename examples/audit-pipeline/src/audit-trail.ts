// The audit subscriber, written once against cohort's batch-subscriber interface (BulkSubscriber,
// exported by both adapters): for every batch an insert, update, upsert or remove writes, one
// INSERT of one audit row per entity, through the event's manager — in the call's transaction, so
// the audit commits or rolls back with the data. An upsert's rows arrive as the insert and update
// events of what happened to each. One-to-many items a TypeORM save updates or deletes without
// loading them (their foreign key set or cleared: `foreignKeys`; orphans deleted: `orphans`) come as
// plain objects holding their key only: the trail reads nothing else of them.
import type { BulkEvent, BulkRemoveEvent, BulkSubscriber, BulkUpdateEvent } from '@cohort/core';

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
    await this.write('insert', event, idsOf(event.entities));
  }

  // The rows updated, or (`event.foreignKeys`) the items whose foreign key a save set or cleared:
  // `changes` names the relation then, and the item is its key object.
  async afterBulkUpdate(event: BulkUpdateEvent<E, TMetadata, TManager>): Promise<void> {
    const changes = event.changes.map((c) => [...c.properties]);
    await this.write('update', event, idsOf(event.entities), changes);
  }

  // Before the DELETE (in its transaction): after it the objects no longer carry their keys. With
  // `event.orphans`, the items a save deletes, each a key object (`{ id }`).
  async beforeBulkRemove(event: BulkRemoveEvent<E, TMetadata, TManager>): Promise<void> {
    await this.write('remove', event, idsOf(event.entities));
  }

  private async write(action: string, event: BulkEvent<unknown, TMetadata, TManager>, ids: number[], changes?: string[][]) {
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

/** The ids of a batch's entities, or of the key objects of items known by their key only. */
function idsOf(entities: readonly { readonly id?: unknown }[]): number[] {
  return entities.map((e) => Number(e.id));
}
