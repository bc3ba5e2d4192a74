import type { ClientSessionLike as ClientHttp2Session, ClientStreamLike as ClientHttp2Stream } from "../grpc/transport.js";
import { constants, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type OutgoingHttpHeaders } from "node:http2";
import * as zlib from "node:zlib";
import type { DescMessage } from "@bufbuild/protobuf";
import type { ServerCallContext } from "../call/context.js";
import { contentTypeFor } from "../codec/codec.js";
import { ACCEPT_ENCODING, decompress, isEncoding, type Encoding } from "../codec/compression.js";
import { EnvelopeReader, frameMessage, type Envelope } from "../codec/envelope.js";
import { sentHeadersOrData } from "../http2/keepalive.js";
import { Deadline, formatTimeout, MAX_TIMER_MS } from "../deadline.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Metadata, MetadataInit } from "../metadata.js";
import { Metadata as MetadataClass } from "../metadata.js";
import type { MethodKind } from "../service/method.js";
import { Code, RpcError, type Status } from "../status.js";
import type { Channel } from "./channel.js";
import { chainClientInterceptors } from "./interceptors.js";
import { metadataFromHeaders, statusFromHeaders } from "./response-headers.js";
import { codeFromHttpStatus, codeFromRstCode, rstCodeName } from "./status-mapping.js";
import type { ClientObserverSet, ObservedClientCall } from "./observer.js";

/** Per-call options (grpclib `timeout=`, `metadata=`; plus cancellation and propagation). */
export interface CallOptions {
  /** Milliseconds from now until the call fails with DEADLINE_EXCEEDED. */
  timeout?: number;
  /** An absolute deadline; the earlier of this and `timeout` wins. */
  deadline?: Deadline | Date;
  /** Request metadata. */
  metadata?: MetadataInit;
  /** Aborting it cancels the call (RST_STREAM CANCEL, status CANCELLED). */
  signal?: AbortSignal;
  /** Compress request messages with this encoding. */
  compression?: Encoding;
  /** A server call this call is made on behalf of: inherits its remaining time and its cancellation. */
  parent?: Pick<ServerCallContext, "deadline" | "signal">;
  /** Wait for a connection instead of failing fast with UNAVAILABLE while the channel backs off. */
  waitForReady?: boolean;
}

/** What a call needs to know about its method. */
export interface ClientMethod<Req, Res> {
  readonly path: string;
  readonly kind: MethodKind;
  /** Protobuf binary (de)serializers, used unless the channel has another codec. */
  readonly serialize: (message: Req) => Uint8Array;
  readonly deserialize: (bytes: Uint8Array) => Res;
  /** The message schemas, when known: other codecs (JSON) map messages with them. */
  readonly input?: DescMessage;
  readonly output?: DescMessage;
}

const INBOX_HIGH_WATER = 16;

/**
 * Request bytes kept for a transparent retry (gRPC A6) until the response headers arrive; a
 * call that sends more gives up its retry (grpc-js `grpc.per_rpc_retry_buffer_size`, 256 KiB).
 */
const RETRY_BUFFER_BYTES = 256 * 1024;

type Waiter = { resolve: () => void; reject: (err: RpcError) => void };

/**
 * One client call (grpclib client `Stream`): send the request and messages, receive
 * headers, messages and trailers, or cancel. Receiving honours flow control: the HTTP/2
 * stream is paused while unread messages pile up.
 */
export class ClientCall<Req, Res> implements AsyncIterable<Res>, AsyncDisposable, ObservedClientCall {
  /** Request metadata; mutable until the request is sent. */
  readonly metadata: Metadata;
  readonly deadline: Deadline | undefined;
  /** Response headers' metadata, once received. */
  initialMetadata: Metadata | undefined;
  /** Trailers' metadata, once received. */
  trailingMetadata: Metadata | undefined;
  /** The server's address, once connected (`ipv4:127.0.0.1:50051`). */
  peer: string | undefined;
  /** The final status, once known. */
  status: Status | undefined;
  /** Whether the most recently received message had the compressed flag set. */
  lastMessageCompressed = false;
  /** `performance.now()` when the request started, while the channel has observers (else 0). */
  startedAt = 0;
  /** Request messages sent so far. */
  messagesSent = 0;
  /** The channel's observers when any were registered as the request started. */
  private obs: ClientObserverSet | undefined;

