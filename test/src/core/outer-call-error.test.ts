// A call of its own's error told in its running call's terms (inOuterCall: the batch, a stale
// version's rows; located: the row): only the position text cohort wrote is rewritten, never a
// hook's or the driver's own words inside the message that name a batch or a row too.
import { BulkHookError, ConnectionLostError, OptimisticLockError } from '@cohort/core';
import { inOuterCall, located } from '@cohort/core/adapter';
import { describe, expect, it } from 'vitest';

const relation = { entityName: 'Keeper', property: 'tag', target: 'Tag' };

describe('inOuterCall and located rewrite only the position text cohort wrote', () => {
  it("a hook failing at its batch, its message naming that batch: cohort's `batch 0` becomes the running call's, the hook's stays", () => {
    const error = new BulkHookError('beforeUpdate', { batch: 0 }, new Error('stop before batch 0 or batch 1'));
    inOuterCall(error, 3, () => undefined);
    expect(error.batch).toBe(3);
    expect(error.message).toBe('beforeUpdate hook failed at batch 3: stop before batch 0 or batch 1');
  });

  it("a hook failing at a row, its message naming rows and batches: located tells the input row, the hook's words stay", () => {
    const error = new BulkHookError('afterDelete', { batch: 0, index: 0 }, new Error('row 0 of batch 0 is locked'));
    inOuterCall(error, 2, () => 5);
    located(error, relation, 'removed', 5);
    expect(error).toMatchObject({ batch: 2, index: 5 });
    expect(error.message).toBe(
      'Tag reached through Keeper.tag (removed with the row): afterDelete hook failed at row 5: row 0 of batch 0 is locked',
    );
  });

  it('a stale version: the message lists the rows its indices hold, after located prefixed it too', () => {
    const error = new OptimisticLockError([0, 1], [{}, {}], 0);
    inOuterCall(error, 4, (position) => [7, 9][position]);
    located(error, relation, 'updated', 7);
    expect(error).toMatchObject({ batch: 4, index: 7, indices: [7, 9] });
    expect(error.message).toBe(
      'Tag reached through Keeper.tag (updated with the row): 2 row(s) changed by someone else since they were read (stale version): rows 7, 9',
    );
  });

  it("a lost connection, the driver's message naming a batch: cohort's `with batch 0 in flight` only", () => {
    const error = new ConnectionLostError(new Error('terminated during batch 0'), { batch: 0 }, false);
    inOuterCall(error, 1, () => undefined);
    expect(error.message).toBe(
      'connection to PostgreSQL lost with batch 1 in flight: terminated during batch 0; nothing of the call was committed',
    );
  });
});
