/**
 * grpclib-style events: listeners registered per target and event name, called in
 * registration order, each able to mutate the event and `interrupt()` the rest.
 * Dispatch costs one Map lookup when nobody listens.
 */
export interface EventBase {
  /** Stops the listeners registered after this one from seeing the event. */
  interrupt(): void;
  readonly interrupted: boolean;
}

/** A listener; it may be async, and is awaited before the next one runs. */
export type Listener<E> = (event: E) => void | Promise<void>;

/** The listeners of one target (a Channel, or a Server), by event name. */
export class EventBus<Events extends { [K in keyof Events]: object }> {
  private readonly listeners = new Map<keyof Events, Listener<any>[]>();
  private count = 0;

  /** Adds a listener for `name`; returns a function that removes it. */
  on<K extends keyof Events>(name: K, fn: Listener<Events[K] & EventBase>): () => void {
    let list = this.listeners.get(name);
    if (!list) this.listeners.set(name, (list = []));
    list.push(fn);
    this.count++;
    return () => {
      const i = list!.indexOf(fn);
      if (i >= 0) {
        list!.splice(i, 1);
        this.count--;
      }
    };
  }

  /** Whether anyone listens for anything: hot paths check this once per call. */
  get active(): boolean {
    return this.count > 0;
  }

  /** Whether anyone listens for `name` (so callers can skip building the event). */
  has(name: keyof Events): boolean {
    const list = this.listeners.get(name);
    return list !== undefined && list.length > 0;
  }

  /** Runs the listeners for `name` in order on `fields`, and returns the (mutated) event. */
  async dispatch<K extends keyof Events>(name: K, fields: Events[K]): Promise<Events[K] & EventBase> {
    let interrupted = false;
    const event = Object.assign(fields as object, {
      interrupt() {
        interrupted = true;
      },
      get interrupted() {
        return interrupted;
      },
    }) as Events[K] & EventBase;
    for (const fn of [...(this.listeners.get(name) ?? [])]) {
      await fn(event);
      if (interrupted) break;
    }
    return event;
  }
}

/**
 * Event fields where `readOnly` ones cannot be assigned (a TypeError in strict code), so a
 * listener cannot pretend to change what is already decided, such as a call's status.
 */
export function eventFields<M extends object, R extends object>(mutable: M, readOnly: R): M & Readonly<R> {
  const fields = { ...mutable } as M & Readonly<R>;
  for (const key of Object.keys(readOnly) as (keyof R)[]) {
    Object.defineProperty(fields, key, { value: readOnly[key], enumerable: true, writable: false });
  }
  return fields;
}

/** Anything with events (grpclib `IEventsTarget`). */
export interface EventTarget<Events extends { [K in keyof Events]: object }> {
  readonly events: EventBus<Events>;
}

/** grpclib `listen(target, Event, callback)`: registers a listener on a channel or server. */
export function listen<Events extends { [K in keyof Events]: object }, K extends keyof Events>(
  target: EventTarget<Events>,
  name: K,
  fn: Listener<Events[K] & EventBase>,
): () => void {
  return target.events.on(name, fn);
}
