// Lifecycle calls counted by the benchmark's listeners and subscribers, reset before each timed write.

/** Lifecycle calls seen during one measured write. */
export interface HookCounts {
  /** Entity listeners (`@BeforeInsert`/`@BeforeCreate`, `@BeforeUpdate`, `@BeforeRemove`/`@BeforeDelete`). */
  listener: number;
  beforeInsert: number;
  afterInsert: number;
  /** afterInsert/afterCreate calls whose entity already carried its key. */
  afterInsertWithKey: number;
  beforeUpdate: number;
  afterUpdate: number;
  beforeUpsert: number;
  afterUpsert: number;
  beforeRemove: number;
  afterRemove: number;
}

export const hooks: HookCounts = emptyCounts();

export function emptyCounts(): HookCounts {
  return {
    listener: 0,
    beforeInsert: 0,
    afterInsert: 0,
    afterInsertWithKey: 0,
    beforeUpdate: 0,
    afterUpdate: 0,
    beforeUpsert: 0,
    afterUpsert: 0,
    beforeRemove: 0,
    afterRemove: 0,
  };
}

export function resetHooks(): void {
  Object.assign(hooks, emptyCounts());
}