  private readonly compression: Encoding;
  private started: Promise<void> | undefined;
  private stream: ClientHttp2Stream | undefined;
  private session: ClientHttp2Session | undefined;
  private error: RpcError | undefined;
  private readonly headersReady: Promise<void>;
  private settleHeaders!: () => void;
  /** Resolves when the status is known; rejects with the RpcError for non-OK. */
  readonly finished: Promise<void>;
  private settleFinished!: (err?: RpcError) => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly cleanups: (() => void)[] = [];
  private responseEncoding: Encoding = "identity";
  private reader: EnvelopeReader | undefined;
  private inbox: Envelope[] = [];
  private received = 0;
  /** Response messages received so far. */
  get messagesReceived(): number {
    return this.received;
  }

  /** The channel's target (for observers). */
  get target(): string {
    return this.channel.targetString;
  }

  /** The connection the call's stream runs on, once opened (for observers: channelz). */
  get connection(): ClientHttp2Session | undefined {
    return this.session;
  }
  private dataEnded = false;
  private waiter: Waiter | undefined;
  private paused = false;
  private drainWaiter: Waiter | undefined;
  /** Response headers (not trailers-only) arrived; recvInitialMetadata waits for their listeners. */
  private gotHeaders = false;
  /** The status from the trailers, held until the response data has ended too. */
  private pendingStatus: { status: Status; metadata: Metadata } | undefined;
  /** Set while async recvTrailingMetadata listeners run. */
  private trailersEvent: Promise<void> | undefined;
  /** The last error node:http2 reported on the stream (tells a lost connection from a reset). */
  private streamError: NodeJS.ErrnoException | undefined;
  /** The request headers, kept for a transparent retry. */
  private requestHeaders: OutgoingHttpHeaders | undefined;
  /** Request frames sent so far, while a transparent retry is still possible (undefined after). */
  private replay: Buffer[] | undefined = [];
  private replayBytes = 0;
  /** The request stream was half-closed by us. */
  private endSent = false;
  /** Set while a transparent retry opens the stream again; sends wait for it. */
  private retrying: Promise<void> | undefined;
  /** A call is retried transparently at most once. */
  private retried = false;

  constructor(
    readonly channel: Channel,
    readonly method: ClientMethod<Req, Res>,
    private readonly options: CallOptions = {},
  ) {
    this.metadata = new MetadataClass(options.metadata);
    this.compression = options.compression ?? channel.options.compression;
    if (!isEncoding(this.compression)) throw new SwitchboardError(ErrorCode.BAD_COMPRESSION, `unsupported compression ${JSON.stringify(this.compression)}`);
    let deadline = options.timeout !== undefined ? Deadline.after(options.timeout) : undefined;
    if (options.deadline) deadline = Deadline.min(deadline, options.deadline instanceof Date ? Deadline.after(options.deadline.getTime() - Date.now()) : options.deadline);
    deadline = Deadline.min(deadline, options.parent?.deadline);
    this.deadline = deadline;
    this.headersReady = new Promise((resolve) => (this.settleHeaders = resolve));
    this.finished = new Promise<void>((resolve, reject) => {
      this.settleFinished = (err) => (err ? reject(err) : resolve());
    });
    // Nobody has to await `finished`; its rejection is reported through the other methods.
    this.finished.catch(() => {});
    if (deadline) this.armDeadline(deadline);
    this.watchSignal(options.signal, false);
    this.watchSignal(options.parent?.signal, true);
  }

  // ---- sending ---------------------------------------------------------------------

  /** Sends the request headers (opens the HTTP/2 stream); `end` half-closes at once. */
  sendRequest(options: { end?: boolean } = {}): Promise<void> {
    if (this.started === undefined && this.channel.observers.active) {
      this.obs = this.channel.observers;
      this.startedAt = performance.now();
      this.obs.callStarted(this);
    }
    this.started ??= this.start(options.end ?? false);
    return this.started;
  }

