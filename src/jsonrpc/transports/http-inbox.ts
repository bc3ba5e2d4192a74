// The pull side shared by the HTTP and WebSocket server transports: messages arrive from
// socket events (push) while RPCServer asks for them one at a time (pull, tinyrpc's
// `receive_message()`). A FIFO of messages meets a FIFO of waiting receivers.
import type { IncomingMessage } from "../transport.js";

/** A FIFO that hands pushed messages to pending `next()` calls; `close()` drains then ends. */
export class MessageInbox<C> {
  #queue: IncomingMessage<C>[] = [];
  #waiters: ((m: IncomingMessage<C> | undefined) => void)[] = [];
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues one message (or hands it to a waiting receiver); false once closed. */
  push(message: IncomingMessage<C>): boolean {
    if (this.#closed) return false;
    const waiter = this.#waiters.shift();
    if (waiter) waiter(message);
    else this.#queue.push(message);
    return true;
  }

  /** The next message; `undefined` once closed and every queued message was taken. */
  next(): Promise<IncomingMessage<C> | undefined> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Refuses further pushes; waiting receivers get `undefined`, queued messages stay takeable. */
  close(): void {
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w(undefined);
  }
}
