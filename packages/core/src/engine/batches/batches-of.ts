import type { InputBatch } from '../../adapter/contract.js';
import { BulkUsageError } from '../../errors/usage-errors.js';
import { CallStamp } from './call-stamp.js';

/**
 * Splits an array or an (async) iterable into batches, pulling only one batch at a time so that an
 * import of any length runs in bounded memory. An object given twice (in one batch or in two) is
 * refused with a {@link BulkUsageError} naming both rows: it would be written twice (TypeORM's save()
 * does so, a new one as two rows; MikroORM's flush writes it once — docs/differences.md).
 */
export async function* batchesOf<E>(input: Iterable<E> | AsyncIterable<E>, size: number): AsyncGenerator<InputBatch<E>> {
  // checkOptions refuses a bad batchSize first; this guards callers of the engine that skip it.
  if (!Number.isInteger(size) || size < 1) {
    throw new BulkUsageError(`batchSize must be a positive integer, got ${String(size)}`, { option: 'batchSize' });
  }
  refuseNonIterable(input);
  let number = 0;
  let next = 0;
  let entities: E[] = [];
  let indices: number[] = [];
  const call = {};
  const take = (entity: E): InputBatch<E> | undefined => {
    if (entity === null || typeof entity !== 'object') {
      const got = entity === null ? 'null' : typeof entity;
      throw new BulkUsageError(`row ${next} is ${got}, not an entity object`, { index: next, entity });
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
    // Arrays and other sync iterables are read without an await per row. A full batch of an array or
    // a Set waits for the next row, so that the last one is known as such (`last`); looking ahead
    // runs no code of the caller's there, where a generator's next row could depend on the batch.
    const ahead = Array.isArray(input) || input instanceof Set;
    let full: InputBatch<E> | undefined;
    for (const entity of input) {
      if (full) {
        yield full;
        full = undefined;
      }
      const batch = take(entity);
      if (batch && ahead) full = batch;
      else if (batch) yield batch;
    }
    if (full) yield { ...full, last: true };
  }
  // The input has ended: no batch follows this one.
  if (entities.length > 0) yield { number: number++, entities, indices, last: true };
}

/** The input must be an array, a Set, a generator or an async iterable of entities (not a string). */
function refuseNonIterable(input: unknown): void {
  const what = input === null ? 'null' : typeof input;
  if (typeof input === 'string') {
    throw new BulkUsageError('the input is a string, not an iterable of entities (an array, a Set, a generator or a stream)');
  }
  if (input !== null && (typeof input === 'object' || typeof input === 'function')) {
    const iterable = input as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
    if (typeof iterable[Symbol.iterator] === 'function' || typeof iterable[Symbol.asyncIterator] === 'function') return;
    throw new BulkUsageError(
      `the input is an object that is not iterable (${(input as object).constructor?.name ?? 'no class'}), not an iterable of entities`,
    );
  }
  throw new BulkUsageError(`the input is ${what}, not an iterable of entities (an array, a Set, a generator or a stream)`);
}

function repeated<E>(entity: E, first: number, index: number): BulkUsageError<E> {
  return new BulkUsageError(`rows ${first} and ${index} are the same object: a call takes each entity once`, {
    index,
    indices: [first, index],
    entity,
  });
}
