import type { InputBatch, LinkHookBatch, LinkRow, RowLinks, WriteTarget } from '../../adapter/contract.js';
import { BulkWriteError } from '../../errors/bulk-write-error.js';
import { BulkDatabaseError, type PgErrorFields } from '../../errors/database-errors.js';
import { convertDatabaseError } from '../../errors/pg-error-converter.js';
import type { BoundModel } from '../../model/bound-model.js';
import type { JunctionTable, RelationWrite } from '../../model/entity-model.js';
import { readTableCatalog } from '../../model/table-catalog.js';
import { qualifiedTable } from '../../sql/identifier.js';
import {
  compileForeignKeyUpdate,
  compileJunctionDelete,
  compileJunctionInsert,
  type JunctionStatement,
} from '../../sql/junction-statement.js';
import { toPgText } from '../../sql/pg-text.js';

/** The many-to-many links of a batch's rows, found before the batch's statements and written after them. */
export interface BatchLinks<E> {
  readonly number: number;
  readonly rows: readonly { readonly entity: E; readonly index: number; readonly links: readonly RowLinks[] }[];
}

/**
 * The links the rows of `batch` add or remove (see `EntityAccess.links`); undefined when none has
 * any, or the model has no many-to-many relation. `stored` is what the change tracker loaded, by row.
 */
export function collectLinks<E>(
  model: BoundModel<E>,
  batch: InputBatch<E>,
  write: RelationWrite,
  stored?: readonly unknown[],
): BatchLinks<E> | undefined {
  const find = model.links;
  if (!find || write === 'upsert') return undefined;
  const rows: { entity: E; index: number; links: readonly RowLinks[] }[] = [];
  batch.entities.forEach((entity, position) => {
    const links = find(entity, write, stored?.[position]);
    if (links && links.length > 0) rows.push({ entity, index: batch.indices[position] as number, links });
  });
  return rows.length === 0 ? undefined : { number: batch.number, rows };
}

/** The links of one junction table in a batch. */
interface JunctionWork<E> {
  readonly junction: JunctionTable;
  readonly added: LinkRow<E>[];
  readonly removed: LinkRow<E>[];
}

/**
 * Writes the links of a batch after its own statements (a new row's key is known then): the
 * before-link hooks, then per junction table one DELETE of the removed links and one INSERT of the
 * added ones, in the call's transaction. A failure raises the typed database error naming the row,
 * the class and the relation; the call's transaction then rolls back, so that no table keeps
 * anything of it. Returns the links written, for {@link afterLinks}; rows `keep` refuses are left out.
 * `firedBefore`: the before-link hooks ran already ({@link beforeLinks}, grouped as the ORM groups them).
 */
export async function writeLinks<E>(
  model: BoundModel<E>,
  target: WriteTarget<E>,
  links: BatchLinks<E> | undefined,
  options: { readonly hooks?: boolean },
  keep?: (index: number) => boolean,
  firedBefore = false,
): Promise<LinkHookBatch<E> | undefined> {
  if (!links) return undefined;
  const work = new Map<string, JunctionWork<E>>();
  const all = { number: links.number, added: [] as LinkRow<E>[], removed: [] as LinkRow<E>[], items: [] as LinkRow<E>[] };
  const done: RowLinks[] = [];
  for (const { entity, index, links: rowLinks } of links.rows) {
    if (keep && !keep(index)) continue;
    for (const owner of rowLinks) {
      const { junction } = owner;
      const key = `${qualifiedTable(junction.table, junction.schema)}(${junction.columns.join(',')})`;
      let entry = work.get(key);
      if (!entry) {
        entry = { junction, added: [], removed: [] };
        work.set(key, entry);
      }
      const added = owner.added().map((values) => ({ links: owner, values, entity, index }));
      const removed = owner.removed().map((values) => ({ links: owner, values, entity, index }));
      entry.removed.push(...removed);
      entry.added.push(...added);
      if (junction.foreignKey) all.items.push(...added, ...removed);
      done.push(owner);
    }
  }
  for (const entry of work.values()) {
    if (entry.junction.foreignKey) continue;
    all.added.push(...entry.added);
    all.removed.push(...entry.removed);
  }
  if (all.added.length === 0 && all.removed.length === 0 && all.items.length === 0) return undefined;
  if (!firedBefore && options.hooks !== false && target.hooks.beforeLinks) await target.hooks.beforeLinks(all);
  const { session } = target;
  for (const { junction, added, removed } of work.values()) {
    const table = await readTableCatalog(session, junction);
    const stmt: JunctionStatement = { table, columns: junction.columns, foreignKey: junction.foreignKey };
    if (junction.foreignKey) {
      // A one-to-many's items: one UPDATE clears the removed ones' foreign key and sets the added ones'.
      // An item moved from one row to another of the batch is set once, to the row that holds it now.
      const keys = junction.foreignKey.keyColumns;
      const keyOf = (link: LinkRow<E>) => JSON.stringify(link.values.slice(0, keys).map((value) => toPgText(value)));
      const moved = new Set(added.map(keyOf));
      const items = [...removed.filter((link) => !moved.has(keyOf(link))), ...added];
      if (items.length > 0) await send(model, session, stmt, items, compileForeignKeyUpdate, links.number);
      continue;
    }
    if (removed.length > 0) await send(model, session, stmt, removed, compileJunctionDelete, links.number);
    if (added.length > 0) await send(model, session, stmt, added, compileJunctionInsert, links.number);
  }
  for (const owner of done) owner.written?.();
  return all;
}

