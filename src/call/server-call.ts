import { constants, type OutgoingHttpHeaders } from "node:http2";
import type { ServerStreamLike } from "../grpc/transport.js";
import * as zlib from "node:zlib";
import { ACCEPT_ENCODING, decompress, isEncoding, type Encoding } from "../codec/compression.js";
import { EnvelopeReader, frameMessage, type Envelope, type EnvelopeSink } from "../codec/envelope.js";
import { MAX_TIMER_MS, type Deadline } from "../deadline.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { encodeGrpcMessage } from "../grpc/percent.js";
import { decodeRequestMetadata } from "../grpc/request-metadata.js";
import { protoStatusDetailsCodec, type StatusDetailsCodec } from "../grpc/status-details.js";
import { Metadata, type MetadataInit } from "../metadata.js";
import { isUnaryRequest, type MethodDefinition, type MethodInfo } from "../service/method.js";
import { guardOf, type ConnectionGuard } from "../server/connection-guard.js";
import { authContextOf, peerIdentityKeyOf, type SessionInfo } from "../server/session-info.js";
import { packDetail, type DetailInput } from "../rich-details.js";
import { Code, fromError, RpcError, statusOf, type Status } from "../status.js";
import { eventFields, type EventBus } from "../events.js";
import type { AuthContext, ServerStream, TrailingStatus } from "./context.js";
import type { ServerEvents } from "./events.js";
import type { CallProtocol, ObservedCall, ObserverSet } from "./observer.js";
import { abortError, statusError } from "./abort.js";

/** Server-wide settings and bookkeeping a call needs. */
export interface CallEnv {
  readonly maxReceiveMessageLength: number;
  readonly maxSendMessageLength: number;
  /** Response compression used when the handler does not choose one. */
  readonly defaultCompression: Encoding;
  /** Called exactly once when the call is over on the wire. */
  onCallEnd(call: ServerCall<any, any>): void;
  /** The server's event listeners (grpclib events). */
  readonly events: EventBus<ServerEvents>;
  /** Encodes rich error details for `grpc-status-details-bin`; null sends none; undefined: google.rpc.Status. */
  readonly statusDetailsCodec?: StatusDetailsCodec | null;
  /**
   * Where failures of user code the call runs outside the handler go (a throwing
   * addCallback() function, a failing status-details codec): the server's onError.
   * Without it they become process warnings.
   */
  readonly reportError?: ((err: unknown, call: ServerCall<any, any>) => void) | undefined;
  /** Metrics, channelz and the dashboard: told about each call while any observer is registered. */
  readonly observers?: ObserverSet;
}

/** What the front learned from the request headers before dispatch. */
export interface RequestFacts {
  readonly contentType: string;
  readonly encoding: Encoding;
  readonly acceptEncoding: string | undefined;
  readonly deadline: Deadline | undefined;
  readonly userAgent: string | undefined;
  readonly rawHeaders: readonly string[];
  readonly session: SessionInfo;
  /** The wire protocol the request came in on (default "grpc"). */
  readonly protocol?: CallProtocol;
}

/** Queued request messages above which the stream is paused, so a fast client cannot fill memory. */
const INBOX_HIGH_WATER = 16;

type Waiter = { resolve: () => void; reject: (err: RpcError) => void };

/**
 * One gRPC call on one HTTP/2 stream: reads request envelopes under the receive
 * limit, writes responses under flow control, and sends the status exactly once.
 * It is both the context of context-style handlers and the stream of stream-style ones.
 */
export class ServerCall<Req = unknown, Res = unknown> implements ServerStream<Req, Res>, EnvelopeSink, ObservedCall {
  readonly method: MethodInfo;
  readonly contentType: string;
  readonly requestEncoding: Encoding;
  readonly deadline: Deadline | undefined;
  readonly userAgent: string | undefined;
  readonly peer: string;
  lastMessageCompressed = false;
  readonly protocol: CallProtocol;
  /** `performance.now()` at dispatch while observers listen, else 0 (no clock read per call). */
  readonly startedAt: number;
  /** Response messages written so far. */
  messagesSent = 0;
  /** The observers when any were registered as the call began. */
  private readonly obs: ObserverSet | undefined;
  /** The status code finish() sent. */
  private sentCode: Code = Code.OK;

