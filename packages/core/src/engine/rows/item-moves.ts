import type { InputBatch, LinkRow, SqlSession } from '../../adapter/contract.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import type { BoundModel } from '../../model/bound-model.js';
import { compileHolderText, exactHolderText } from '../../sql/holder-text.js';
import type { JunctionStatement } from '../../sql/junction-statement.js';
import { toPgText } from '../../sql/pg-text.js';

/** A one-to-many item a batch's UPDATE took from the row that held it before (another row, not NULL): text only. */
interface ItemMove {
  /** The holders' class and relation, and the items' class. */
  readonly entityName: string;
  readonly property: string;
  readonly target: string;
  /** The input row that took it. */
  readonly index: number;
  readonly itemKey: readonly (string | null)[];
  readonly batch: number;
}

/** What an item UPDATE with `returnHolders` returns per item (see compileForeignKeyUpdate). */
type ReturnedHolder = Record<string, string | null>;

/**
 * One call's moved items of one holder class, by the columns their foreign key references (JSON, or
 * `null` where the adapter names none or their type has no exact text: see exactHolderText), then by
 * the old holder's values (their holderText, JSON), with the foreign key's column types.
 */
type MovesOfClass = Map<
  string,
  {
    readonly property: string;
    readonly referenced?: readonly string[];
    readonly types: readonly string[];
    readonly from: Map<string, ItemMove>;
  }
>;

// Per call (its session: one per call, shared by the classes it writes by cascade, whose bound
// models are made per batch) and holder class (the adapter's model, one per class).
const calls = new WeakMap<object, Map<object, MovesOfClass>>();
// Per call and holder class, each item a batch updated or removed: the last row (input index) that did, and its batch.
const touched = new WeakMap<object, Map<object, Map<string, { readonly index: number; readonly batch: number }>>>();

/** The class key of a bound model: the adapter's model it was bound from (bound anew per batch for a related class). */
function classOf<E>(model: BoundModel<E>): object {
  return model.source ?? model;
}

function perClass<V>(records: WeakMap<object, Map<object, V>>, call: object, model: BoundModel<unknown>, make: () => V): V {
  let byClass = records.get(call);
  if (!byClass) {
    byClass = new Map();
    records.set(call, byClass);
  }
  let value = byClass.get(classOf(model));
  if (value === undefined) {
    value = make();
    byClass.set(classOf(model), value);
  }
  return value;
}

/** A one-to-many item's primary key, as text (the first `keyColumns` of its link's values). */
export function itemKeyValues<E>(stmt: JunctionStatement, link: LinkRow<E>): (string | null)[] {
  return link.values.slice(0, stmt.foreignKey?.keyColumns ?? 0).map((value) => toPgText(value));
}

/** {@link itemKeyValues} as one string, for maps and sets. */
export function itemKey<E>(stmt: JunctionStatement, link: LinkRow<E>): string {
  return JSON.stringify(itemKeyValues(stmt, link));
}

/** What the refusals advise. */
const KEEP_TOGETHER =
  "Nothing was written: keep rows that move items between them in one batch (a larger batchSize), or use the ORM's save().";

/**
 * Refuses the item updates and removals of a batch (`links`, in row order) when a row of an earlier
 * batch with a later input index wrote one of the items already: the ORM's save applies the rows'
 * items in input order, cohort in batch order (an update's array is cut into batches in key order),
 * so the item would end as another row leaves it. Then keeps them.
 */
export function refuseReorderedItems<E>(
  call: object,
  model: BoundModel<E>,
  stmt: JunctionStatement,
  links: readonly LinkRow<E>[],
  batchNumber: number,
): void {
  const seen = perClass(touched, call, model as BoundModel<unknown>, () => new Map<string, { index: number; batch: number }>());
  const keyOf = (link: LinkRow<E>) => `${stmt.table.qualifiedName}:${itemKey(stmt, link)}`;
  for (const link of links) {
    const prior = seen.get(keyOf(link));
    if (prior && prior.batch < batchNumber && prior.index > link.index) {
      const { links: rowLinks } = link;
      const entityName = rowLinks.entityName ?? model.name;
      const item = `${rowLinks.target} (${itemKeyValues(stmt, link).join(', ')})`;
      throw new UnsupportedFeatureError<E>(
        'one-to-many move across batches',
        `${entityName}.${rowLinks.property}: rows ${link.index} (batch ${batchNumber}) and ${prior.index} (batch ${prior.batch}) both change the stored item ${item}; cohort writes them in batch order (an update's array goes in key order), the ORM's own save in the rows' order, and the item would end as the other row leaves it. ${KEEP_TOGETHER}`,
        { entityName, property: rowLinks.property, index: link.index, entity: link.entity, batch: batchNumber },
      );
    }
  }
  for (const link of links) {
    const key = keyOf(link);
    const prior = seen.get(key);
    if (!prior || prior.index < link.index) seen.set(key, { index: link.index, batch: batchNumber });
  }
}

/**
 * Keeps the items a batch's UPDATE took away from another holder (`returned`: the statement's rows,
 * each naming its link's position in `round`), for {@link refuseMovedHolders}: the ORM's save loads
 * every row's stored items before its first statement, cohort a batch's when it writes that batch.
 */
