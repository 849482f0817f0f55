import { BulkWriteError } from './bulk-write-error.js';

/** The batches of a non-atomic call that committed before a failure. */
export class PartialImportError<E = unknown> extends BulkWriteError<E> {
  override name = 'PartialImportError';
  /** Numbers of the batches that committed. */
  readonly landedBatches: readonly number[];
  /** Input rows up to this index (exclusive) are in the database. */
  readonly resumeFrom: number;

  constructor(cause: BulkWriteError<E>, landedBatches: number[], resumeFrom: number) {
    super(
      `${cause.message} (batches ${landedBatches.length ? landedBatches.join(', ') : 'none'} committed; resume from row ${resumeFrom})`,
      cause,
      { cause },
    );
    this.landedBatches = landedBatches;
    this.resumeFrom = resumeFrom;
  }
}
