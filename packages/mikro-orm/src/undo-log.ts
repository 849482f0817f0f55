/**
 * What to put back, newest last, when the transaction that wrote a call's entities rolls back: the
 * unit of work's registrations, persist-stack removals and hydrated values.
 */
export class UndoLog {
  private readonly steps: (() => void)[] = [];

  /** Records how to undo a change just made. */
  push(step: () => void): void {
    this.steps.push(step);
  }

  /** A point to roll back to (the start of a transaction). */
  mark(): number {
    return this.steps.length;
  }

  /** Undoes every change recorded since `mark`, newest first. */
  rollBack(mark: number): void {
    for (const step of this.steps.splice(mark).reverse()) step();
  }
}
