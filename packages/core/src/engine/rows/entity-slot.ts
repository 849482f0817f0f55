/**
 * A value an adapter keeps per entity object (its per-call state, a snapshot): in a non-enumerable
 * symbol property of the entity, or, for an entity that cannot take one (sealed, frozen), in a weak
 * map. A weak map entry per row costs more to set, to read and to collect than a property; the
 * property never shows in `Object.keys`, JSON or spreads.
 */
export class EntitySlot<T> {
  private readonly key: symbol;
  // Boxed, so that a cleared value of an object frozen while holding one can be recorded too.
  private readonly sealed = new WeakMap<object, { value: T | undefined }>();

  constructor(description: string) {
    this.key = Symbol(description);
  }

  get(entity: object): T | undefined {
    // The weak map first: an entity frozen after it took the property keeps its old value there.
    const boxed = this.sealed.get(entity);
    return boxed ? boxed.value : (entity as Record<symbol, T | undefined>)[this.key];
  }

  /** Sets the entity's value; `undefined` clears it (the property stays, so the object keeps its shape). */
  set(entity: object, value: T | undefined): void {
    const own = Object.hasOwn(entity, this.key);
    if (own && !Object.isFrozen(entity)) {
      (entity as Record<symbol, T | undefined>)[this.key] = value;
      this.sealed.delete(entity);
    } else if (own) {
      this.sealed.set(entity, { value });
    } else if (value === undefined) {
      this.sealed.delete(entity);
    } else if (Object.isExtensible(entity)) {
      Object.defineProperty(entity, this.key, { value, writable: true });
    } else {
      this.sealed.set(entity, { value });
    }
  }
}
