// In-process transports: tinyrpc's CallbackServerTransport(reader, writer), and a connected
// client/server pair for tests and for embedding a server in the same process.

import { ErrorCode, SwitchboardError } from "../errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES, type ClientTransport, type IncomingMessage, type ServerTransport } from "./transport.js";

const encoder = new TextEncoder();

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  // tinyrpc json-encodes anything that is not already a message
  return encoder.encode(typeof value === "string" ? value : JSON.stringify(value));
}

/**
 * A server transport over two callbacks: `reader` yields the next message (`undefined` once
 * there are no more: the transport is then closed), `writer` takes each reply. The context is
 * always `undefined`.
 */
export class CallbackServerTransport implements ServerTransport<undefined> {
  private closed = false;

  constructor(
    private readonly reader: () => unknown,
    private readonly writer: (reply: Uint8Array) => void | Promise<void>,
  ) {}

  async receiveMessage(): Promise<IncomingMessage<undefined> | undefined> {
    if (this.closed) return undefined;
    const value = await this.reader();
    if (value === undefined || this.closed) {
      this.closed = true;
      return undefined;
    }
    return { context: undefined, message: toBytes(value) };
  }

  async sendReply(_context: undefined, reply: Uint8Array): Promise<void> {
    await this.writer(reply);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Reply route of a message on a memory transport. */
export interface MemoryContext {
  /** Sequence number of the message on this transport, from 1. */
  readonly seq: number;
}

interface Pending {
  readonly message: Uint8Array;
  readonly context: MemoryContext;
  readonly resolve: (reply: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

export interface MemoryTransportOptions {
  /** Messages larger than this are refused with `MESSAGE_TOO_LARGE` (default 4 MiB). */
  maxMessageBytes?: number;
}

/** The server half of `memoryTransportPair()`. */
export class MemoryServerTransport implements ServerTransport<MemoryContext> {
  private readonly queue: Pending[] = [];
  private readonly waiters: ((message: IncomingMessage<MemoryContext> | undefined) => void)[] = [];
  private readonly awaitingReply = new Map<number, Pending>();
  private seq = 0;
  private closed = false;
  readonly maxMessageBytes: number;

  constructor(options: MemoryTransportOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /**
   * Delivers a client message; resolves with the server's reply. Throws at once (not through
   * the promise) when the transport is closed or the message is too large.
   */
  deliver(message: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "the memory transport is closed");
    if (message.length > this.maxMessageBytes) {
      throw new SwitchboardError(ErrorCode.MESSAGE_TOO_LARGE, `message of ${message.length} bytes exceeds the limit of ${this.maxMessageBytes}`);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      // copied so the sender may reuse its buffer
      const pending: Pending = { message: message.slice(), context: { seq: ++this.seq }, resolve, reject };
      const waiter = this.waiters.shift();
      if (waiter) this.hand(pending, waiter);
      else this.queue.push(pending);
    });
  }

  private hand(pending: Pending, waiter: (m: IncomingMessage<MemoryContext>) => void): void {
    this.awaitingReply.set(pending.context.seq, pending);
    waiter({ context: pending.context, message: pending.message });
  }

  receiveMessage(): Promise<IncomingMessage<MemoryContext> | undefined> {
    const next = this.queue.shift();
    if (next) {
      return new Promise((resolve) => this.hand(next, resolve));
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async sendReply(context: MemoryContext, reply: Uint8Array): Promise<void> {
    const pending = this.awaitingReply.get(context.seq);
    if (!pending) throw new SwitchboardError(ErrorCode.TRANSPORT, `no message ${context.seq} is awaiting a reply`);
    this.awaitingReply.delete(context.seq);
    pending.resolve(reply.slice());
  }

  /** Stops accepting; queued messages nobody received are refused, received ones may still be answered. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    for (const pending of this.queue.splice(0)) pending.reject(new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "the memory transport closed before the message was received"));
  }
}

/** The client half of `memoryTransportPair()`. */
export class MemoryClientTransport implements ClientTransport {
  private closed = false;
  constructor(private readonly server: MemoryServerTransport) {}

  async sendMessage(message: Uint8Array, expectReply: boolean): Promise<Uint8Array | undefined> {
    if (this.closed) throw new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "the client transport is closed");
    const reply = this.server.deliver(message);
    if (expectReply) return await reply;
    // one-way: the server still answers (empty); it is read and discarded. A refusal was thrown
    // above; the only later failure is a close before the server received it, which a one-way
    // sender has by definition chosen not to wait for.
    reply.catch(() => undefined);
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A connected in-memory server/client transport pair. */
export function memoryTransportPair(options: MemoryTransportOptions = {}): { server: MemoryServerTransport; client: MemoryClientTransport } {
  const server = new MemoryServerTransport(options);
  return { server, client: new MemoryClientTransport(server) };
}
