// A tree written in one call: a row whose parent is a new entity of its own table, in the same batch
// or later in the input. Both ORMs' saves insert such rows with the join column NULL and set it once
// the parent has its key (TypeORM: one UPDATE per row after its INSERT; MikroORM: its extra updates);
// cohort does the same with one UPDATE per batch (and relation) for every row whose parent got its
// key in that batch's statement: rows of the batch and rows of earlier batches still waiting. Like
// the ORMs' UPDATEs it moves the rows' version and update dates on, and it fires the update events
// the ORM fires for them (issue 22): TypeORM an afterUpdate per row, MikroORM beforeUpdate and
// afterUpdate, each as a batch (batch subscribers get beforeBulkUpdate / afterBulkUpdate). What
// MikroORM's UPDATE writes beside the parent (onUpdate values, what a hook changed) the adapter names
// per row in the change's columns; rows that write different columns go in separate statements. A tree
// among the related entities a cascade inserts (`author.mentor`, both new) is a cascade group's:
// its work after the insert events waits for the holder's batch (cascade-inserts.ts, LateTrees).
import type { InputBatch, RowChange, SelfReference, TreeUpdate, UpdateHookBatch, WriteTarget } from '../../adapter/contract.js';
import { BulkValidationError, type ValidationFailure } from '../../errors/bulk-write-error.js';
import { UnsupportedFeatureError } from '../../errors/usage-errors.js';
import type { BoundColumn, BoundModel } from '../../model/bound-model.js';
import { columnFailures } from '../../validate/batch-validator.js';
import type { InsertOptions } from '../options/bulk-options.js';
import { resolveConflict } from '../upsert/conflict-plan.js';
import { InsertedEntities } from './inserted-entities.js';
import { joinColumnsOf, sendTreeLinks, type Waiting } from './tree-link-update.js';
import { unsavedReferenceError } from './unsaved-reference-error.js';

/** The rows a tree's UPDATE links, and what their update events carry. */
interface Ready<E> {
  readonly rows: readonly (readonly Waiting<E>[])[];
  readonly linked: UpdateHookBatch<E> & { readonly changes: RowChange[] };
}

/**
 * A tree's work after its batch's insert events, in phases: the caller runs each phase for every
 * tree of the batch's graph (the rows' and their related classes') before the next, as flush runs
 * its extra updates' before-update events, their statements, then their after-update events.
 */
export interface LateTree {
  before(): Promise<void>;
  write(): Promise<void>;
  after(): Promise<void>;
}

/**
 * The rows of one call that refer to new entities of their own table, from the batch that inserts
 * them until their parent has a key and the follow-up UPDATE wrote it.
 */
export class SelfReferenceWrites<E> {
  readonly #waiting: Waiting<E>[] = [];
  readonly #input: InsertedEntities | undefined;
  // Rows linked by a batch's UPDATE whose after-update events are still to run.
  readonly #linked: UpdateHookBatch<E>[] = [];
  // The rows of the batches collected so far: inserted by the call (or the call failed).
  readonly #collected = new WeakSet<object>();

  /**
   * `insertsAll`: every row of an array input is inserted by the call (bulkInsert), so a later row
   * is a parent to wait for whatever key it carries; bulkSave knows that only of its batch's new rows.
   */
  constructor(
    private readonly model: BoundModel<E>,
    private readonly options: Pick<InsertOptions, 'onInvalid' | 'onConflict' | 'atomic' | 'validate' | 'hooks'>,
    input?: unknown,
    private readonly insertsAll = false,
  ) {
    // Only a model with self-references asks which rows are the input's.
    this.#input = model.selfReferences && Array.isArray(input) ? new InsertedEntities(input) : undefined;
  }

