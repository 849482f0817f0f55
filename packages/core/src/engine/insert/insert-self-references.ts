// A tree written in one call: a row whose parent is a new entity of its own table, in the same batch
// or later in the input. Both ORMs' saves insert such rows with the join column NULL and set it once
// the parent has its key (TypeORM: one UPDATE per row after its INSERT; MikroORM: its extra updates);
// cohort does the same with one UPDATE per batch (and relation) for every row whose parent got its
// key in that batch's statement: rows of the batch and rows of earlier batches still waiting.
import type { InputBatch, SelfReference, WriteTarget } from '../../adapter/contract.js';
import type { BulkWriteError } from '../../errors/bulk-write-error.js';
import { convertDatabaseError } from '../../errors/pg-error-converter.js';
import { BulkUsageError, UnsupportedFeatureError } from '../../errors/usage-errors.js';
import type { BoundColumn, BoundModel } from '../../model/bound-model.js';
import { primaryColumns } from '../../model/entity-model.js';
import { readTableCatalog } from '../../model/table-catalog.js';
import { encodeColumn } from '../../sql/batch-values.js';
import { compileReferenceUpdate } from '../../sql/reference-update.js';
import type { InsertOptions } from '../options/bulk-options.js';
import { resolveConflict } from '../upsert/conflict-plan.js';
import { InsertedEntities } from './inserted-entities.js';

/** A row whose join columns wait for its parent's key. */
interface Waiting<E> {
  readonly entity: E;
  readonly index: number;
  readonly reference: SelfReference;
}

/**
 * The rows of one call that refer to new entities of their own table, from the batch that inserts
 * them until their parent has a key and the follow-up UPDATE wrote it.
 */
export class SelfReferenceWrites<E> {
  readonly #waiting: Waiting<E>[] = [];
  readonly #input: InsertedEntities | undefined;

  constructor(
    private readonly model: BoundModel<E>,
    private readonly options: Pick<InsertOptions, 'onInvalid' | 'onConflict' | 'atomic'>,
    input?: unknown,
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
  collect(batch: InputBatch<E>): void {
    const find = this.model.selfReferences;
    if (!find) return;
    const rows = new Set<unknown>(batch.entities);
    batch.entities.forEach((entity, position) => {
      for (const reference of find(entity) ?? []) {
        const index = batch.indices[position] as number;
        const why = this.#refusal(reference, rows);
        if (why) throw refused(this.model, reference, batch, position, why);
        this.#waiting.push({ entity, index, reference });
      }
    });
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
    if (option) return `cohort links a new parent of the same call, but not with ${option}, which may leave the parent unwritten`;
    if (rows.has(reference.target)) return undefined;
    if (this.#input?.has(reference.target) && this.options.atomic !== false) return undefined;
    return this.options.atomic === false && this.#input?.has(reference.target)
      ? "with atomic: false the row's batch would commit before its parent (in a later batch) is written: put the parent in the same batch or an earlier one"
      : 'that entity is not in the rows the call inserts (a stream: not in the same batch): give it in the input, in the same batch or an earlier one';
  }

  /**
   * After a batch's statement (its rows' keys are on the objects): the join columns of every waiting
   * row whose parent has its key now, one UPDATE per relation's columns, in the call's transaction.
   */
  async write(target: WriteTarget<E>, batchNumber: number): Promise<void> {
    if (this.#waiting.length === 0) return;
    const byColumns = new Map<string, Waiting<E>[]>();
    const still: Waiting<E>[] = [];
    for (const row of this.#waiting) {
      // The parent is a row of the same table: its key is read with the model's own key columns.
      const referenced = this.#columns(row.reference.referenced);
      if (referenced.some((column) => column.read(row.reference.target as E) == null)) {
        still.push(row);
        continue;
      }
      const key = row.reference.columns.join('\u0000');
      byColumns.set(key, [...(byColumns.get(key) ?? []), row]);
    }
    this.#waiting.splice(0, this.#waiting.length, ...still);
    for (const rows of byColumns.values()) await this.#update(target, rows, batchNumber);
  }

  async #update(target: WriteTarget<E>, rows: readonly Waiting<E>[], batchNumber: number): Promise<void> {
    const keys = primaryColumns(this.model);
    const first = (rows[0] as Waiting<E>).reference;
    const set = this.#columns(first.columns);
    const referenced = this.#columns(first.referenced);
    const columns = [...keys, ...set];
    const values = [
      ...keys.map((column) =>
        encodeColumn(
          column as BoundColumn<never>,
          rows.map((r) => column.read(r.entity)),
        ),
      ),
      ...referenced.map((column) =>
        encodeColumn(
          column as BoundColumn<never>,
          rows.map((r) => column.read(r.reference.target as E)),
        ),
      ),
    ];
    const table = await readTableCatalog(target.session, this.model);
    const query = compileReferenceUpdate({ table, keys: keys.map((c) => c.name), set: set.map((c) => c.name) }, values);
    try {
      await target.session.query(query.sql, query.parameters);
    } catch (error) {
      const located = {
        columns: columns.map((c) => c.name),
        values,
        indices: rows.map((r) => r.index),
        entities: rows.map((r) => r.entity),
      };
      throw convertDatabaseError<E>(error, located, batchNumber) as BulkWriteError<E>;
    }
    for (const row of rows) row.reference.written?.();
  }

  #columns(names: readonly string[]): BoundColumn<E>[] {
    return names.map((name) => {
      const column = this.model.columns.find((c) => c.name === name);
      // An adapter names only its model's join columns; anything else is a mapping it cannot write.
      if (!column) throw new BulkUsageError(`${this.model.name} maps no column ${name} (a self-reference's join column)`);
      return column;
    });
  }
}

function refused<E>(
  model: BoundModel<E>,
  reference: SelfReference,
  batch: InputBatch<E>,
  position: number,
  why: string,
): UnsupportedFeatureError<E> {
  const entityName = reference.entityName ?? model.name;
  const index = batch.indices[position] as number;
  const message = `${entityName}.${reference.property} at row ${index} refers to a ${model.name} that has no key yet; ${why} (unsaved reference). Nothing was written.`;
  return new UnsupportedFeatureError('unsaved reference', message, {
    entityName,
    property: reference.property,
    index,
    entity: batch.entities[position],
    batch: batch.number,
  });
}
