// The base constructor returns the object it is given, so that `new CallStamp(entity, …)` adds
// CallStamp's private fields to that object: state no key listing, spread, JSON or
// Object.assign ever shows, and, unlike a weak map entry or a non-enumerable property, no
// slower to add than an ordinary property (the input is stamped row by row).
class Stamped {
  constructor(entity: object) {
    // biome-ignore lint/correctness/noConstructorReturn: adds the subclass's private fields to `entity`.
    return entity as Stamped;
  }
}

/**
 * Which call took an input object, and at which index: how a call finds an object given twice (in
 * one batch or in two), which it refuses (a second row would be written for it, or written twice).
 * Each call has its own `call` token. Two calls running at once with one object share its stamp:
 * the later one overwrites it, so a repeat in the earlier call may then go unnoticed.
 */
export class CallStamp extends Stamped {
  #call: object;
  #index: number;

  private constructor(entity: object, call: object, index: number) {
    super(entity);
    this.#call = call;
    this.#index = index;
  }

  /** The index `entity` was taken at earlier in `call`, if it was; otherwise records `index`. */
  static take(entity: object, call: object, index: number): number | undefined {
    if (#call in entity) {
      const stamped = entity as CallStamp;
      if (stamped.#call === call) return stamped.#index;
      stamped.#call = call;
      stamped.#index = index;
      return undefined;
    }
    try {
      new CallStamp(entity, call, index);
    } catch {
      // An object that cannot take private fields (a future engine's rule for non-extensible ones).
      return CallStamp.takeAside(entity, call, index);
    }
    return undefined;
  }

  private static readonly aside = new WeakMap<object, { call: object; index: number }>();

  private static takeAside(entity: object, call: object, index: number): number | undefined {
    const seen = CallStamp.aside.get(entity);
    if (seen?.call === call) return seen.index;
    CallStamp.aside.set(entity, { call, index });
    return undefined;
  }
}
