/**
 * What the writes of one transaction of a call are worth once it ends: `rolledBack` set when it rolls
 * back. A mark per entity on one shared object (written-entities.ts) instead of an undo step per
 * entity, which would hold every entity a stream wrote until the call ends.
 */
export interface WriteEpoch {
  rolledBack: boolean;
}

/**
 * What to put back, newest last, when the transaction that wrote a call's entities rolls back: the
 * unit of work's registrations, persist-stack removals and hydrated values.
 */
export class UndoLog {
  // Each step with its argument: a step done for every entity is one function, not a closure per entity.
  private readonly steps: ((subject: never) => void)[] = [];
  private readonly subjects: unknown[] = [];
  // The epochs of the transactions begun (marks), oldest first, with the mark each began at.
  private readonly epochs: { readonly at: number; readonly epoch: WriteEpoch }[] = [];

  /** Records how to undo a change just made: `step(subject)`, or `step()`. */
  push<S>(step: (subject: S) => void, subject?: S): void {
    this.steps.push(step as (subject: never) => void);
    this.subjects.push(subject);
  }

  /** A point to roll back to (the start of a transaction); begins its write epoch. */
  mark(): number {
    const at = this.steps.length;
    this.epochs.push({ at, epoch: { rolledBack: false } });
    return at;
  }

  /** The write epoch of the transaction running now (the latest mark's). */
  epoch(): WriteEpoch {
    let last = this.epochs.at(-1);
    if (!last) {
      last = { at: 0, epoch: { rolledBack: false } };
      this.epochs.push(last);
    }
    return last.epoch;
  }

  /** Undoes every change recorded since `mark`, newest first. */
  rollBack(mark: number): void {
    const steps = this.steps.splice(mark);
    const subjects = this.subjects.splice(mark);
    for (let i = steps.length - 1; i >= 0; i--) (steps[i] as (subject: unknown) => void)(subjects[i]);
    // Every epoch begun since: a nested call's, which fails its running call too (see bulk-insert.ts).
    while ((this.epochs.at(-1)?.at ?? -1) >= mark) (this.epochs.pop() as { epoch: WriteEpoch }).epoch.rolledBack = true;
  }
}
