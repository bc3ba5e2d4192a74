// The protocol contract (tinyrpc's RPCProtocol): turns transport bytes into requests and
// responses into bytes, for the server and the client side. The server, dispatcher and client
// speak only these types, so another wire format (MessagePack-RPC) plugs in unchanged.

import type { JSONRPCError } from "./errors.js";

/** A request id. `undefined` elsewhere means "no id": a notification. */
export type RequestId = string | number | null;

/** Positional (array) or named (object) parameters. */
export type RPCParams = readonly unknown[] | Readonly<Record<string, unknown>>;

/** One call, as parsed by the server or built by the client. */
export interface RPCRequest {
  readonly method: string;
  /** Absent when the request carries no parameters. */
  readonly params?: RPCParams | undefined;
  /** The id to answer with; `undefined` for a notification (which gets no response). */
  readonly id?: RequestId | undefined;
}

export type RPCResponse = RPCResultResponse | RPCErrorResponse;
export interface RPCResultResponse {
  readonly ok: true;
  readonly id: RequestId;
  /** `undefined` (a void method) is sent as `null`. */
  readonly result: unknown;
}
export interface RPCErrorResponse {
  readonly ok: false;
  readonly id: RequestId;
  readonly error: JSONRPCError;
}

/** One member of an incoming message: a request to dispatch, or an error already decided by parsing. */
export type ParsedEntry = { readonly kind: "request"; readonly request: RPCRequest } | { readonly kind: "error"; readonly response: RPCErrorResponse };

/** What the server got: one entry, or a batch (the reply is then an array too). */
export interface ParsedMessage {
  readonly batch: boolean;
  readonly entries: readonly ParsedEntry[];
}

/** A reply as the client reads it: one response or a batch of them. */
export interface ParsedReply {
  readonly batch: boolean;
  readonly responses: readonly RPCResponse[];
}

export interface RPCProtocol {
  /** Short name for diagnostics ("jsonrpc", "msgpack"). */
  readonly name: string;

  // server side
  /** Parses an incoming message. Never throws: every defect becomes an error entry. */
  parseRequest(message: Uint8Array): ParsedMessage;
  /**
   * Serializes the responses to one message (`batch` as `parseRequest` reported). Zero
   * responses give an empty reply. Never throws: a result that cannot be encoded becomes an
   * internal error for that request.
   */
  serializeReply(responses: readonly RPCResponse[], batch: boolean): Uint8Array;

  // client side
  /** Builds a request with the next id of this protocol instance, or without id when `oneWay`. */
  createRequest(method: string, params?: RPCParams, oneWay?: boolean): RPCRequest;
  /** Serializes one request, or a batch when given an array. */
  serializeRequest(request: RPCRequest | readonly RPCRequest[]): Uint8Array;
  /** Parses a reply strictly; throws `SwitchboardError` `BAD_REPLY` on anything malformed. */
  parseReply(reply: Uint8Array): ParsedReply;
}