  /**
   * Sends one message; `end` marks it as the last; `compress: false` sends this one
   * uncompressed in a compressed call. Waits while the server's window is full.
   */
  async sendMessage(message: Req, options: { end?: boolean; compress?: boolean } = {}): Promise<void> {
    await this.sendRequest();
    if (this.error) throw this.error;
    if (!this.stream || this.endSent) throw new SwitchboardError(ErrorCode.CALL_STATE, "the request stream has already ended");
    let value: unknown = message;
    if (this.channel.events.has("sendMessage")) value = (await this.channel.events.dispatch("sendMessage", { message: value })).message;
    let data: Uint8Array;
    try {
      const codec = this.channel.options.codec;
      data = codec === undefined ? this.method.serialize(value as Req) : codec.encode(value, this.method.input);
    } catch (err) {
      throw this.fail(new RpcError(Code.INTERNAL, `could not serialize request message: ${(err as Error).message}`, { cause: err }), true);
    }
    if (data.byteLength > this.channel.options.maxSendMessageLength) {
      throw this.fail(new RpcError(Code.RESOURCE_EXHAUSTED, `sent message larger than max (${data.byteLength} vs. ${this.channel.options.maxSendMessageLength})`), true);
    }
    const compressed = this.compression !== "identity" && options.compress !== false;
    if (compressed) data = this.compression === "gzip" ? zlib.gzipSync(data) : zlib.deflateSync(data);
    const frame = frameMessage(data, compressed);
    if (this.retrying) await this.retrying;
    if (this.error) throw this.error;
    const stream = this.stream!;
    if (this.endSent || stream.writableEnded) throw new SwitchboardError(ErrorCode.CALL_STATE, "the request stream has already ended");
    this.remember(frame);
    sentHeadersOrData(this.session);
    this.messagesSent++;
    this.obs?.messageSent(this);
    if (options.end) {
      this.endSent = true;
      stream.end(frame);
      return;
    }
    if (!stream.write(frame)) {
      await new Promise<void>((resolve, reject) => (this.drainWaiter = { resolve, reject }));
    }
  }

  /** Half-closes the request stream (no more messages). */
  async end(): Promise<void> {
    await this.sendRequest();
    if (this.retrying) await this.retrying;
    this.endSent = true;
    if (this.stream && !this.stream.writableEnded) this.stream.end();
  }

  /** Keeps a sent frame for a transparent retry while the buffer allows. */
  private remember(frame: Buffer): void {
    if (this.replay === undefined) return;
    this.replayBytes += frame.length;
    if (this.replayBytes > RETRY_BUFFER_BYTES) this.replay = undefined;
    else this.replay.push(frame);
  }

  private async start(end: boolean): Promise<void> {
    let opened!: { resolve: () => void; reject: (e: unknown) => void };
    const openedPromise = new Promise<void>((resolve, reject) => (opened = { resolve, reject }));
    let didOpen = false;
    const chain = chainClientInterceptors(this.channel.options.interceptors ?? []);
    const outcome = chain(this, () => {
      didOpen = true;
      this.open(end).then(opened.resolve, opened.reject);
      return this.finished;
    });
    outcome.then(
      () => {
        if (!didOpen) opened.resolve();
      },
      (err: unknown) => {
        if (!didOpen) opened.reject(err);
      },
    );
    try {
      await openedPromise;
    } catch (err) {
      throw this.fail(err instanceof RpcError ? err : new RpcError(Code.UNKNOWN, (err as Error)?.message ?? String(err), { cause: err }), false);
    }
  }

