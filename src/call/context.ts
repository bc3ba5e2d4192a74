import type { Encoding } from "../codec/compression.js";
import type { Deadline } from "../deadline.js";
import type { Metadata, MetadataInit } from "../metadata.js";
import type { MethodInfo } from "../service/method.js";
import type { DetailInput } from "../rich-details.js";
import type { Code, Status } from "../status.js";

/** Authentication facts about the peer, from its TLS client certificate (grpcio `auth_context`). */
export type AuthContext = Record<string, Buffer[]>;

/**
 * What a handler can see and do during one call (grpcio ServicerContext, grpclib
 * server Stream properties). The same object is the stream in stream-style handlers.
 */
export interface ServerCallContext {
  /** The method being called. */
  readonly method: MethodInfo;
  /** Invocation metadata sent by the client (mutable, so interceptors can rewrite it). */
  readonly metadata: Metadata;
  /** `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000` or `unix:/path`, as grpcio reports peers. */
  readonly peer: string;
  /** The client's user-agent header. */
  readonly userAgent: string | undefined;
  /** The request content type, e.g. `application/grpc` or `application/grpc+json`. */
  readonly contentType: string;
  /** The deadline from `grpc-timeout` (capped by the server's own), if any. */
  readonly deadline: Deadline | undefined;
  /** Aborted when the call ends early: client cancel, deadline, server stop, or protocol error. Its reason is an RpcError. */
  readonly signal: AbortSignal;
  /** The encoding of the request (`grpc-encoding`). */
  readonly requestEncoding: Encoding;
  /** Whether the most recently received message had the compressed flag set. */
  readonly lastMessageCompressed: boolean;
  /** The status code the call will end with if the handler returns normally (set by setCode). */
  readonly code: Code;
  /** The status message set by setDetails. */
  readonly details: string;

  /** Milliseconds until the deadline; Infinity when there is none. */
  timeRemaining(): number;
  /** Whether the call can still send: not finished, cancelled or expired. */
  isActive(): boolean;
  /**
   * Calls `fn` once if the call ends early: client cancel, deadline, server stop, protocol
   * error (the moment `signal` aborts). For every way a call can end, use addCallback().
   */
  onCancel(fn: (reason: unknown) => void): void;
  /**
   * grpcio `add_callback`: calls `fn` once when the call has terminated, however it ended
   * (OK, an error status, client cancel, deadline, server stop), after its stream closed.
   * Returns true, or false when the call had already terminated (then `fn` never runs).
   * Callbacks run in the order added; one that throws goes to the server's `onError` (a process warning without one) and
   * does not keep the others from running.
   */
  addCallback(fn: () => void): boolean;
  /** Sends response headers now, with this initial metadata. */
  sendInitialMetadata(metadata?: MetadataInit): Promise<void>;
  /** Sets (replaces) the trailing metadata sent with the status. */
  setTrailingMetadata(metadata: MetadataInit): void;
  /** The trailing metadata set so far. */
  readonly trailingMetadata: Metadata;
  /** Ends the call with a non-OK status: throws an RpcError (OK becomes UNKNOWN). */
  abort(code: Code, details?: string, options?: { metadata?: MetadataInit; details?: readonly DetailInput[] }): never;
  /** Ends the call with a full status (code, message, rich details). */
  abortWithStatus(status: Status & { metadata?: MetadataInit }): never;
  /** Sets the status code used when the handler returns (or throws a non-RpcError). */
  setCode(code: Code): void;
  /** Sets the status message used with setCode. */
  setDetails(details: string): void;
  /** Compresses the response messages of this call with `encoding`, if the client accepts it. */
  setCompression(encoding: Encoding): void;
  /** Sends the next response message uncompressed. */
  disableNextMessageCompression(): void;
  /** Identities from the client certificate (SANs, else CN); null without mTLS. */
  peerIdentities(): Buffer[] | null;
  /** The auth property naming those identities; null without mTLS. */
  peerIdentityKey(): string | null;
  /** All auth properties of the connection. */
  authContext(): AuthContext;
}

/** Trailers a stream-style handler sends explicitly (grpclib `send_trailing_metadata`). */
export interface TrailingStatus {
  status?: Code;
  message?: string;
  details?: readonly DetailInput[];
  metadata?: MetadataInit;
}

/**
 * The grpclib-style server stream: receive and send messages and metadata yourself.
 * Calls that never send trailers get them from the handler's outcome.
 */
export interface ServerStream<Req, Res> extends ServerCallContext, AsyncIterable<Req> {
  /** The next request message, or null once the client has ended its stream. */
  recvMessage(): Promise<Req | null>;
  /** Sends one response message, waiting while the client's flow-control window is full. */
  sendMessage(message: Res): Promise<void>;
  /** Sends the status and trailing metadata; without earlier headers this is a trailers-only response. */
  sendTrailingMetadata(trailers?: TrailingStatus): Promise<void>;
  /** Resets the HTTP/2 stream (RST_STREAM CANCEL). */
  cancel(): Promise<void>;
}
