import type { InputBatch, LinkHookBatch, LinkRow, RowLinks, SqlSession, WriteTarget } from '../../adapter/contract.js';
import { BulkWriteError } from '../../errors/bulk-write-error.js';
import { BulkDatabaseError, type PgErrorFields } from '../../errors/database-errors.js';
import { convertDatabaseError } from '../../errors/pg-error-converter.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import type { BoundModel } from '../../model/bound-model.js';
import type { JunctionTable, OrphanRemoval, RelationWrite } from '../../model/entity-model.js';
import { readTableCatalog } from '../../model/table-catalog.js';
import { compileDelete } from '../../sql/delete-statement.js';
import { qualifiedTable } from '../../sql/identifier.js';
import type { CompiledQuery } from '../../sql/insert-statement.js';
import {
  compileForeignKeyUpdate,
  compileJunctionDelete,
  compileJunctionInsert,
  type JunctionStatement,
} from '../../sql/junction-statement.js';
import { toPgText } from '../../sql/pg-text.js';
import { compileSoftDelete } from '../../sql/soft-delete-statement.js';
import { callOf } from '../session/statement-counter.js';
import { itemKey, recordMoves, refuseMovedHolders, refuseReorderedItems } from './item-moves.js';

/** The many-to-many links of a batch's rows, found before the batch's statements and written after them. */
export interface BatchLinks<E> {
  readonly number: number;
  /** The batch's `keyOrdered`: its rows' items are checked against the earlier batches' (item-moves.ts). */
  readonly keyOrdered?: boolean;
  /** The batch's `last`: no later batch of the call can hold an item's holder, whose items it would read after this batch's UPDATEs. */
  readonly last?: boolean;
  readonly rows: readonly { readonly entity: E; readonly index: number; readonly links: readonly RowLinks[] }[];
}

/**
 * The links the rows of `batch` add or remove (see `EntityAccess.links`); undefined when none has
 * any, or the model has no many-to-many relation. `stored` is what the change tracker loaded, by row.
 */
export async function collectLinks<E>(
  model: BoundModel<E>,
  batch: InputBatch<E>,
  write: RelationWrite,
  stored?: readonly unknown[],
  session?: SqlSession,
): Promise<BatchLinks<E> | undefined> {
  const find = model.links;
  if (!find || write === 'upsert') return undefined;
  // A stored row's items are read now: refused when an earlier batch of the call took one of them (`session`: the call's).
  if (write === 'update' && session) await refuseMovedHolders(session, callOf(session), model, batch);
  const rows: { entity: E; index: number; links: readonly RowLinks[] }[] = [];
  batch.entities.forEach((entity, position) => {
    const links = find(entity, write, stored?.[position]);
    if (links && links.length > 0) rows.push({ entity, index: batch.indices[position] as number, links });
  });
  if (rows.length === 0) return undefined;
  return { number: batch.number, rows, ...(batch.keyOrdered && { keyOrdered: true }), ...(batch.last && { last: true }) };
}

/** The links of one junction table in a batch. */
interface JunctionWork<E> {
  readonly junction: JunctionTable;
  readonly added: LinkRow<E>[];
  readonly removed: LinkRow<E>[];
}

/** A one-to-many's orphaned items of a batch, in one child table: deleted or soft-deleted after every UPDATE. */
interface OrphanWork<E> {
  readonly stmt: JunctionStatement;
  readonly orphans: OrphanRemoval;
  readonly removed: readonly LinkRow<E>[];
}

