// One gRPC method call made from a JSON-RPC request, without HTTP/2: the same context and
// stream the method's handlers get from a gRPC call (ServerCallContext / ServerStream), fed
// with the request messages decoded up front, collecting the responses. It runs inside the
// server's interceptors and ends by the same rules as ServerCall: what a handler returns or
// throws, setCode/setDetails, an explicit sendTrailingMetadata, a deadline, or a cancel.
import type { JsonValue } from "@bufbuild/protobuf";
import type { AuthContext, ServerStream, TrailingStatus } from "../../call/context.js";
import type { ServerCall } from "../../call/server-call.js";
import { isEncoding, type Encoding } from "../../codec/compression.js";
import { MAX_TIMER_MS, type Deadline } from "../../deadline.js";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { Metadata, type MetadataInit } from "../../metadata.js";
import { packDetail, type DetailInput } from "../../rich-details.js";
import { isCallAbort, report } from "../../server/error-report.js";
import type { LocalCallPath } from "../../server/server.js";
import type { MethodDefinition, MethodInfo } from "../../service/method.js";
import { Code, fromError, RpcError, statusOf, type Status } from "../../status.js";
import { abortError, statusError } from "../../call/abort.js";

/** How a bridged call ended: the response JSON (one message or the list), or a non-OK status. */
export type LocalOutcome = { readonly ok: true; readonly responses: JsonValue[] } | { readonly ok: false; readonly status: Status; readonly cause: unknown };

export interface LocalCallSetup {
  readonly def: MethodDefinition;
  /** The request messages, already in the form the handler takes. */
  readonly requests: unknown[];
  readonly metadata: Metadata;
  readonly peer: string;
  readonly contentType: string;
  readonly deadline: Deadline | undefined;
  /** Limits on what a handler may send back (the whole answer is one JSON-RPC reply). */
  readonly maxMessages: number;
  readonly maxBytes: number;
  /** The JSON of one serialized response; throws an RpcError when it cannot be written. */
  readonly toJson: (bytes: Uint8Array) => JsonValue;
}

const streamingResponse = (def: MethodInfo) => def.kind === "server_streaming" || def.kind === "bidi_streaming";

export class LocalCall<Req = unknown, Res = unknown> implements ServerStream<Req, Res> {
  readonly method: MethodInfo;
  readonly peer: string;
  readonly contentType: string;
  readonly deadline: Deadline | undefined;
  readonly userAgent: string | undefined = undefined;
  readonly requestEncoding: Encoding = "identity";
  readonly lastMessageCompressed = false;

  private md: Metadata;
  private trailing: Metadata | undefined;
  private statusCode: Code = Code.OK;
  private statusDetails = "";
  private headersSent = false;
  private readonly requests: unknown[];
  private readonly responses: JsonValue[] = [];
  private sentBytes = 0;
  private settled = false;
  private endReason: RpcError | undefined;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private callbacks: (() => void)[] = [];
  private resolveOutcome!: (outcome: LocalOutcome) => void;
  /** Resolves once, when the call has ended (the handler may still be running after a cancel). */
  readonly outcome: Promise<LocalOutcome>;

  constructor(
    private readonly setup: LocalCallSetup,
    private readonly path: LocalCallPath,
  ) {
    this.method = setup.def;
    this.peer = setup.peer;
    this.contentType = setup.contentType;
    this.deadline = setup.deadline;
    this.md = setup.metadata;
    this.requests = setup.requests.slice();
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
    if (setup.deadline) this.armTimer(setup.deadline.timeRemaining());
  }

  /** Runs the handler inside the server's interceptors; the outcome says how the call ended. */
  start(): Promise<LocalOutcome> {
    let result: Promise<void> | void;
    try {
      result = this.path.run(this as unknown as ServerCall, this.setup.def.handler);
    } catch (err) {
      this.fail(err ?? new Error("handler threw without a reason"));
      return this.outcome;
    }
    Promise.resolve(result).then(
      () => this.complete(),
      (err: unknown) => this.fail(err ?? new Error("handler rejected without a reason")),
    );
    return this.outcome;
  }

  // ---- context ---------------------------------------------------------------------

  get metadata(): Metadata {
    return this.md;
  }