  private md: Metadata | undefined;
  private initial: Metadata | undefined;
  private trailing: Metadata | undefined;
  private statusCode: Code = Code.OK;
  private statusDetails = "";
  private headersSent = false;
  /** The status actually went out (trailers sent); `done` alone only means it was decided. */
  private delivered = false;
  /** The status has been sent, or the stream is gone. */
  private done = false;
  private ended = false;
  private endReason: RpcError | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pendingTrailers: OutgoingHttpHeaders | undefined;
  /** addCallback() functions, run once the stream has closed. */
  private terminationCallbacks: (() => void)[] | undefined;

  /** @internal the request parser, fed by the stream's 'data' events */
  readonly reader: EnvelopeReader;
  private inbox: Envelope[] = [];
  private received = 0;
  private clientEnded = false;
  private recvFailure: RpcError | undefined;
  private waiters: Waiter[] = [];
  private paused = false;
  private onRequestComplete: (() => void) | undefined;
  /** @internal the stream is corked until the current burst of writes is over */
  corked = false;
  /** @internal the protections of this call's connection */
  readonly guard: ConnectionGuard | undefined;

  private sendEncoding: Encoding;
  private skipCompression = false;
  private drainWaiters: Waiter[] = [];

  /**
   * The server's listeners when any were registered as the call began, else undefined:
   * every event point costs one check of this field when nobody listens.
   */
  readonly events: EventBus<ServerEvents> | undefined;
  /** Evented sends run one after another so listeners cannot reorder messages. */
  private sendChain: Promise<void> | undefined;
  private initialEventDone = false;
  /** Set while SendTrailingMetadata listeners run: the status is decided, sends are refused. */
  private closing: Promise<void> | undefined;

  constructor(
    readonly stream: ServerStreamLike,
    private readonly def: MethodDefinition<Req, Res>,
    private readonly facts: RequestFacts,
    private readonly env: CallEnv,
  ) {
    this.method = def;
    this.contentType = facts.contentType;
    this.requestEncoding = facts.encoding;
    this.deadline = facts.deadline;
    this.userAgent = facts.userAgent;
    this.peer = facts.session.peer;
    this.guard = guardOf(stream.session);
    this.sendEncoding = "identity";
    this.events = env.events.active ? env.events : undefined;
    this.protocol = facts.protocol ?? "grpc";
    this.obs = env.observers?.active ? env.observers : undefined;
    this.startedAt = this.obs === undefined ? 0 : performance.now();
    if (env.defaultCompression !== "identity") this.setCompression(env.defaultCompression);
    this.reader = new EnvelopeReader(env.maxReceiveMessageLength, this);
    // Shared listener functions find the call through the stream: no closures per call.
    (stream as CallStream)[CALL] = this;
    stream.on("data", onStreamData);
    stream.on("end", onStreamEnd);
    stream.on("close", onStreamClose);
    if (facts.deadline) {
      const ms = facts.deadline.timeRemaining();
      this.timer = setTimeout(() => this.expire(), Math.min(ms, MAX_TIMER_MS));
    }
    this.obs?.callStarted(this);
  }

  /** The connection this call runs on. */
  get session(): ServerStreamLike["session"] {
    return this.stream.session;
  }

  /** Request messages received so far. */
  get messagesReceived(): number {
    return this.received;
  }

  // ---- context ---------------------------------------------------------------------

  get metadata(): Metadata {
    return (this.md ??= decodeRequestMetadata(this.facts.rawHeaders));
  }