/**
 * Writes the links of a batch after its own statements (a new row's key is known then): the
 * before-link hooks, then per junction table one DELETE of the removed links and one INSERT of the
 * added ones, in the call's transaction; a one-to-many's items get one UPDATE of their foreign key
 * per child table, then — when the orphaned ones are removed rather than cleared — one DELETE per
 * child table, then one soft-delete UPDATE per child table (the order of the ORM's save: updates,
 * removes, soft removes). A failure raises the typed database error naming the row,
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
  const all = {
    number: links.number,
    added: [] as LinkRow<E>[],
    removed: [] as LinkRow<E>[],
    items: [] as LinkRow<E>[],
    orphans: [] as LinkRow<E>[],
  };
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
      if (junction.foreignKey?.orphans) {
        all.items.push(...added);
        all.orphans.push(...removed);
      } else if (junction.foreignKey) all.items.push(...added, ...removed);
      done.push(owner);
    }
  }
  for (const entry of work.values()) {
    if (entry.junction.foreignKey) continue;
    all.added.push(...entry.added);
    all.removed.push(...entry.removed);
  }
  if (all.added.length === 0 && all.removed.length === 0 && all.items.length === 0 && all.orphans.length === 0) return undefined;
  refuseUnsavedLinks(model, all.added, links.number);
  if (!firedBefore && options.hooks !== false && target.hooks.beforeLinks) await target.hooks.beforeLinks(all);
  const { session } = target;
  const orphaned: OrphanWork<E>[] = [];
  for (const { junction, added, removed } of work.values()) {
    const table = await readTableCatalog(session, junction);
    const stmt: JunctionStatement = { table, columns: junction.columns, foreignKey: junction.foreignKey };
    if (junction.foreignKey) {
      // A one-to-many's items: one UPDATE clears the removed ones' foreign key and sets the added ones'.
      // Orphans removed rather than cleared are left to the statements below, even one moved to
      // another row of the batch: the ORM's save updates it, then removes it.
      const { orphans } = junction.foreignKey;
      const items = orphans ? added : [...removed, ...added];
      // Batches in input order (a stream's) cannot apply two rows' items out of order: nothing kept for them.
      if (links.keyOrdered) refuseReorderedItems(callOf(session), model, stmt, [...added, ...removed], links.number);
      // Each item's holder before the UPDATE, kept for the later batches (none after the last one).
      const holders = links.last !== true;
      for (const round of itemRounds(stmt, items)) {
        const returned = await send(model, session, stmt, round, compileForeignKeyUpdate, links.number, holders);
        if (holders) recordMoves(callOf(session), model, stmt, round, returned, links.number);
      }
      if (orphans && removed.length > 0) orphaned.push({ stmt, orphans, removed });
      continue;
    }
    if (removed.length > 0) await send(model, session, stmt, removed, compileJunctionDelete, links.number);
    if (added.length > 0) await send(model, session, stmt, added, compileJunctionInsert, links.number);
  }
  for (const action of ['delete', 'soft-delete'] as const) {
    for (const work of orphaned) if (work.orphans.action === action) await removeOrphans(model, session, work, links.number);
  }
  for (const owner of done) owner.written?.();
  return all;
}

/**
 * Refuses links to an entity that has no key when they are written: the related entity is new and
 * not inserted before the links — a row of the call that a related entity inserted with it links to
 * from its side (`label.orders` holding a new order of the call), which the ORM's save inserts first.
 * Without this the junction INSERT would fail on a NULL key column, blaming the data. The adapters'
 * link values are primary keys (a junction referencing other columns is refused by the relation
 * finders, naming them), never NULL for a stored entity: a NULL here is an entity without a key yet.
 */
