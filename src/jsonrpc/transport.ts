// The transport contracts of the tinyrpc-style front (tinyrpc's ServerTransport and
// ClientTransport): a transport moves opaque messages; it knows nothing of JSON-RPC. The
// server side is pull-based like tinyrpc's `receive_message()`, so `RPCServer` decides when
// and where (inline, a worker pool) each message is handled.

/** One message a client sent, with what the transport needs to route the reply back. */
export interface IncomingMessage<C = unknown> {
  /** Transport-specific reply route (an HTTP response, a WebSocket, a ZeroMQ envelope, ...). */
  readonly context: C;
  /** The raw message bytes, exactly as received (one HTTP body, one WS message, the last ZMQ frame). */
  readonly message: Uint8Array;
}

/**
 * The server side of a transport. Every incoming message gets exactly one `sendReply()`:
 * an empty reply means "no JSON-RPC response" (a notification) and becomes the transport's
 * empty answer (HTTP 204/200 with no body, an empty WebSocket frame, an empty ZeroMQ frame),
 * so lock-step clients (ZeroMQ REQ, tinyrpc's one-way calls) never hang.
 */
export interface ServerTransport<C = unknown> {
  /** The next message; resolves `undefined` once the transport is closed and drained. */
  receiveMessage(): Promise<IncomingMessage<C> | undefined>;
  /** Sends the reply to the message that came with `context`. */
  sendReply(context: C, reply: Uint8Array): Promise<void>;
  /** Stops accepting messages; pending `receiveMessage()` calls resolve `undefined`. */
  close(): Promise<void>;
}

/** The client side of a transport (tinyrpc `ClientTransport.send_message(message, expect_reply)`). */
export interface ClientTransport {
  /**
   * Sends one message. With `expectReply` it resolves to the reply bytes (possibly empty);
   * without, it resolves once the message is handed over (the transport may still read and
   * discard an empty reply where its protocol is lock-step).
   */
  sendMessage(message: Uint8Array, expectReply: boolean): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

/** Request size limit every transport enforces unless told otherwise (4 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