  private async open(end: boolean): Promise<void> {
    if (this.error) throw this.error;
    const session = await this.connect();
    if (this.error) throw this.error;
    let metadata = this.metadata;
    if (this.channel.events.has("sendRequest")) {
      const event = await this.channel.events.dispatch("sendRequest", { metadata, method: this.method.path, deadline: this.deadline, contentType: contentTypeFor(this.channel.options.codec) });
      metadata = event.metadata;
    }
    const headers: OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": this.method.path,
      ":scheme": this.channel.scheme,
      ":authority": this.channel.authority,
      "content-type": contentTypeFor(this.channel.options.codec),
      te: "trailers",
      "user-agent": this.channel.userAgent,
      "grpc-accept-encoding": ACCEPT_ENCODING,
    };
    if (this.compression !== "identity") headers["grpc-encoding"] = this.compression;
    if (this.deadline) headers["grpc-timeout"] = formatTimeout(this.deadline.timeRemaining());
    metadata.writeHeaders(headers as Record<string, string | string[]>);
    this.requestHeaders = headers;
    this.endSent = end;
    this.reader = new EnvelopeReader(this.channel.options.maxReceiveMessageLength, {
      onEnvelope: (e) => this.onEnvelope(e),
      onFramingError: (err) => this.fail(err, true),
    });
    this.startStream(await this.request(session, headers, end));
  }

  /**
   * Opens the HTTP/2 stream. A session that went away between the pick and the request (a
   * GOAWAY just arrived) never saw the call: another pick is tried once.
   */
  private async request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, end: boolean): Promise<{ session: ClientHttp2Session; stream: ClientHttp2Stream }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { session, stream: session.request(headers, { endStream: end }) };
      } catch (err) {
        if (attempt > 0 || this.error) throw new RpcError(Code.UNAVAILABLE, `could not start the call: ${(err as Error).message}`, { cause: err });
      }
      session = await this.connect();
      if (this.error) throw this.error;
    }
  }

  private startStream({ session, stream }: { session: ClientHttp2Session; stream: ClientHttp2Stream }): void {
    this.stream = stream;
    this.session = session;
    this.peer = describePeer(session);
    this.channel.callStarted(session);
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // The stream's 'close' reports why it ended; the error tells a lost connection from a reset.
      this.streamError = err;
    });
    stream.on("response", (h, _flags, raw?: string[]) => this.onResponse(h, raw));
    stream.on("data", (chunk: Buffer) => this.reader!.push(chunk));
    stream.on("end", () => this.onDataEnd());
    stream.on("trailers", (h, _flags, raw?: string[]) => this.onTrailers(h, raw));
    stream.on("drain", () => this.settleDrain());
    stream.on("close", () => this.onClose());
    // Cancelled (or failed) while the stream was being opened: nothing reset it yet, and its
    // 'close' is what ends the call's bookkeeping on the channel.
    if (this.error && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  }

  /**
   * A session for this call, picked by the channel's load balancer. With waitForReady the
   * channel waits for a pickable subchannel until the call ends (deadline, cancel).
   */
  private connect(): Promise<ClientHttp2Session> | ClientHttp2Session {
    const picked = this.channel.pick();
    if (picked) return picked;
    const wait = this.options.waitForReady ?? false;
    if (!wait) return this.channel.getSession(false);
    const stop = new AbortController();
    this.cleanups.push(() => stop.abort(this.error));
    return this.channel.getSession(true, stop.signal);
  }

  /**
   * Transparent retry (gRPC A6): the server refused the stream before processing it
   * (RST_STREAM REFUSED_STREAM, or the stream was above a GOAWAY's last-stream-id, which both
   * engines report as REFUSED_STREAM) and no response arrived. The request is sent once more on
   * a new pick, with the frames sent so far; the caller sees nothing of it.
   */
  private canRetryTransparently(stream: ClientHttp2Stream): boolean {
    return (
      !this.retried &&
      this.replay !== undefined &&
      !this.status &&
      !this.pendingStatus &&
      !this.gotHeaders &&
      this.received === 0 &&
      stream.rstCode === constants.NGHTTP2_REFUSED_STREAM
    );
  }

  private retry(): void {
    this.retried = true;
    this.streamError = undefined;
    this.retrying = (async () => {
      try {
        const session = await this.connect();
        if (this.status) return;
        const frames = this.replay ?? [];
        const endWithHeaders = this.endSent && frames.length === 0;
        const opened = await this.request(session, this.requestHeaders!, endWithHeaders);
        if (this.status) {
          opened.stream.close(constants.NGHTTP2_CANCEL);
          return;
        }
        this.startStream(opened);
        const stream = opened.stream;
        let writable = true;
        for (let i = 0; i < frames.length; i++) {
          if (this.endSent && i === frames.length - 1) stream.end(frames[i]);
          else writable = stream.write(frames[i]!);
        }
        if (this.endSent && frames.length === 0 && !endWithHeaders) stream.end();
        // A send waiting for the old stream's drain continues when the new one has room.
        if (writable) this.settleDrain();
      } catch (err) {
        this.fail(err instanceof RpcError ? err : new RpcError(Code.UNAVAILABLE, (err as Error).message, { cause: err }), false);
      } finally {
        this.retrying = undefined;
      }
    })();
  }

  private settleDrain(err?: RpcError): void {
    const w = this.drainWaiter;
    this.drainWaiter = undefined;
    if (w) err ? w.reject(err) : w.resolve();
  }

  // ---- receiving -------------------------------------------------------------------

  /** Waits for the response headers; throws the RpcError of a trailers-only failure. */
  async recvInitialMetadata(): Promise<Metadata> {
    await this.sendRequest();
    await this.headersReady;
    if (this.initialMetadata) return this.initialMetadata;
    throw this.error ?? new RpcError(Code.INTERNAL, "call ended without response headers");
  }

  /** The next response message, or null once the server ended the stream with OK. */
  async recvMessage(): Promise<Res | null> {
    await this.sendRequest();
    for (;;) {
      if (this.inbox.length > 0) return this.decode(this.inbox.shift()!);
      if (this.error) throw this.error;
      // Trailers can overtake DATA still queued in a paused stream; the end of the data decides.
      if (this.status && this.dataEnded) return null;
      await new Promise<void>((resolve, reject) => (this.waiter = { resolve, reject }));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Res> {
    let complete = false;
    try {
      for (;;) {
        const m = await this.recvMessage();
        if (m === null) {
          complete = true;
          return;
        }
        yield m;
      }
    } finally {
      // Leaving the loop early (break, return, a throw in the body) means the rest is not wanted.
      if (!complete && !this.status) void this.cancel();
    }
  }

  /** Waits for the trailers; throws the RpcError when the status is not OK. */
  async recvTrailingMetadata(): Promise<Metadata> {
    await this.sendRequest();
    // Unread messages must flow into the queue for the end of the data (and the status) to arrive.
    if (this.paused && this.stream) this.stream.resume();
    await this.finished;
    return this.trailingMetadata ?? new MetadataClass();
  }

  /** Cancels the call: RST_STREAM CANCEL to the server, CANCELLED locally. */
  async cancel(): Promise<void> {
    this.fail(new RpcError(Code.CANCELLED, "call cancelled by the client"), true);
  }

  /** Cancels the call if it is still running (`await using call = client.method.open()`). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.status) await this.cancel();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve();
  }

  private onResponse(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, raw: string[] | undefined): void {
    const httpStatus = Number(headers[":status"]);
    const contentType = String(headers["content-type"] ?? "");
    if (headers["grpc-status"] !== undefined && httpStatus === 200) {
      // Trailers-only: these headers are the trailers (and there is no initial metadata).
      this.onTrailers(headers, raw);
      return;
    }
    if (httpStatus !== 200) {
      this.fail(new RpcError(codeFromHttpStatus(httpStatus), `unexpected HTTP status ${httpStatus}${contentType ? ` (content-type ${contentType})` : ""}`), true);
      return;
    }
    if (!/^application\/grpc(?:[+;]|$)/.test(contentType)) {
      this.fail(new RpcError(Code.UNKNOWN, `unexpected content-type ${JSON.stringify(contentType)}`), true);
      return;
    }
    const encoding = String(headers["grpc-encoding"] ?? "identity");
    if (!isEncoding(encoding)) {
      this.fail(new RpcError(Code.INTERNAL, `server used unsupported grpc-encoding ${JSON.stringify(encoding)}`), true);
      return;
    }
    this.responseEncoding = encoding;
    this.gotHeaders = true;
    // The server has the call: no transparent retry from here on.
    this.replay = undefined;
    const metadata = metadataFromHeaders(headers, raw);
    if (this.channel.events.has("recvInitialMetadata")) {
      void this.channel.events.dispatch("recvInitialMetadata", { metadata }).then((e) => {
        this.initialMetadata = e.metadata;
        this.settleHeaders();
      });
    } else {
      this.initialMetadata = metadata;
      this.settleHeaders();
    }
  }

  private onEnvelope(env: Envelope): void {
    if (env.compressed && this.responseEncoding === "identity") {
      this.fail(new RpcError(Code.INTERNAL, "compressed flag set on a response message but grpc-encoding is identity"), true);
      return;
    }
    if (++this.received > 1 && (this.method.kind === "unary" || this.method.kind === "client_streaming")) {
      // statuscodes.md: a response cardinality violation is UNIMPLEMENTED on the client.
      this.fail(new RpcError(Code.UNIMPLEMENTED, "server sent more than one response message for a unary method"), true);
      return;
    }
    this.inbox.push(env);
    this.obs?.messageReceived(this);
    if (this.inbox.length >= INBOX_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.stream?.pause();
    }
    this.wake();
  }

  private onDataEnd(): void {
    this.dataEnded = true;
    if (this.reader?.partial) this.fail(new RpcError(Code.INTERNAL, "response ended in the middle of a message"), true);
    else this.settleWhenDataEnded();
    this.wake();
  }

  private async decode(env: Envelope): Promise<Res> {
    if (this.paused && this.inbox.length < INBOX_HIGH_WATER / 2) {
      this.paused = false;
      this.stream?.resume();
    }
    this.lastMessageCompressed = env.compressed;
    let data = env.data;
    if (env.compressed) {
      try {
        data = await decompress(this.responseEncoding, data, this.channel.options.maxReceiveMessageLength);
      } catch (err) {
        throw this.fail(err as RpcError, true);
      }
    }
    let message: unknown;
    try {
      const codec = this.channel.options.codec;
      message = codec === undefined ? this.method.deserialize(data) : codec.decode(data, this.method.output);
    } catch (err) {
      throw this.fail(new RpcError(Code.INTERNAL, `could not parse response message: ${(err as Error).message}`, { cause: err }), true);
    }
    if (this.channel.events.has("recvMessage")) message = (await this.channel.events.dispatch("recvMessage", { message })).message;
    return message as Res;
  }

  private onTrailers(headers: IncomingHttpHeaders, raw: string[] | undefined): void {
    if (this.status || this.pendingStatus) return;
    const status = statusFromHeaders(headers, this.channel.options.statusDetailsCodec);
    const metadata = metadataFromHeaders(headers, raw);
    if (this.channel.events.has("recvTrailingMetadata")) {
      this.trailersEvent = this.channel.events
        .dispatch("recvTrailingMetadata", { metadata, status: status.code, statusMessage: status.message, statusDetails: status.details ?? [] })
        .then((e) => {
          this.trailersEvent = undefined;
          this.pendingStatus = { status, metadata: e.metadata };
          this.settleWhenDataEnded();
        });
    } else {
      this.pendingStatus = { status, metadata };
      this.settleWhenDataEnded();
    }
  }

  /**
   * The status is final only once the response data has ended too: trailers can overtake
   * DATA still buffered in a paused stream, and a message cut short turns OK into INTERNAL.
   */
  private settleWhenDataEnded(closed = false): void {
    const pending = this.pendingStatus;
    if (!pending || this.status) return;
    if (!this.dataEnded && !closed) {
      if (this.paused) this.stream?.resume();
      return;
    }
    if (this.reader?.partial) {
      this.fail(new RpcError(Code.INTERNAL, "response ended in the middle of a message"), false);
      return;
    }
    this.settle(pending.status, pending.metadata);
  }

  private onClose(): void {
    const stream = this.stream!;
    if (this.canRetryTransparently(stream)) {
      if (this.session) this.channel.callEnded(this.session);
      this.retry();
      return;
    }
    this.clearTimer();
    if (this.session) this.channel.callEnded(this.session);
    this.settleDrain(this.error ?? new RpcError(Code.CANCELLED, "stream closed"));
    if (this.trailersEvent) {
      void this.trailersEvent.then(() => this.onClose());
      return;
    }
    if (this.status) return;
    if (this.pendingStatus) return this.settleWhenDataEnded(true);
    const rst = stream.rstCode ?? constants.NGHTTP2_NO_ERROR;
    const err = this.streamError;
    if (this.session?.destroyed || (err && err.code !== "ERR_HTTP2_STREAM_ERROR")) {
      this.fail(new RpcError(Code.UNAVAILABLE, `connection lost before the call finished${err ? `: ${err.message}` : ""}`, { cause: err }), false);
    } else if (rst !== constants.NGHTTP2_NO_ERROR) {
      this.fail(new RpcError(codeFromRstCode(rst), `stream reset by the server with ${rstCodeName(rst)}`), false);
    } else {
      this.fail(new RpcError(Code.INTERNAL, "stream closed without a gRPC status"), false);
    }
  }

  // ---- ending ----------------------------------------------------------------------

  private settle(status: Status, trailing: Metadata): void {
    if (this.status) return;
    this.status = status;
    this.trailingMetadata = trailing;
    this.clearTimer();
    this.obs?.callEnded(this, status.code, performance.now() - this.startedAt);
    if (status.code !== Code.OK) {
      this.error = new RpcError(status.code, status.message, { metadata: trailing, details: status.details, statusDetailsBin: status.statusDetailsBin });
    }
    // Without response headers (trailers-only or a failure) recvInitialMetadata settles now;
    // with them it settles when their listeners are done.
    if (!this.gotHeaders) {
      if (status.code === Code.OK) this.initialMetadata ??= new MetadataClass();
      this.settleHeaders();
    }
    this.settleFinished(this.error);
    this.wake();
  }

  /** Ends the call locally with `err` (once); `reset` also sends RST_STREAM CANCEL. Returns the error that won. */
  private fail(err: RpcError, reset: boolean): RpcError {
    if (this.status) return this.error ?? err;
    this.inbox = [];
    this.settle({ code: err.code, message: err.rawMessage, details: err.details }, err.metadata ?? new MetadataClass());
    this.error = err;
    this.settleDrain(err);
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
    if (reset && this.stream && !this.stream.closed && !this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
    return err;
  }

  private armDeadline(deadline: Deadline): void {
    const left = deadline.timeRemaining();
    if (left <= 0) {
      queueMicrotask(() => this.fail(new RpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded before the call started"), true));
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (deadline.timeRemaining() > 0) return this.armDeadline(deadline);
      this.fail(new RpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded"), true);
    }, Math.min(left, MAX_TIMER_MS));
  }

  private watchSignal(signal: AbortSignal | undefined, fromParent: boolean): void {
    if (!signal) return;
    const onAbort = () => {
      const reason = signal.reason;
      const code = reason instanceof RpcError && reason.code === Code.DEADLINE_EXCEEDED ? Code.DEADLINE_EXCEEDED : Code.CANCELLED;
      this.fail(new RpcError(code, fromParent ? `parent call ended: ${reason instanceof Error ? reason.message : String(reason)}` : "call cancelled by its AbortSignal"), true);
    };
    if (signal.aborted) {
      queueMicrotask(onAbort);
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    this.cleanups.push(() => signal.removeEventListener("abort", onAbort));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const c of this.cleanups.splice(0)) c();
  }
}

function describePeer(session: ClientHttp2Session): string | undefined {
  const s = session.socket;
  if (!s || s.remoteAddress === undefined) return undefined;
  return s.remoteFamily === "IPv6" ? `ipv6:[${s.remoteAddress}]:${s.remotePort}` : `ipv4:${s.remoteAddress}:${s.remotePort}`;
}
