import type { ObjectLiteral, RelationMetadata } from 'typeorm';

/** A new item inserted with its holder, whose own reference to the holder is unset. */
interface Held {
  /** The item's own relation to the holder (`line.order`). */
  readonly relation: RelationMetadata;
  readonly holder: ObjectLiteral;
}

// save() inserts the new items of a one-to-many (or the new target of an inverse one-to-one) that
// cascades inserts with the holder's key even when their own reference is unset (`order.lines =
// [line]`, `line.order` undefined): OneToManySubjectBuilder puts the holder in the item's change
// map, and the object is left as it was. cohort notes the holder while the call inserts the item.
const held = new WeakMap<object, Held>();

/** Notes that the call inserts `item` with `holder`'s key through the item's `relation`. */
export function holdItem(item: ObjectLiteral, relation: RelationMetadata, holder: ObjectLiteral): void {
  held.set(item, { relation, holder });
}

/** Forgets the item's holder once its insert is done (or abandoned). */
export function releaseItem(item: object): void {
  held.delete(item);
}

/** The holder whose key the item's `relation` takes while the call inserts it, when its reference is unset. */
export function heldBy(item: ObjectLiteral, relation: RelationMetadata): ObjectLiteral | undefined {
  const entry = held.get(item);
  return entry && entry.relation === relation && relation.getEntityValue(item) === undefined ? entry.holder : undefined;
}