  /** @internal a RecvRequest listener replaced the invocation metadata */
  replaceMetadata(metadata: Metadata): void {
    this.md = metadata;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.endReason) this.controller.abort(this.endReason);
    }
    return this.controller.signal;
  }

  get code(): Code {
    return this.statusCode;
  }

  get details(): string {
    return this.statusDetails;
  }

  get trailingMetadata(): Metadata {
    return (this.trailing ??= new Metadata());
  }

  timeRemaining(): number {
    return this.deadline ? this.deadline.timeRemaining() : Infinity;
  }

  isActive(): boolean {
    return !this.done && !this.endReason;
  }

  onCancel(fn: (reason: unknown) => void): void {
    const signal = this.signal;
    if (signal.aborted) queueMicrotask(() => fn(signal.reason));
    else signal.addEventListener("abort", () => fn(signal.reason), { once: true });
  }

  addCallback(fn: () => void): boolean {
    if (typeof fn !== "function") throw new SwitchboardError(ErrorCode.BAD_HANDLER, "addCallback needs a function");
    if (this.ended) return false;
    (this.terminationCallbacks ??= []).push(fn);
    return true;
  }

  async sendInitialMetadata(metadata?: MetadataInit): Promise<void> {
    if (this.headersSent) throw new SwitchboardError(ErrorCode.CALL_STATE, "initial metadata was already sent");
    if (metadata !== undefined) this.initial = new Metadata(metadata);
    if (this.events !== undefined) await this.initialMetadataEvent();
    if (this.headersSent) return;
    this.ensureHeaders();
  }

  /** Runs the SendInitialMetadata listeners once, before the response headers are built. */
  private async initialMetadataEvent(): Promise<void> {
    if (this.initialEventDone || this.headersSent || !this.events!.has("sendInitialMetadata")) return;
    this.initialEventDone = true;
    const event = await this.events!.dispatch("sendInitialMetadata", { metadata: this.initial ?? new Metadata() });
    this.initial = event.metadata.size > 0 ? event.metadata : undefined;
  }

  setTrailingMetadata(metadata: MetadataInit): void {
    this.trailing = new Metadata(metadata);
  }

  abort(code: Code, details = "", options: { metadata?: MetadataInit; details?: readonly DetailInput[] } = {}): never {
    throw abortError(code, details, options);
  }

  abortWithStatus(status: Status & { metadata?: MetadataInit }): never {
    throw statusError(status);
  }

  setCode(code: Code): void {
    this.statusCode = code;
  }

  setDetails(details: string): void {
    this.statusDetails = details;
  }

  setCompression(encoding: Encoding): void {
    if (!isEncoding(encoding)) throw new SwitchboardError(ErrorCode.BAD_COMPRESSION, `unsupported compression ${JSON.stringify(encoding)}`);
    if (this.headersSent) throw new SwitchboardError(ErrorCode.CALL_STATE, "compression must be chosen before response headers are sent");
    // Compress only with an encoding the client said it accepts; identity otherwise.
    this.sendEncoding = encoding === "identity" || acceptsEncoding(this.facts.acceptEncoding, encoding) ? encoding : "identity";
  }

  disableNextMessageCompression(): void {
    this.skipCompression = true;
  }

  peerIdentities(): Buffer[] | null {
    const auth = this.authContext();
    const key = peerIdentityKeyOf(auth);
    return key ? auth[key]! : null;
  }

  peerIdentityKey(): string | null {
    return peerIdentityKeyOf(this.authContext());
  }

  authContext(): AuthContext {
    return authContextOf(this.facts.session);
  }

  // ---- receiving -------------------------------------------------------------------

  /** Waits for the whole request of a unary-request method and returns its one message. */
  async recvUnary(): Promise<Req> {
    while (!this.clientEnded) await this.waitForData();
    if (this.inbox.length === 0) throw this.receiveError(new RpcError(Code.INTERNAL, "request ended without a message"));
    return (await this.recvMessage()) as Req;
  }

  async recvMessage(): Promise<Req | null> {
    for (;;) {
      if (this.recvFailure) throw this.recvFailure;
      if (this.endReason) throw this.endReason;
      if (this.inbox.length > 0) return this.decode(this.inbox.shift()!);
      if (this.clientEnded) return null;
      await this.waitForData();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Req> {
    for (;;) {
      const message = await this.recvMessage();
      if (message === null) return;
      yield message;
    }
  }

  private waitForData(): Promise<void> {
    if (this.paused && this.inbox.length === 0) {
      this.paused = false;
      this.stream.resume();
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  /** Wakes every pending receive; each one re-checks the queue (concurrent recvMessage() is allowed). */
  private wake(err?: RpcError): void {
    if (this.waiters.length === 0) return;
    for (const w of this.waiters.splice(0)) err ? w.reject(err) : w.resolve();
  }

  /** EnvelopeSink: one request message arrived. */
  onEnvelope(env: Envelope): void {
    if (this.done) return;
    if (env.compressed && this.requestEncoding === "identity") {
      return this.failReceive(new RpcError(Code.INTERNAL, "compressed flag set on a message but the request has no grpc-encoding"));
    }
    if (++this.received > 1 && isUnaryRequest(this.def.kind)) {
      return this.failReceive(new RpcError(Code.INTERNAL, "received more than one message for a unary request"));
    }
    this.inbox.push(env);
    this.obs?.messageReceived(this);
    if (this.inbox.length >= INBOX_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
    this.wake();
  }

  /** @internal */
  onClientEnd(): void {
    this.clientEnded = true;
    if (this.reader.partial) this.failReceive(new RpcError(Code.INTERNAL, "request ended in the middle of a message"));
    else this.wake();
    const ready = this.onRequestComplete;
    if (ready && !this.recvFailure && !this.done) {
      this.onRequestComplete = undefined;
      ready();
    }
  }

  /**
   * Runs `fn` once the whole request has arrived without error (unary-request methods
   * start their handler only then, as other gRPC servers do). Never runs it otherwise.
   */
  whenRequestComplete(fn: () => void): void {
    if (this.clientEnded) {
      if (!this.recvFailure && !this.done) fn();
    } else {
      this.onRequestComplete = fn;
    }
  }

  /**
   * The one request message of a complete unary request, decoded synchronously; NEEDS_ASYNC
   * when it needs asynchronous work (decompression) or is missing, so the caller takes the async path.
   */
  takeUnarySync(): Req | typeof NEEDS_ASYNC {
    if (this.inbox.length !== 1 || this.inbox[0]!.compressed) return NEEDS_ASYNC;
    const env = this.inbox.shift()!;
    this.lastMessageCompressed = false;
    try {
      return this.def.deserialize(env.data);
    } catch (err) {
      throw this.receiveError(new RpcError(Code.INTERNAL, `could not parse request message: ${(err as Error).message}`, { cause: err }));
    }
  }

  /** Sends the single response of a unary-response call and its status, without waiting on flow control. */
  respondUnary(response: Res): void {
    if (this.done) return;
    if (this.statusCode === Code.OK) {
      try {
        this.writeMessage(response);
      } catch (err) {
        return this.complete(err);
      }
    }
    this.complete();
  }

  private async decode(env: Envelope): Promise<Req> {
    if (this.inbox.length < INBOX_HIGH_WATER / 2 && this.paused) {
      this.paused = false;
      this.stream.resume();
    }
    this.lastMessageCompressed = env.compressed;
    let data = env.data;
    if (env.compressed) {
      try {
        data = await decompress(this.requestEncoding, data, this.env.maxReceiveMessageLength);
      } catch (err) {
        throw this.receiveError(err as RpcError);
      }
    }
    let message: Req;
    try {
      message = this.def.deserialize(data);
    } catch (err) {
      throw this.receiveError(new RpcError(Code.INTERNAL, `could not parse request message: ${(err as Error).message}`, { cause: err }));
    }
    if (this.events?.has("recvMessage")) message = (await this.events.dispatch("recvMessage", { message })).message as Req;
    return message;
  }

  /** A receive-side failure ends the call with its status at once, and is what recv throws. */
  private receiveError(err: RpcError): RpcError {
    this.failReceive(err);
    return err;
  }

  /** EnvelopeSink: the request stream broke the framing rules. */
  onFramingError(err: RpcError): void {
    this.failReceive(err);
  }

  private failReceive(err: RpcError): void {
    if (this.recvFailure) return;
    this.recvFailure = err;
    this.inbox = [];
    void this.end(statusOf(err), undefined);
    this.abortSignal(err);
    this.wake(err);
  }

  // ---- sending ---------------------------------------------------------------------

  private ensureHeaders(): void {
    if (this.headersSent) return;
    if (!this.initial && this.sendEncoding === "identity") {
      // The usual case: headers shared by every call with this content type (node copies them).
      this.respondWith(plainHeaders(this.contentType));
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    // Metadata first, protocol headers last: the protocol's own values always win.
    if (this.initial) this.initial.writeHeaders(headers as Record<string, string | string[]>);
    headers[":status"] = 200;
    headers["content-type"] = this.contentType;
    headers["grpc-accept-encoding"] = ACCEPT_ENCODING;
    if (this.sendEncoding !== "identity") headers["grpc-encoding"] = this.sendEncoding;
    this.respondWith(headers);
  }

  private respondWith(headers: OutgoingHttpHeaders): void {
    this.guard?.sawActivity();
    try {
      this.stream.respond(headers, RESPOND_WITH_TRAILERS);
    } catch (err) {
      this.initial = undefined;
      throw new RpcError(Code.INTERNAL, `invalid initial metadata: ${(err as Error).message}`, { cause: err });
    }
    this.headersSent = true;
    this.stream.on("wantTrailers", onStreamWantTrailers);
  }

  async sendMessage(message: Res): Promise<void> {
    if (this.events !== undefined) return this.sendEvented(message);
    // Messages written in one burst (a generator yielding without waiting) go out as one
    // batched write (Http2Stream's writev) instead of one nghttp2 submission each.
    if (!this.corked && !this.done) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(uncorkCall, this);
    }
    if (!this.writeMessage(message)) await this.drained();
  }

  /** Resolves on the stream's next 'drain' (one listener for every waiting send). */
  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.drainWaiters.length === 0) this.stream.once("drain", onStreamDrain);
      this.drainWaiters.push({ resolve, reject });
    });
  }

  /** Sending is over once the status is sent or decided. */
  private assertCanSend(): void {
    if (this.done || this.closing) throw this.endReason ?? new SwitchboardError(ErrorCode.CALL_STATE, "cannot send a message after the status was sent");
  }

  /** sendMessage() with listeners: SendMessage (and SendInitialMetadata) run first, in send order. */
  private sendEvented(message: Res): Promise<void> {
    const events = this.events!;
    const send = async () => {
      if (events.has("sendMessage")) message = (await events.dispatch("sendMessage", { message })).message as Res;
      // Checked before SendInitialMetadata: a finished call must not announce headers.
      this.assertCanSend();
      await this.initialMetadataEvent();
      if (!this.writeMessage(message)) await this.drained();
    };
    const sent = this.sendChain === undefined ? send() : this.sendChain.then(send);
    this.sendChain = sent.catch(ignore);
    return sent;
  }

  /** Serializes, compresses and writes one message; false when the stream asks us to wait for 'drain'. */
  private writeMessage(message: Res): boolean {
    this.assertCanSend();
    let data: Uint8Array;
    try {
      data = this.def.serialize(message);
    } catch (err) {
      throw new RpcError(Code.INTERNAL, `could not serialize response message: ${(err as Error).message}`, { cause: err });
    }
    if (data.byteLength > this.env.maxSendMessageLength) {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `sent message larger than max (${data.byteLength} vs. ${this.env.maxSendMessageLength})`);
    }
    this.ensureHeaders();
    let compressed = false;
    if (this.sendEncoding !== "identity" && !this.skipCompression) {
      // Synchronous so that messages sent without awaiting keep their order.
      data = this.sendEncoding === "gzip" ? zlib.gzipSync(data) : zlib.deflateSync(data);
      compressed = true;
    }
    this.skipCompression = false;
    this.guard?.sawActivity();
    this.messagesSent++;
    this.obs?.messageSent(this);
    return this.stream.write(frameMessage(data, compressed));
  }

  /** @internal */
  settleDrain(err?: RpcError): void {
    if (this.drainWaiters.length === 0) return;
    for (const w of this.drainWaiters.splice(0)) err ? w.reject(err) : w.resolve();
  }

  async sendTrailingMetadata(trailers: TrailingStatus = {}): Promise<void> {
    if (this.done) throw this.endReason ?? new SwitchboardError(ErrorCode.CALL_STATE, "the status was already sent");
    const code = trailers.status ?? Code.OK;
    await this.end(
      { code, message: trailers.message ?? "", details: trailers.details?.map(packDetail) },
      trailers.metadata === undefined ? this.trailing : new Metadata(trailers.metadata),
    );
  }

  async cancel(): Promise<void> {
    if (this.ended) return;
    this.cancelled(new RpcError(Code.CANCELLED, "call cancelled by the server"));
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
  }

  // ---- ending ----------------------------------------------------------------------

  /**
   * Sends the status, first through the SendTrailingMetadata listeners when there are any
   * (after every evented send already queued). Without listeners this is finish().
   */
  private end(status: Status, metadata: Metadata | undefined): void | Promise<void> {
    const events = this.events;
    if (events === undefined || !events.has("sendTrailingMetadata") || this.done) return this.finish(status, metadata);
    if (this.closing) return this.closing;
    const announce = async () => {
      const event = await events.dispatch(
        "sendTrailingMetadata",
        eventFields({ metadata: metadata ?? new Metadata() }, { status: status.code, statusMessage: status.message, statusDetails: status.details ?? [] }),
      );
      this.finish(status, event.metadata.size > 0 ? event.metadata : undefined);
    };
    const run = (this.sendChain ?? Promise.resolve()).then(announce).catch((err: unknown) => {
      // A failing listener must not cost the client its status: send it as decided, without changes.
      this.finish(status, metadata);
      throw err;
    });
    this.closing = run.catch(ignore);
    return this.closing;
  }

  /** Sends the status (once). Without response headers this is a trailers-only response. */
  finish(status: Status, metadata: Metadata | undefined): void {
    if (this.done) return;
    this.done = true;
    this.sentCode = status.code;
    this.clearTimer();
    if (status.code === Code.OK && !status.message && (!metadata || metadata.size === 0) && this.headersSent) {
      // The common end of a successful call: a shared, never-mutated trailers object.
      return this.endWithTrailers(OK_TRAILERS);
    }
    const trailers: OutgoingHttpHeaders = {};
    if (metadata) metadata.writeHeaders(trailers as Record<string, string | string[]>);
    trailers["grpc-status"] = String(status.code);
    if (status.message) trailers["grpc-message"] = encodeGrpcMessage(status.message);
    if (status.statusDetailsBin) {
      trailers["grpc-status-details-bin"] = Buffer.from(status.statusDetailsBin).toString("base64");
    } else if (status.details && status.details.length > 0) {
      const bytes = this.encodeDetails(status);
      if (bytes !== undefined) trailers["grpc-status-details-bin"] = Buffer.from(bytes).toString("base64");
    }
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    if (!this.headersSent) {
      this.headersSent = true;
      try {
        stream.respond({ ...trailers, ":status": 200, "content-type": this.contentType }, RESPOND_AND_END);
      } catch (err) {
        // Metadata node:http2 refuses must not cost the client its status.
        stream.respond(fallbackTrailers(err, this.contentType), RESPOND_AND_END);
      }
      this.delivered = true;
      this.stopClient();
    } else {
      this.endWithTrailers(trailers);
    }
    this.settleDrain();
  }

  /**
   * The `grpc-status-details-bin` bytes for a status with details, from the server's codec;
   * undefined with `statusDetailsCodec: null`, or when the codec fails: the client still
   * gets the code and message, and the failure is reported as a process warning.
   */
  private encodeDetails(status: Status): Uint8Array | undefined {
    const codec = this.env.statusDetailsCodec === undefined ? protoStatusDetailsCodec : this.env.statusDetailsCodec;
    if (codec === null) return undefined;
    try {
      const bytes = codec.encode(status.code, status.message, status.details!);
      if (bytes instanceof Uint8Array) return bytes;
      throw new TypeError(`encode() returned ${typeof bytes}, not a Uint8Array`);
    } catch (err) {
      if (this.env.reportError) this.env.reportError(err, this);
      else {
        process.emitWarning(`statusDetailsCodec.encode() failed for ${this.method.path}; the status went out without details: ${err instanceof Error ? err.message : String(err)}`, {
          type: "SwitchboardWarning",
          code: "ERR_SB_STATUS_DETAILS",
        });
      }
      return undefined;
    }
  }

  private endWithTrailers(trailers: OutgoingHttpHeaders): void {
    if (this.stream.destroyed || this.stream.closed) return;
    this.pendingTrailers = trailers;
    this.stream.end();
  }

  /** After the status, a client still sending is told to stop without calling that an error. */
  private stopClient(): void {
    if (!this.clientEnded) setImmediate(() => this.closeQuietly());
  }

  private closeQuietly(): void {
    if (!this.stream.destroyed && !this.stream.closed) this.stream.close(constants.NGHTTP2_NO_ERROR);
  }

  /** @internal */
  onWantTrailers(): void {
    const trailers = this.pendingTrailers ?? { "grpc-status": String(Code.OK) };
    this.pendingTrailers = undefined;
    if (this.stream.destroyed) return;
    try {
      this.stream.sendTrailers(trailers);
    } catch (err) {
      this.stream.sendTrailers(fallbackTrailers(err));
    }
    this.delivered = true;
    this.stopClient();
  }

  /** Deadline passed: abort the handler and answer DEADLINE_EXCEEDED. */
  expire(): void {
    this.timer = undefined;
    const left = this.deadline?.timeRemaining() ?? 0;
    if (left > 0) {
      // A deadline beyond one timer's reach (~24.8 days) is reached in several steps.
      this.timer = setTimeout(() => this.expire(), Math.min(left, MAX_TIMER_MS));
      return;
    }
    const err = new RpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded");
    void this.end(statusOf(err), this.trailing);
    this.cancelled(err);
  }

  /** Ends the call early with `reason`, waking everything that waits on it. */
  cancelled(reason: RpcError): void {
    if (this.endReason) return;
    this.endReason = reason;
    this.clearTimer();
    this.abortSignal(reason);
    this.wake(reason);
    this.settleDrain(reason);
  }

  private abortSignal(reason: RpcError): void {
    this.endReason ??= reason;
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** @internal */
  onClose(): void {
    if (!this.done) {
      // A client RST_STREAM lands here too: node emits 'close' right after 'aborted'.
      this.done = true;
      this.cancelled(new RpcError(Code.CANCELLED, this.stream.rstCode ? "call cancelled by the client" : "stream closed before the call finished"));
    } else if (!this.delivered) {
      // The response was still queued (e.g. a large unary reply) when the client went away.
      this.cancelled(new RpcError(Code.CANCELLED, "stream closed before the status was delivered"));
    }
    this.clearTimer();
    this.settleDrain(this.endReason);
    if (!this.ended) {
      this.ended = true;
      this.env.onCallEnd(this);
      this.obs?.callEnded(this, this.delivered ? this.sentCode : Code.CANCELLED, performance.now() - this.startedAt);
      if (this.terminationCallbacks !== undefined) runTerminationCallbacks(this.terminationCallbacks.splice(0), this, this.env.reportError);
    }
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Whether the client reset the stream before our status went out. */
  get resetByClient(): boolean {
    return !this.delivered && (this.stream.rstCode ?? 0) !== constants.NGHTTP2_NO_ERROR;
  }

  /** Whether the status has been sent or the stream is gone. */
  get finished(): boolean {
    return this.done;
  }

  /** Sends the status for a handler outcome: its return, or what it threw. */
  complete(err?: unknown): void {
    if (this.done || this.closing) return;
    if (err === undefined) {
      void this.end({ code: this.statusCode, message: this.statusDetails }, this.trailing);
      return;
    }
    const failure =
      err instanceof RpcError || this.statusCode === Code.OK
        ? fromError(err)
        : new RpcError(this.statusCode, this.statusDetails, { cause: err });
    let trailing = this.trailing;
    if (failure.metadata) {
      trailing = new Metadata(trailing);
      for (const [k, v] of failure.metadata) trailing.append(k, v);
    }
    void this.end(statusOf(failure), trailing);
  }
}

/** Runs addCallback() functions; one that throws must not skip the rest nor crash the server. */
function runTerminationCallbacks(callbacks: readonly (() => void)[], call: ServerCall<any, any>, report: CallEnv["reportError"]): void {
  const path = call.method.path;
  for (const fn of callbacks) {
    try {
      fn();
    } catch (err) {
      if (report) report(err, call);
      else process.emitWarning(`an addCallback() function of ${path} threw: ${err instanceof Error ? err.message : String(err)}`, { type: "SwitchboardWarning", code: "ERR_SB_CALLBACK", detail: err instanceof Error ? err.stack : undefined });
    }
  }
}

function ignore(): void {
  // Failures of a chained step are reported to its own caller; the chain itself moves on.
}

/** INTERNAL trailers used when the handler's trailing metadata is refused by node:http2. */
function fallbackTrailers(err: unknown, contentType?: string): OutgoingHttpHeaders {
  const t: OutgoingHttpHeaders = {
    "grpc-status": String(Code.INTERNAL),
    "grpc-message": encodeGrpcMessage(`invalid trailing metadata: ${(err as Error).message}`),
  };
  if (contentType) Object.assign(t, { ":status": 200, "content-type": contentType });
  return t;
}

/** takeUnarySync() could not decode synchronously. */
export const NEEDS_ASYNC: unique symbol = Symbol("switchboard.needsAsync");
const CALL = Symbol("switchboard.call");
type CallStream = ServerStreamLike & { [CALL]: ServerCall<any, any> };
const RESPOND_WITH_TRAILERS = { waitForTrailers: true, sendDate: false } as const;
const RESPOND_AND_END = { endStream: true, sendDate: false } as const;
const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ "grpc-status": "0" }) as OutgoingHttpHeaders;

