// The per-entity value adapters keep (row state, snapshots): on the object where it can be, in a
// weak map where it cannot, never visible to keys, JSON or spreads.
import { EntitySlot } from '@cohort/core/adapter';
import { describe, expect, it } from 'vitest';

describe('EntitySlot', () => {
  it('keeps a value per object, invisible to keys, JSON and spreads, and clears it', () => {
    const slot = new EntitySlot<{ n: number }>('test');
    const entity = { id: 1 };
    expect(slot.get(entity)).toBeUndefined();
    slot.set(entity, { n: 1 });
    expect(slot.get(entity)).toEqual({ n: 1 });
    expect(Object.keys(entity)).toEqual(['id']);
    expect(JSON.stringify(entity)).toBe('{"id":1}');
    expect({ ...entity }).toEqual({ id: 1 });
    expect(Object.getOwnPropertySymbols({ ...entity })).toEqual([]);
    slot.set(entity, { n: 2 });
    expect(slot.get(entity)).toEqual({ n: 2 });
    slot.set(entity, undefined);
    expect(slot.get(entity)).toBeUndefined();
    expect(new EntitySlot('other').get(entity)).toBeUndefined();
  });

  it('works for frozen and sealed objects, and for one frozen after it took a value', () => {
    const slot = new EntitySlot<string>('test');
    const frozen = Object.freeze({ id: 1 });
    slot.set(frozen, 'a');
    expect(slot.get(frozen)).toBe('a');
    slot.set(frozen, undefined);
    expect(slot.get(frozen)).toBeUndefined();

    const sealedLater = { id: 2 };
    slot.set(sealedLater, 'a');
    Object.seal(sealedLater);
    slot.set(sealedLater, 'b');
    expect(slot.get(sealedLater)).toBe('b');

    const frozenLater = { id: 3 };
    slot.set(frozenLater, 'a');
    Object.freeze(frozenLater);
    slot.set(frozenLater, 'b');
    expect(slot.get(frozenLater)).toBe('b');
    slot.set(frozenLater, undefined);
    expect(slot.get(frozenLater)).toBeUndefined();
  });
});
