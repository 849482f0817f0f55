import type { RowOutcome } from './bulk-options.js';

const OUTCOMES: readonly RowOutcome[] = ['inserted', 'updated', 'unchanged', 'removed', 'skipped'];
const CODES = new Map<RowOutcome, number>(OUTCOMES.map((o, i) => [o, i + 1]));

/**
 * The outcome of each input row while a call runs, one byte per row: a stream's result grows with
 * every row it reads, and an array of strings costs a pointer (8 bytes) per row, which V8 then
 * multiplies when it sizes the heap from what is live (docs/guide.md, Memory). {@link toArray} gives
 * the result's `outcomes` once the call is done.
 */
export class RowOutcomes {
  private codes = new Uint8Array(1024);
  private length = 0;

  set(index: number, outcome: RowOutcome): void {
    if (index >= this.codes.length) {
      const grown = new Uint8Array(Math.max(index + 1, this.codes.length * 2));
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[index] = CODES.get(outcome) as number;
    if (index >= this.length) this.length = index + 1;
  }

  get(index: number): RowOutcome | undefined {
    const code = index < this.length ? (this.codes[index] as number) : 0;
    return code === 0 ? undefined : OUTCOMES[code - 1];
  }

  /** The outcomes by input index (an index never given one is a hole, as in an array assigned by index). */
  toArray(): RowOutcome[] {
    const out: RowOutcome[] = [];
    for (let i = 0; i < this.length; i++) {
      const code = this.codes[i] as number;
      if (code !== 0) out[i] = OUTCOMES[code - 1] as RowOutcome;
    }
    return out;
  }
}
