/**
 * What to put back, newest last, when the transaction that wrote a call's entities rolls back: the
 * unit of work's registrations, persist-stack removals and hydrated values.
 */
export class UndoLog {
  // Each step with its argument: a step done for every entity is one function, not a closure per entity.
  private readonly steps: ((subject: never) => void)[] = [];
  private readonly subjects: unknown[] = [];

  /** Records how to undo a change just made: `step(subject)`, or `step()`. */
  push<S>(step: (subject: S) => void, subject?: S): void {
    this.steps.push(step as (subject: never) => void);
    this.subjects.push(subject);
  }

  /** A point to roll back to (the start of a transaction). */
  mark(): number {
    return this.steps.length;
  }

  /** Undoes every change recorded since `mark`, newest first. */
  rollBack(mark: number): void {
    const steps = this.steps.splice(mark);
    const subjects = this.subjects.splice(mark);
    for (let i = steps.length - 1; i >= 0; i--) (steps[i] as (subject: unknown) => void)(subjects[i]);
  }
}