/**
 * The before-link hooks of one kind of link (`added` or `removed`) of a batch, ahead of its
 * statements: for an ORM whose save fires its events grouped by kind — every insert, then every
 * update, then every remove (TypeORM) — the added links' before-events come before the rows'
 * before-update hooks and the removed links' after them. {@link writeLinks} is then told they ran.
 */
export async function beforeLinks<E>(
  target: WriteTarget<E>,
  links: BatchLinks<E> | undefined,
  options: { readonly hooks?: boolean },
  kind: 'added' | 'removed',
): Promise<void> {
  if (!links || options.hooks === false || !target.hooks.beforeLinks) return;
  const rows: LinkRow<E>[] = [];
  // One-to-many items' updates go with the removed links: update events come before remove events.
  const items: LinkRow<E>[] = [];
  for (const { entity, index, links: rowLinks } of links.rows) {
    for (const owner of rowLinks) {
      if (owner.junction.foreignKey) {
        if (kind === 'added') continue;
        for (const values of [...owner.added(), ...owner.removed()]) items.push({ links: owner, values, entity, index });
      } else for (const values of owner[kind]()) rows.push({ links: owner, values, entity, index });
    }
  }
  if (rows.length === 0 && items.length === 0) return;
  await target.hooks.beforeLinks({
    number: links.number,
    added: kind === 'added' ? rows : [],
    removed: kind === 'removed' ? rows : [],
    items,
  });
}

/**
 * The after-link hooks of the links {@link writeLinks} wrote, after the batch's after-hooks; only
 * those of one kind when `kind` is given (see {@link beforeLinks}).
 */
export async function afterLinks<E>(
  target: WriteTarget<E>,
  written: LinkHookBatch<E> | undefined,
  options: { readonly hooks?: boolean },
  kind?: 'added' | 'removed',
): Promise<void> {
  if (!written || options.hooks === false || !target.hooks.afterLinks) return;
  const part =
    kind === 'added' ? { ...written, removed: [], items: [] } : kind === 'removed' ? { ...written, added: [] } : written;
  if (part.added.length > 0 || part.removed.length > 0 || (part.items?.length ?? 0) > 0) await target.hooks.afterLinks(part);
}

async function send<E>(
  model: BoundModel<E>,
  session: WriteTarget<E>['session'],
  stmt: JunctionStatement,
  links: readonly LinkRow<E>[],
  compile: typeof compileJunctionInsert,
  batchNumber: number,
): Promise<void> {
  const values = stmt.columns.map((_, c) => links.map((link) => toPgText(link.values[c])));
  const query = compile(stmt, values);
  try {
    await session.query(query.sql, query.parameters);
  } catch (error) {
    throw linkError(model, error, stmt, links, values, batchNumber);
  }
}

/** The database's error for a junction statement, naming the row, its class and the relation of the link it failed on. */
function linkError<E>(
  model: BoundModel<E>,
  error: unknown,
  stmt: JunctionStatement,
  links: readonly LinkRow<E>[],
  values: (string | null)[][],
  batchNumber: number,
): BulkWriteError<E> {
  const located = {
    columns: [...stmt.columns],
    values,
    indices: links.map((link) => link.index),
    entities: links.map((link) => link.entity),
  };
  const converted = convertDatabaseError<E>(error, located, batchNumber);
  if (!(converted instanceof BulkDatabaseError)) return converted;
  const link = links.find((l) => l.index === converted.index && l.entity === converted.entity) ?? links[0];
  const relation = link ? `${link.links.entityName ?? model.name}.${link.links.property}` : model.name;
  const what = stmt.foreignKey ? 'sets the foreign key of' : 'links to';
  const message = `${relation} (${what} ${link?.links.target} in ${stmt.table.qualifiedName}): ${converted.message}`;
  const Kind = converted.constructor as new (...args: ConstructorParameters<typeof BulkDatabaseError<E>>) => BulkDatabaseError<E>;
  return new Kind(
    message,
    error as PgErrorFields,
    { batch: converted.batch, index: converted.index, entity: converted.entity },
    error,
  );
}