  get signal(): AbortSignal {
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

  /** Whether the call has ended (what the handler adapters check before answering). */
  get finished(): boolean {
    return this.settled;
  }

  timeRemaining(): number {
    return this.deadline ? this.deadline.timeRemaining() : Infinity;
  }

  isActive(): boolean {
    return !this.settled && !this.endReason;
  }

  onCancel(fn: (reason: unknown) => void): void {
    const signal = this.controller.signal;
    if (signal.aborted) queueMicrotask(() => fn(signal.reason));
    else signal.addEventListener("abort", () => fn(signal.reason), { once: true });
  }

  addCallback(fn: () => void): boolean {
    if (typeof fn !== "function") throw new SwitchboardError(ErrorCode.BAD_HANDLER, "addCallback needs a function");
    if (this.settled) return false;
    this.callbacks.push(fn);
    return true;
  }

  /** There are no response headers on JSON-RPC: this only checks the call state, as a gRPC call would. */
  async sendInitialMetadata(metadata?: MetadataInit): Promise<void> {
    if (this.headersSent) throw new SwitchboardError(ErrorCode.CALL_STATE, "initial metadata was already sent");
    // Metadata that a gRPC call would refuse is refused here too.
    if (metadata !== undefined) new Metadata(metadata);
    this.headersSent = true;
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

  /** Checked as on gRPC; nothing is compressed on the JSON-RPC side. */
  setCompression(encoding: Encoding): void {
    if (!isEncoding(encoding)) throw new SwitchboardError(ErrorCode.BAD_COMPRESSION, `unsupported compression ${JSON.stringify(encoding)}`);
    if (this.headersSent) throw new SwitchboardError(ErrorCode.CALL_STATE, "compression must be chosen before response headers are sent");
  }

  disableNextMessageCompression(): void {
    // Nothing is compressed on the JSON-RPC side.
  }

  peerIdentities(): Buffer[] | null {
    return null;
  }

  peerIdentityKey(): string | null {
    return null;
  }

  authContext(): AuthContext {
    return {};
  }

  // ---- messages --------------------------------------------------------------------

  /** The one request of a unary-request method (what the context-style adapters read). */
  async recvUnary(): Promise<Req> {
    const message = await this.recvMessage();
    if (message === null) throw new RpcError(Code.INTERNAL, "request ended without a message");
    return message;
  }

  async recvMessage(): Promise<Req | null> {
    if (this.endReason) throw this.endReason;
    return this.requests.length > 0 ? (this.requests.shift() as Req) : null;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Req> {
    for (;;) {
      const message = await this.recvMessage();
      if (message === null) return;
      yield message;
    }
  }

  async sendMessage(message: Res): Promise<void> {
    if (this.endReason) throw this.endReason;
    if (this.settled) throw new SwitchboardError(ErrorCode.CALL_STATE, "cannot send a message after the status was sent");
    if (!streamingResponse(this.method) && this.responses.length > 0) {
      throw new RpcError(Code.INTERNAL, `${this.method.path} answers with one message, and its handler sent a second one`);
    }
    let data: Uint8Array;
    try {
      data = this.setup.def.serialize(message);
    } catch (err) {
      throw new RpcError(Code.INTERNAL, `could not serialize response message: ${(err as Error).message}`, { cause: err });
    }
    this.sentBytes += data.byteLength;
    if (this.responses.length >= this.setup.maxMessages || this.sentBytes > this.setup.maxBytes) {
      const limit = this.responses.length >= this.setup.maxMessages ? `${this.setup.maxMessages} messages` : `${this.setup.maxBytes} bytes`;
      const err = new RpcError(Code.RESOURCE_EXHAUSTED, `the response stream exceeds the bridge's limit of ${limit} per JSON-RPC reply`);
      this.cancelled(err);
      throw err;
    }
    this.responses.push(this.setup.toJson(data));
    this.headersSent = true;
  }

  async sendTrailingMetadata(trailers: TrailingStatus = {}): Promise<void> {
    if (this.settled) throw this.endReason ?? new SwitchboardError(ErrorCode.CALL_STATE, "the status was already sent");
    if (trailers.metadata !== undefined) this.trailing = new Metadata(trailers.metadata);
    this.settle({ code: trailers.status ?? Code.OK, message: trailers.message ?? "", details: trailers.details?.map(packDetail) }, undefined);
  }

  async cancel(): Promise<void> {
    this.cancelled(new RpcError(Code.CANCELLED, "call cancelled by the server"));
  }

  // ---- ending ----------------------------------------------------------------------

  /** Ends the call early with `reason` (deadline, server stop, cancel); the handler sees its signal abort. */
  cancelled(reason: RpcError): void {
    if (this.settled || this.endReason) return;
    this.endReason = reason;
    this.controller.abort(reason);
    this.settle(statusOf(reason), reason);
  }

  private armTimer(ms: number): void {
    this.timer = setTimeout(() => {
      const left = this.deadline!.timeRemaining();
      // A deadline beyond one timer's reach (~24.8 days) is reached in several steps.
      if (left > 0) return this.armTimer(left);
      this.cancelled(new RpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded"));
    }, Math.min(ms, MAX_TIMER_MS));
  }

  /** The handler failed: reported (as the server does) unless it is an RpcError, then the call's status. */
  private fail(err: unknown): void {
    if (!(err instanceof RpcError) && !isCallAbort(err)) {
      report(this.path.onError, err, { source: "handler", method: this.method.path, peer: this.peer });
      if (!this.path.exposeErrors && this.statusCode === Code.OK) err = new RpcError(Code.UNKNOWN, "Internal error", { cause: err });
    }
    this.complete(err);
  }

  /** The status for a handler outcome, by ServerCall.complete's rules. */
  private complete(err?: unknown): void {
    if (this.settled) return;
    if (err === undefined) return this.settle({ code: this.statusCode, message: this.statusDetails }, undefined);
    const failure = err instanceof RpcError || this.statusCode === Code.OK ? fromError(err) : new RpcError(this.statusCode, this.statusDetails, { cause: err });
    this.settle(statusOf(failure), failure);
  }

  private settle(status: Status, cause: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (status.code === Code.OK && !streamingResponse(this.method) && this.responses.length === 0) {
      // A gRPC client would fail such a call too: a unary answer needs its message.
      status = { code: Code.INTERNAL, message: `${this.method.path} ended OK without a response message` };
    }
    this.resolveOutcome(status.code === Code.OK ? { ok: true, responses: this.responses } : { ok: false, status, cause });
    const callbacks = this.callbacks.splice(0);
    if (callbacks.length > 0) queueMicrotask(() => this.runCallbacks(callbacks));
  }

  /** addCallback() functions; one that throws must not skip the rest (ServerCall's rule). */
  private runCallbacks(callbacks: readonly (() => void)[]): void {
    for (const fn of callbacks) {
      try {
        fn();
      } catch (err) {
        if (this.path.onError) report(this.path.onError, err, { source: "handler", method: this.method.path, peer: this.peer });
        else process.emitWarning(`an addCallback() function of ${this.method.path} threw: ${err instanceof Error ? err.message : String(err)}`, { type: "SwitchboardWarning", code: "ERR_SB_CALLBACK" });
      }
    }
  }
}
