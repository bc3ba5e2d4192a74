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
  // Messages handed to spawn and not yet answered, and who waits for that count to reach 0
  // (a counter, not a promise per message: this is on every call's path).
  private inFlight = 0;
  private idle: (() => void)[] = [];

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
    this.inFlight++;
    const run = this.runner(context, message);
    try {
      this.spawn(run);
    } catch (e) {
      // a spawn hook that refuses still owes the client its reply: run inline
      this.report(e, context);
      void run();
    }
    return true;
  }

  /** What spawn gets: runs the message at most once, whatever a spawn hook does (the in-flight count must stay exact). */
  private runner(context: C, message: Uint8Array): () => Promise<void> {
    let started = false;
    return () => {
      if (started) return Promise.resolve();
      started = true;
      return this.run(context, message);
    };
  }

  /** handle(), never rejecting, and counted out of inFlight when done. */
  private async run(context: C, message: Uint8Array): Promise<void> {
    try {
      await this.handle(context, message);
    } catch (e) {
      this.report(e, context);
    } finally {
      if (--this.inFlight === 0 && this.idle.length > 0) {
        const waiters = this.idle;
        this.idle = [];
        for (const w of waiters) w();
      }
    }
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
      while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    }
  }

  /** Parses, dispatches and answers one message. Rejects only if the reply cannot be sent. */
  private async handle(context: C, message: Uint8Array): Promise<void> {
    let reply: Uint8Array;
    try {
      const parsed = this.protocol.parseRequest(message);
      const { entries } = parsed;
      if (entries.length === 1) {
        // the common case, one call, without the batch's arrays and Promise.all
        const response = await this.answer(entries[0]!);
        reply = this.protocol.serializeReply(response === undefined ? [] : [response], parsed.batch);
      } else {
        const responses = await Promise.all(entries.map((entry) => this.answer(entry)));
        reply = this.protocol.serializeReply(
          responses.filter((r): r is RPCResponse => r !== undefined),
          parsed.batch,
        );
      }
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