export function recordMoves<E>(
  call: object,
  model: BoundModel<E>,
  stmt: JunctionStatement,
  round: readonly LinkRow<E>[],
  returned: readonly ReturnedHolder[],
  batchNumber: number,
): void {
  const keys = stmt.foreignKey?.keyColumns ?? 0;
  const fkColumns = stmt.columns.slice(keys);
  const text = (row: ReturnedHolder, name: string) => fkColumns.map((_, c) => row[`${name}${c}`] ?? null);
  for (const row of returned) {
    const from = text(row, 'old');
    const to = text(row, 'new');
    // Both texts are PostgreSQL's, of one column: equal exactly when the holder is.
    if (from.some((v) => v === null) || to.some((v) => v === null) || from.every((v, c) => v === to[c])) continue;
    const link = round[Number(row.link) - 1];
    if (!link) continue;
    const types = fkColumns.map((name) => stmt.table.columns.get(name)?.castType ?? '');
    // A type whose text may differ between equal values matches every row of the class (loud, not silent).
    const referenced = types.every(exactHolderText) ? stmt.foreignKey?.referenced : undefined;
    const byColumns = perClass(calls, call, model as BoundModel<unknown>, (): MovesOfClass => new Map());
    // Per relation: a row that does not hold one relation may hold another that moved items too.
    const { property } = link.links;
    const columns = JSON.stringify([property, referenced ? [referenced, types] : null]);
    let entry = byColumns.get(columns);
    if (!entry) {
      entry = { property, referenced, types, from: new Map() };
      byColumns.set(columns, entry);
    }
    const holder = JSON.stringify(from);
    if (entry.from.has(holder)) continue;
    const { links } = link;
    entry.from.set(holder, {
      entityName: links.entityName ?? model.name,
      property: links.property,
      target: links.target,
      index: link.index,
      itemKey: itemKeyValues(stmt, link),
      batch: batchNumber,
    });
  }
}

/**
 * Refuses a batch of stored rows one of which held an item that a row of an earlier batch of the
 * call took: cohort reads the row's stored items now, without that item, where the ORM's save read
 * them before its first statement — it would clear (or delete) the item the row dropped, and leave
 * alone an item the row still lists, where cohort would leave it with the row that took it, or move
 * it back. The call's transaction rolls back, so that nothing is written. A row is the old holder
 * when PostgreSQL prints its referenced values, cast to the foreign key's types, as it printed the
 * item's foreign key (one SELECT of the batch's values, when the call has moves of the class). A
 * model whose items' foreign key names no referenced columns, or columns of a type without an exact
 * text, matches every row (the refusal errs on the loud side). A row whose relation the ORM's save
 * does not look at (holdsRelation: not loaded) is no holder of that relation's items.
 */
export async function refuseMovedHolders<E>(
  session: SqlSession,
  call: object,
  model: BoundModel<E>,
  batch: InputBatch<E>,
): Promise<void> {
  const byColumns = calls.get(call)?.get(classOf(model));
  if (!byColumns) return;
  // Per set of referenced columns, the moves of earlier batches and each row's holderText (undefined: every row matches).
  const checks: { property: string; moves: Map<string, ItemMove>; holders?: (string | undefined)[] }[] = [];
  for (const { property, referenced, types, from } of byColumns.values()) {
    const moves = new Map([...from].filter(([, move]) => move.batch < batch.number));
    if (moves.size === 0) continue;
    // A move this batch made is the batch's own (written as save() writes it within a batch).
    checks.push({ property, moves, holders: referenced && (await holderTexts(session, model, batch, referenced, types)) });
  }
  batch.entities.forEach((entity, position) => {
    let move: ItemMove | undefined;
    for (const { property, moves, holders } of checks) {
      // A relation the ORM's save does not look at on this row (not loaded): its items are not read.
      if (model.holdsRelation?.(entity, property) === false) continue;
      // Without referenced columns the model can read, every row may be the holder (loud, not silent).
      const text = holders?.[position];
      move = !holders ? moves.values().next().value : text === undefined ? undefined : moves.get(text);
      if (move) break;
    }
    if (!move) return;
    const index = batch.indices[position] as number;
    const { entityName } = move;
    const relation = `${entityName}.${move.property}`;
    const item = `${move.target} (${move.itemKey.join(', ')})`;
    throw new UnsupportedFeatureError<E>(
      'one-to-many move across batches',
      `${relation}: row ${move.index} (batch ${move.batch}) took the stored item ${item} from the ${entityName} of row ${index} (batch ${batch.number}), whose stored items cohort reads when it writes that later batch, after the move; the ORM's own save reads every row's items before its first statement and would write another result (the item cleared or deleted where the later row drops it, left with the taking row where it still lists it). ${KEEP_TOGETHER}`,
      { entityName, property: move.property, index, entity, batch: batch.number },
    );
  });
}

/**
 * Each row's values of the columns an item's foreign key references, as PostgreSQL prints them cast
 * to the foreign key's `types` (holderText: the text the item UPDATE returned for its old holder),
 * JSON; undefined for a row holding a NULL (it holds no item). Undefined when the model does not
 * know one of the columns: every row matches.
 */
async function holderTexts<E>(
  session: SqlSession,
  model: BoundModel<E>,
  batch: InputBatch<E>,
  referenced: readonly string[],
  types: readonly string[],
): Promise<(string | undefined)[] | undefined> {
  const columns = referenced.map((name) => model.columns.find((col) => col.name === name));
  if (columns.some((column) => column === undefined)) return undefined;
  const values = columns.map((column) =>
    batch.entities.map((entity) => toPgText(column?.read(entity), column?.kind === 'timestamptz')),
  );
  const query = compileHolderText(types, values);
  const rows = await session.query<Record<string, string | null>>(query.sql, query.parameters);
  return rows.map((row) => {
    const text = types.map((_, c) => row[`c${c}`] ?? null);
    return text.some((v) => v === null) ? undefined : JSON.stringify(text);
  });
}
