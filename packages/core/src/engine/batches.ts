import { BulkUsageError } from '../errors/usage-errors.js';
import { CallStamp } from './call-stamp.js';

/** One batch of input rows, with their indices in the whole input. */
export interface InputBatch<E> {
  readonly number: number;
  readonly entities: E[];
  readonly indices: number[];
}

/**
 * Splits an array or an (async) iterable into batches, pulling only one batch at a time so that an
 * import of any length runs in bounded memory. An object given twice (in one batch or in two) is
 * refused with a {@link BulkUsageError} naming both rows: it would be written twice (TypeORM's save()
 * does so, a new one as two rows; MikroORM's flush writes it once — docs/differences.md).
 */
export async function* batchesOf<E>(input: Iterable<E> | AsyncIterable<E>, size: number): AsyncGenerator<InputBatch<E>> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`cohort: batchSize must be a positive integer, got ${size}`);
  let number = 0;
  let next = 0;
  let entities: E[] = [];
  let indices: number[] = [];
  const call = {};
  const take = (entity: E): InputBatch<E> | undefined => {
    if (entity === null || typeof entity !== 'object') {
      // A usage mistake, so a BulkWriteError like every error cohort throws (SPEC §9).
      throw new BulkUsageError(`row ${next} is not an entity object (got ${entity === null ? 'null' : typeof entity})`, {
        index: next,
      });
    }
    const first = CallStamp.take(entity, call, next);
    if (first !== undefined) throw repeated(entity, first, next);
    entities.push(entity);
    indices.push(next++);
    if (entities.length < size) return undefined;
    const batch = { number: number++, entities, indices };
    entities = [];
    indices = [];
    return batch;
  };
  if (Symbol.asyncIterator in input) {
    for await (const entity of input) {
      const batch = take(entity);
      if (batch) yield batch;
    }
  } else {
    // Arrays and other sync iterables are read without an await per row.
    for (const entity of input) {
      const batch = take(entity);
      if (batch) yield batch;
    }
  }
  if (entities.length > 0) yield { number: number++, entities, indices };
}

function repeated<E>(entity: E, first: number, index: number): BulkUsageError<E> {
  return new BulkUsageError(`rows ${first} and ${index} are the same object: a call takes each entity once`, {
    index,
    indices: [first, index],
    entity,
  });
}
