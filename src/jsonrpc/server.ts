// tinyrpc's RPCServer: pulls messages from a transport, parses them with a protocol, runs the
// requests through a dispatcher, and sends exactly one reply per message (an empty one when
// JSON-RPC says "no response", so lock-step clients never hang). Unlike tinyrpc 0.6, nothing
// a client sends can end serveForever(): every failure becomes an error response.

import { toJSONRPCError } from "./errors.js";
import type { RPCDispatcher } from "./dispatcher.js";
import type { ParsedEntry, RPCProtocol, RPCResponse } from "./protocol.js";
import type { ServerTransport } from "./transport.js";

/** Direction of a traced message: `'-->'` incoming, `'<--'` outgoing (ASCII, as tinyrpc). */
export type TraceDirection = "-->" | "<--";
export type TraceFunction<C = unknown> = (direction: TraceDirection, context: C, message: Uint8Array) => void;

/**
 * How one message's handling is run. It receives a function that never rejects; the default
 * starts it at once, so messages are handled concurrently and each reply goes out when ready.
 * Replace it to queue work, bound concurrency, or hand it to a pool.
 */
export type SpawnFunction = (run: () => Promise<void>) => void;

/** Failures that cannot be answered to the client (the reply could not be sent, a trace hook threw). */
export type ServerErrorHandler<C = unknown> = (error: unknown, context: C | undefined) => void;

export interface RPCServerOptions<C = unknown> {
  trace?: TraceFunction<C>;
  spawn?: SpawnFunction;
  onError?: ServerErrorHandler<C>;
}

const defaultSpawn: SpawnFunction = (run) => {
  void run();
};

const defaultOnError: ServerErrorHandler = (error) => {
  process.emitWarning(`JSON-RPC server: ${error instanceof Error ? error.message : String(error)}`, { code: "SWITCHBOARD_JSONRPC" });
};

export class RPCServer<C = unknown> {
  /** Called with each incoming message and each non-empty outgoing reply (before it is sent). */
  trace: TraceFunction<C> | undefined;
  spawn: SpawnFunction;
  onError: ServerErrorHandler<C>;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    readonly transport: ServerTransport<C>,
    readonly protocol: RPCProtocol,
    readonly dispatcher: RPCDispatcher,
    options: RPCServerOptions<C> = {},
  ) {
    this.trace = options.trace;
    this.spawn = options.spawn ?? defaultSpawn;
    this.onError = options.onError ?? (defaultOnError as ServerErrorHandler<C>);
  }

  /**
   * Waits for one message and starts handling it through `spawn`. Resolves `true` once it is
   * handed over, `false` when the transport is closed (nothing was received).
   */
  async receiveOneMessage(): Promise<boolean> {
    const incoming = await this.transport.receiveMessage();
    if (incoming === undefined) return false;
    const { context, message } = incoming;
    this.callTrace("-->", context, message);
    let done!: () => void;
    const settled = new Promise<void>((resolve) => (done = resolve));
    this.inFlight.add(settled);
    const run = async (): Promise<void> => {
      try {
        await this.handle(context, message);
      } catch (e) {
        this.report(e, context);
      } finally {
        this.inFlight.delete(settled);
        done();
      }
    };
    try {
      this.spawn(run);
    } catch (e) {
      // a spawn hook that refuses still owes the client its reply: run inline
      this.report(e, context);
      void run();
    }
    return true;
  }

  /**
   * Serves until the transport closes, then waits for the messages still being handled.
   * Nothing a client sends rejects it; only a transport whose `receiveMessage()` rejects
   * (a broken transport, not a bad message) does, once the in-flight messages are answered.
   */
  async serveForever(): Promise<void> {
    try {
      while (await this.receiveOneMessage());
    } finally {
      while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    }
  }

  /** Parses, dispatches and answers one message. Rejects only if the reply cannot be sent. */
  private async handle(context: C, message: Uint8Array): Promise<void> {
    let reply: Uint8Array;
    try {
      const parsed = this.protocol.parseRequest(message);
      const responses = await Promise.all(parsed.entries.map((entry) => this.answer(entry)));
      reply = this.protocol.serializeReply(
        responses.filter((r): r is RPCResponse => r !== undefined),
        parsed.batch,
      );
    } catch (e) {
      // only a faulty protocol implementation gets here; the client still gets its one reply
      this.report(e, context);
      reply = new Uint8Array(0);
    }
    if (reply.length > 0) this.callTrace("<--", context, reply);
    await this.transport.sendReply(context, reply);
  }

  private async answer(entry: ParsedEntry): Promise<RPCResponse | undefined> {
    if (entry.kind === "error") return entry.response;
    const { request } = entry;
    try {
      const result = await this.dispatcher.dispatch(request);
      return request.id === undefined ? undefined : { ok: true, id: request.id, result };
    } catch (e) {
      return request.id === undefined ? undefined : { ok: false, id: request.id, error: toJSONRPCError(e) };
    }
  }

  private callTrace(direction: TraceDirection, context: C, message: Uint8Array): void {
    if (!this.trace) return;
    try {
      this.trace(direction, context, message);
    } catch (e) {
      this.report(e, context);
    }
  }

  /** onError, guarded: a throwing handler must not become an unhandled rejection. */
  private report(error: unknown, context: C | undefined): void {
    try {
      this.onError(error, context);
    } catch (e) {
      defaultOnError(e, context);
    }
  }
}