const plainHeaderCache = new Map<string, OutgoingHttpHeaders>();

/** Response headers without metadata or compression, made once per content type. */
function plainHeaders(contentType: string): OutgoingHttpHeaders {
  let h = plainHeaderCache.get(contentType);
  if (!h) {
    h = Object.freeze({ ":status": 200, "content-type": contentType, "grpc-accept-encoding": ACCEPT_ENCODING }) as OutgoingHttpHeaders;
    // Content types come from clients; keep the cache from growing without bound.
    if (plainHeaderCache.size < 64) plainHeaderCache.set(contentType, h);
  }
  return h;
}

function uncorkCall(call: ServerCall<any, any>): void {
  call.corked = false;
  call.stream.uncork();
}

function onStreamData(this: CallStream, chunk: Buffer): void {
  this[CALL].reader.push(chunk);
}
function onStreamEnd(this: CallStream): void {
  this[CALL].onClientEnd();
}
function onStreamClose(this: CallStream): void {
  this[CALL].onClose();
}
function onStreamWantTrailers(this: CallStream): void {
  this[CALL].onWantTrailers();
}
function onStreamDrain(this: CallStream): void {
  this[CALL].settleDrain();
}

function acceptsEncoding(header: string | undefined, encoding: string): boolean {
  if (!header) return false;
  for (const part of header.split(",")) if (part.trim() === encoding) return true;
  return false;
}
