import {
  type EntityMetadata,
  type EventArgs,
  type EventManager,
  type EventSubscriber,
  type EventType,
  Utils,
} from '@mikro-orm/core';

type AnyEntity = object;
type Listener = (args: EventArgs<AnyEntity>) => unknown;

/** A subscriber listening for one event, with the entities it subscribes to (by class or name). */
interface SubscribedListener {
  readonly subscriber: EventSubscriber;
  readonly entities: ReadonlySet<unknown>;
}

/** The subscribers of an EventManager that listen for one event, in registration order. */
interface EventListeners {
  /** How many subscribers the EventManager had (it only ever gains some). */
  readonly subscribers: number;
  readonly listeners: readonly SubscribedListener[];
}

const cache = new WeakMap<EventManager, Map<EventType, EventListeners>>();

/**
 * `events.dispatchEvent(event, args, meta)` for one entity event: the entity's hooks of the event
 * (`meta.hooks`, as MikroORM resolves them: a function, else the entity's or the prototype's method
 * of that name), then the subscribers that listen for it and admit the entity's class (or its
 * name), called one after the other with `args`, each awaited before the next — a synchronous one
 * too, as MikroORM awaits every listener. Same listeners, same order, same arguments, the same
 * awaits; without MikroORM's per-call work (a bound function per listener, its list and its
 * `runSerial` result array), the subscribers that listen for the event being worked out once per
 * EventManager instead of per call.
 */
export async function dispatchEntityEvent(
  events: EventManager,
  event: EventType,
  args: EventArgs<AnyEntity>,
  meta: EntityMetadata<AnyEntity>,
): Promise<void> {
  const entity = args.entity as AnyEntity & { constructor: { name: string } };
  const hooks = (meta.hooks[event] ?? []) as (string | Listener)[];
  const subscribers = listenersOf(events, event);
  // As MikroORM: every listener is resolved before the first one runs.
  const calls: [Listener, unknown][] = [];
  for (const hook of hooks) {
    const own =
      typeof hook === 'function'
        ? hook
        : ((entity as Record<string, unknown>)[hook] ?? (meta.prototype as Record<string, unknown>)[hook]);
    calls.push([own as Listener, entity]);
  }
  for (const { subscriber, entities } of subscribers) {
    if (entities.size === 0 || entities.has(entity.constructor) || entities.has(entity.constructor.name)) {
      calls.push([(subscriber as Record<string, unknown>)[event] as Listener, subscriber]);
    }
  }
  for (const [fn, self] of calls) await fn.call(self, args);
}

/**
 * As the EventManager indexes them when a subscriber is registered: the subscribers with a method
 * for the event, with their entities. Worked out once per EventManager and event, again when a
 * subscriber is added.
 */
function listenersOf(events: EventManager, event: EventType): readonly SubscribedListener[] {
  const subscribers = events.getSubscribers();
  let byEvent = cache.get(events);
  if (!byEvent) {
    byEvent = new Map();
    cache.set(events, byEvent);
  }
  let known = byEvent.get(event);
  if (!known || known.subscribers !== subscribers.size) {
    const listeners: SubscribedListener[] = [];
    for (const subscriber of subscribers) {
      if (!(event in subscriber)) continue;
      const entities = new Set((subscriber.getSubscribedEntities?.() ?? []).map((name) => Utils.classOrName<object>(name)));
      listeners.push({ subscriber, entities });
    }
    known = { subscribers: subscribers.size, listeners };
    byEvent.set(event, known);
  }
  return known.listeners;
}
