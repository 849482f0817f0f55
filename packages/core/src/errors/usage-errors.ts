import { BulkWriteError, type FailureLocation } from './bulk-write-error.js';

/**
 * The call itself is wrong: an unknown or invalid option, an input that is not a list of entities,
 * a target that does not exist. Nothing was written; calling again the same way fails the same way.
 *
 * @example
 * ```ts
 * try { await bulkInsert(ds, User, users, { batchsize: 500 }); }
 * catch (e) { if (e instanceof BulkUsageError) console.log(e.option); } // 'batchsize'
 * ```
 */
export class BulkUsageError<E = unknown> extends BulkWriteError<E> {
  override name = 'BulkUsageError';
  /** The option at fault, when an option is. */
  readonly option?: string;
  /** The rows at fault, when the fault is between rows (the same object given twice). */
  readonly indices?: readonly number[];

  constructor(
    message: string,
    details: FailureLocation<E> & { option?: string; indices?: readonly number[]; cause?: unknown } = {},
  ) {
    super(`cohort: ${message}`, details, 'cause' in details ? { cause: details.cause } : undefined);
    this.option = details.option;
    this.indices = details.indices;
  }
}

/**
 * The input uses an ORM feature or option cohort does not write (yet), where going on would leave
 * rows or objects other than the ORM's own save would. Nothing was written. The message names the
 * entity class, the property or option, and the feature.
 */
export class UnsupportedFeatureError<E = unknown> extends BulkUsageError<E> {
  override name = 'UnsupportedFeatureError';
  /** What is not supported, in a few words (`cascade insert`, `many-to-many link`, `option listeners`). */
  readonly feature: string;
  /** The entity class concerned, when one is. */
  readonly entityName?: string;
  /** The property concerned, when one is. */
  readonly property?: string;

  constructor(
    feature: string,
    message: string,
    details: FailureLocation<E> & { option?: string; entityName?: string; property?: string } = {},
  ) {
    super(message, details);
    this.feature = feature;
    this.entityName = details.entityName;
    this.property = details.property;
  }
}

/**
 * The same refusal, naming the row: an adapter's column read refuses a value without knowing which
 * row it reads; the engine, which does, names it.
 */
export function refusalAtRow<E>(error: UnsupportedFeatureError<E>, index: number, entity: E): UnsupportedFeatureError<E> {
  if (error.index !== undefined) return error;
  const message = `${error.message.replace(/^cohort: /, '')} (row ${index})`;
  return new UnsupportedFeatureError<E>(error.feature, message, {
    entityName: error.entityName,
    property: error.property,
    option: error.option,
    batch: error.batch,
    index,
    entity,
  });
}