function refuseUnsavedLinks<E>(model: BoundModel<E>, added: readonly LinkRow<E>[], batchNumber: number): void {
  const link = added.find((row) => row.values.some((value) => value === null || value === undefined));
  if (!link) return;
  const entityName = link.links.entityName ?? model.name;
  throw new UnsupportedFeatureError(
    'many-to-many link',
    `${entityName}.${link.links.property} at row ${link.index} links ${entityName} and ${link.links.target} entities, one of which has no key when cohort writes the link (a new entity of the call inserted after it, e.g. a row reached from a related entity's side); the ORM's own save inserts it first. Nothing was written: set the link from the rows' own side, or insert the related entities first.`,
    { entityName, property: link.links.property, index: link.index, entity: link.entity, batch: batchNumber },
  );
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
  // Removed items whose rows are deleted or soft-deleted go with the removes, after the updates.
  const orphans: LinkRow<E>[] = [];
  for (const { entity, index, links: rowLinks } of links.rows) {
    for (const owner of rowLinks) {
      const row = (values: readonly unknown[]) => ({ links: owner, values, entity, index });
      if (owner.junction.foreignKey) {
        if (kind === 'added') continue;
        if (owner.junction.foreignKey.orphans) {
          items.push(...owner.added().map(row));
          orphans.push(...owner.removed().map(row));
        } else items.push(...[...owner.added(), ...owner.removed()].map(row));
      } else rows.push(...owner[kind]().map(row));
    }
  }
  if (rows.length === 0 && items.length === 0 && orphans.length === 0) return;
  await target.hooks.beforeLinks({
    number: links.number,
    added: kind === 'added' ? rows : [],
    removed: kind === 'removed' ? rows : [],
    items,
    orphans,
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
    kind === 'added'
      ? { ...written, removed: [], items: [], orphans: [] }
      : kind === 'removed'
        ? { ...written, added: [] }
        : written;
  const any = part.added.length + part.removed.length + (part.items?.length ?? 0) + (part.orphans?.length ?? 0);
  if (any > 0) await target.hooks.afterLinks(part);
}

async function send<E>(
  model: BoundModel<E>,
  session: WriteTarget<E>['session'],
  stmt: JunctionStatement,
  links: readonly LinkRow<E>[],
  compile: typeof compileForeignKeyUpdate,
  batchNumber: number,
  returnHolders = false,
): Promise<Record<string, string | null>[]> {
  const values = stmt.columns.map((_, c) => links.map((link) => toPgText(link.values[c])));
  const query = compile(stmt, values, returnHolders);
  try {
    return await session.query<Record<string, string | null>>(query.sql, query.parameters);
  } catch (error) {
    throw linkError(model, error, stmt, links, values, batchNumber, stmt.foreignKey ? 'sets the foreign key of' : 'links to');
  }
}

/**
 * The UPDATEs of a one-to-many's items, in order: the ORM's save sends one per item and row whose
 * collection took or dropped it, in the rows' order, so an item two rows of the batch name (one drops
 * it, the other takes it, or both take it) ends as the later row leaves it — at NULL when the row
 * dropping it comes last — its version moved on, and its update date set, by each. The first link of
 * every item goes in the first UPDATE, a second link of an item in the second, and so on: each UPDATE
 * names an item once (PostgreSQL's UPDATE … FROM applies one arbitrary match of a key named twice).
 */
function itemRounds<E>(stmt: JunctionStatement, items: readonly LinkRow<E>[]): LinkRow<E>[][] {
  const rounds: LinkRow<E>[][] = [];
  const seen = new Map<string, number>();
  for (const link of [...items].sort((a, b) => a.index - b.index)) {
    const key = itemKey(stmt, link);
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    if (round === rounds.length) rounds.push([]);
    rounds[round]?.push(link);
  }
  return rounds;
}

/**
 * Deletes (or soft-deletes) a batch's orphaned items of one child table with the statements of a
 * remove (delete-statement.ts, soft-delete-statement.ts), matched by primary key alone, as the ORM's
 * save matches them: no version check, and a row already gone (or soft-deleted) is no error. An item
 * two rows of the batch name is sent once.
 */
async function removeOrphans<E>(
  model: BoundModel<E>,
  session: WriteTarget<E>['session'],
  { stmt, orphans, removed }: OrphanWork<E>,
  batchNumber: number,
): Promise<void> {
  const key = stmt.columns.slice(0, stmt.foreignKey?.keyColumns ?? 0);
  const seen = new Set<string>();
  const links = removed.filter((link) => {
    const text = itemKey(stmt, link);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
  const keys = key.map((_, c) => links.map((link) => toPgText(link.values[c])));
  let query: CompiledQuery;
  if (orphans.action === 'delete') query = compileDelete({ table: stmt.table, key }, { keys });
  else {
    const { deleteDate, updateDate, version } = orphans;
    query = compileSoftDelete({ table: stmt.table, key, deleteDate, updateDate, bumpVersion: version, returning: [] }, { keys });
  }
  try {
    await session.query(query.sql, query.parameters);
  } catch (error) {
    const what = orphans.action === 'delete' ? 'deletes the orphaned' : 'soft-deletes the orphaned';
    throw linkError(model, error, { ...stmt, columns: key }, links, keys, batchNumber, what);
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
  what: string,
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
  const message = `${relation} (${what} ${link?.links.target} in ${stmt.table.qualifiedName}): ${converted.message}`;
  const Kind = converted.constructor as new (...args: ConstructorParameters<typeof BulkDatabaseError<E>>) => BulkDatabaseError<E>;
  return new Kind(
    message,
    error as PgErrorFields,
    { batch: converted.batch, index: converted.index, entity: converted.entity },
    error,
  );
}