  /**
   * The batch's references to new entities of its own table, after its before-hooks (a hook may set
   * a parent). Refused (nothing of the batch written) when the parent cannot get its key in time: a
   * NOT NULL join column; a parent that is neither in the batch nor later in an array input (a
   * stream's later rows are unknown; with `atomic: false` the row would be committed without it);
   * options that may leave the parent unwritten (`onInvalid: 'skip'`, `onConflict`).
   */
  collect(batch: InputBatch<E>): ReadonlyMap<E, readonly string[]> | undefined {
    const find = this.model.selfReferences;
    if (!find) return undefined;
    const rows = new Set<unknown>(batch.entities);
    // A row of the call it has yet to insert: the key it carries now (left by a failed call, set by
    // hand) is not the one this call gives it — a later row's is not in the table yet, and the
    // batch's own rows get new keys where the key column is not inserted (a serial key is dropped).
    // Not with options that may leave a row unwritten (its key then names a stored row): as before.
    const plain = this.options.onInvalid !== 'skip' && resolveConflict(this.model, this.options.onConflict).kind === 'error';
    const pending = (target: object) =>
      plain && (rows.has(target) || (this.insertsAll && this.#input?.has(target) === true && !this.#collected.has(target)));
    // The join columns the row's INSERT sends as NULL: its parent's key is written by the tree's UPDATE.
    let detached: Map<E, string[]> | undefined;
    batch.entities.forEach((entity, position) => {
      for (const reference of find(entity, pending) ?? []) {
        if (this.#keyed(reference) && rows.has(reference.target) && this.#keptOnInsert(reference)) continue;
        const index = batch.indices[position] as number;
        const why = this.#refusal(reference, rows);
        if (why) throw unsavedReferenceError(this.model, reference, batch, position, why);
        this.#waiting.push({ entity, index, reference });
        if (!pending(reference.target)) continue;
        detached ??= new Map();
        detached.set(entity, [...(detached.get(entity) ?? []), ...reference.columns]);
      }
    });
    for (const entity of batch.entities) this.#collected.add(entity as object);
    return detached;
  }

  /** Whether the target's key columns are inserted as the object holds them (not dropped for new ones). */
  #keptOnInsert(reference: SelfReference): boolean {
    return reference.referenced.every((name) => this.model.columns.find((c) => c.name === name)?.insertable === true);
  }

  #refusal(reference: SelfReference, rows: ReadonlySet<unknown>): string | undefined {
    if (!reference.nullable) {
      return 'its join column is NOT NULL, so the row cannot be inserted before that entity has its key: insert the parents first (an earlier batch or call)';
    }
    const option =
      this.options.onInvalid === 'skip'
        ? "onInvalid: 'skip'"
        : resolveConflict(this.model, this.options.onConflict).kind !== 'error'
          ? 'onConflict'
          : undefined;
    // With these options the row itself may be left unwritten too, and its tree UPDATE would then
    // write over a stored row of that key (onConflict) or fire update events for nothing: refused
    // even when the parent has its key already.
    if (option)
      return `cohort links a new parent of the same call, but not with ${option}, which may leave the parent or the row unwritten`;
    // A parent an earlier batch of the call inserted (MikroORM: one flush of the input would still
    // link the row with its extra update) has its key: nothing can leave it unwritten any more.
    if (rows.has(reference.target)) return undefined;
    if (this.#keyed(reference) && !this.#input?.has(reference.target)) return undefined;
    if (this.#keyed(reference) && this.#collected.has(reference.target)) return undefined;
    if (this.#input?.has(reference.target) && this.options.atomic !== false) return undefined;
    return this.options.atomic === false && this.#input?.has(reference.target)
      ? "with atomic: false the row's batch would commit before its parent (in a later batch) is written: put the parent in the same batch or an earlier one"
      : 'that entity is not in the rows the call inserts (a stream: not in the same batch): give it in the input, in the same batch or an earlier one';
  }

  /** Whether the reference's target has its key already (every referenced key column read). */
  #keyed(reference: SelfReference): boolean {
    return reference.referenced.every((name) => {
      const column = this.model.columns.find((c) => c.name === name);
      return column !== undefined && column.read(reference.target as E) != null;
    });
  }

  /**
   * After a batch's statement (its rows' keys are on the objects): the tree's UPDATE, as TypeORM's
   * save() sends it right after the INSERT — unless the ORM sends it after its inserts (the
   * adapter's {@link TreeUpdate} `before`, MikroORM's extra updates), then {@link afterInserts} does.
   */
  async afterStatement(target: WriteTarget<E>, batchNumber: number): Promise<void> {
    if (this.#late) return;
    const ready = this.#ready(batchNumber);
    if (ready) await this.#send(target, ready, batchNumber);
  }

  /**
   * What runs after the batch's every insert event (and its stored rows' updates), in phases that
   * the caller runs for every tree of the batch's graph together (a {@link LateTree}): a late
   * UPDATE's before-update events, then its statements, then the after-update events of the rows
   * linked since the last call — as flush's extra updates and TypeORM's save() fire them.
   */
  afterInserts(target: WriteTarget<E>, batchNumber: number): LateTree {
    let ready: Ready<E> | undefined;
    return {
      before: async () => {
        if (!this.#late) return;
        ready = this.#ready(batchNumber);
        if (ready) await this.#before(target, ready, batchNumber);
      },
      write: async () => {
        if (ready) await this.#send(target, ready, batchNumber);
      },
      after: async () => {
        const linked = this.#linked.splice(0);
        for (const batch of linked) if (target.hooks.afterUpdate) await target.hooks.afterUpdate(batch);
      },
    };
  }

  /**
   * With the UPDATE right after the INSERT (TypeORM): the rows linked since the last call, for the
   * caller to fire their after-update events with the stored rows' (save(): in input order).
   */
  takeLinked(): UpdateHookBatch<E>[] {
    return this.#late ? [] : this.#linked.splice(0);
  }

  get #late(): boolean {
    return this.model.treeUpdate?.before === true;
  }

  get #hooks(): boolean {
    return this.options.hooks !== false;
  }

  /**
   * The waiting rows whose parent has its key now, taken off the waiting list, with what their
   * update events carry; undefined when there are none.
   */
  #ready(batchNumber: number): Ready<E> | undefined {
    if (this.#waiting.length === 0) return undefined;
    const ready = new Map<E, Waiting<E>[]>();
    const still: Waiting<E>[] = [];
    for (const row of this.#waiting) {
      // The parent is a row of the same table: its key is read with the model's own key columns.
      const referenced = joinColumnsOf(this.model, row.reference.referenced);
      // A row of the call is the parent once its batch went in, whatever key it carried before.
      const target = row.reference.target;
      const unsent = this.#input?.has(target) === true && !this.#collected.has(target as object);
      if (unsent || referenced.some((column) => column.read(target as E) == null)) {
        still.push(row);
        continue;
      }
      ready.set(row.entity, [...(ready.get(row.entity) ?? []), row]);
    }
    this.#waiting.splice(0, this.#waiting.length, ...still);
    if (ready.size === 0) return undefined;
    const rows = [...ready.values()];
    const tree = this.model.treeUpdate;
    const linked: Ready<E>['linked'] = {
      number: batchNumber,
      entities: rows.map((r) => (r[0] as Waiting<E>).entity),
      indices: rows.map((r) => (r[0] as Waiting<E>).index),
      changes: rows.map((r) => changeOf(tree, r, batchNumber)),
    };
    return { rows, linked };
  }

  /** With the adapter's {@link TreeUpdate} `before`: the rows' before-update events (hooks allowing); `hooked` gives each row's change after them. */
  async #before(target: WriteTarget<E>, { linked }: Ready<E>, batchNumber: number): Promise<void> {
    const tree = this.model.treeUpdate;
    if (!tree?.before || !this.#hooks || !target.hooks.beforeUpdate) return;
    await target.hooks.beforeUpdate(linked);
    const { hooked } = tree;
    if (!hooked) return;
    linked.entities.forEach((entity, position) => {
      linked.changes[position] = hooked(
        entity,
        linked.changes[position] as RowChange,
        linked.indices[position] as number,
        batchNumber,
      );
    });
  }

  /**
   * The join columns of the ready rows, in the call's transaction — one UPDATE for them (one per set
   * of join columns, when rows wait on different relations), which moves their version and update
   * dates on as the ORMs' own UPDATE does; their after-update events wait for {@link afterInserts}.
   */
  async #send(target: WriteTarget<E>, { rows, linked }: Ready<E>, batchNumber: number): Promise<void> {
    const changes = linked.changes;
    // Per row, the columns its UPDATE writes beside the join columns (what the adapter's change names).
    const extras = rows.map((r, position) => this.#extra(r, changes[position] as RowChange, batchNumber));
    this.#validate(rows, extras, batchNumber);
    // One statement per set of columns written: a row is in one of them, so its version moves once.
    const byColumns = new Map<string, number[]>();
    rows.forEach((r, position) => {
      const key = [...r.flatMap((w) => w.reference.columns), '', ...(extras[position] as BoundColumn<E>[]).map((c) => c.name)];
      const signature = key.join('\u0000');
      byColumns.set(signature, [...(byColumns.get(signature) ?? []), position]);
    });
    for (const positions of byColumns.values()) {
      await sendTreeLinks(
        this.model,
        target,
        positions.map((p) => rows[p] as Waiting<E>[]),
        extras[positions[0] as number] as BoundColumn<E>[],
        positions.map((p) => changes[p] as RowChange),
        batchNumber,
      );
    }
    if (this.model.treeUpdate && this.#hooks) this.#linked.push(linked);
  }

  /**
   * The columns the row's change names beside its join columns, in model order; its version and
   * update dates the UPDATE moves on anyway. Refused (`tree update`, naming the row; nothing of the
   * tree's UPDATE sent) when one of them is not a column the UPDATE may write (not updatable, a
   * primary key, none of the model's): the ORM's UPDATE would write it, cohort's cannot.
   */
  #extra(rows: readonly Waiting<E>[], change: RowChange, batchNumber: number): BoundColumn<E>[] {
    const named = change.columns;
    if (!named || named.length === 0) return [];
    const joins = new Set(rows.flatMap((w) => w.reference.columns));
    const wanted = new Set(named.filter((name) => !joins.has(name)));
    if (wanted.size === 0) return [];
    for (const name of wanted) {
      const column = this.model.columns.find((c) => c.name === name);
      if (column?.role === 'version' || column?.role === 'updateDate') continue;
      if (column?.updatable && !column.primary) continue;
      const row = rows[0] as Waiting<E>;
      const entityName = row.reference.entityName ?? this.model.name;
      const property = column?.property ?? name;
      const why = column
        ? column.primary
          ? 'is a primary key'
          : 'is not updatable'
        : `is no column cohort maps for ${this.model.name}`;
      throw new UnsupportedFeatureError(
        'tree update',
        `${entityName}.${property} at row ${row.index}: the ORM writes it (column ${name}) in the UPDATE that sets a tree's parent after its insert, but it ${why}, so cohort cannot write it there and refuses rather than leave it unwritten. Nothing was written. Insert the parents first (an earlier call), or leave ${property} unchanged.`,
        { entityName, property, index: row.index, entity: row.entity, batch: batchNumber },
      );
    }
    return this.model.columns.filter(
      (c) => wanted.has(c.name) && c.updatable && !c.primary && c.role !== 'version' && c.role !== 'updateDate',
    );
  }

  /** The other columns' values, checked as an update checks its changed columns (unless `validate: false`). */
  #validate(rows: readonly (readonly Waiting<E>[])[], extras: readonly (readonly BoundColumn<E>[])[], batchNumber: number): void {
    if (this.options.validate === false) return;
    const failures: ValidationFailure<E>[] = [];
    rows.forEach((r, position) => {
      const columns = extras[position] as readonly BoundColumn<E>[];
      const row = r[0] as Waiting<E>;
      if (columns.length > 0) columnFailures(columns, row.entity, row.index, undefined, failures);
    });
    if (failures.length > 0) throw new BulkValidationError(failures, batchNumber);
  }
}

/** What a linked row's update events carry: the adapter's change, or its join columns. */
function changeOf<E>(tree: TreeUpdate<E> | undefined, rows: readonly Waiting<E>[], batchNumber: number): RowChange {
  const references = rows.map((w) => w.reference);
  const row = rows[0] as Waiting<E>;
  if (tree) return tree.change(row.entity, references, row.index, batchNumber);
  const properties = references.map((r) => r.property);
  return {
    properties,
    before: Object.fromEntries(properties.map((p) => [p, null])),
    columns: references.flatMap((r) => r.columns),
  };
}
