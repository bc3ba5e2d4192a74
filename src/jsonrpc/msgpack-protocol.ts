// MessagePack-RPC (github.com/msgpack-rpc/msgpack-rpc, spec.md) behind the same RPCProtocol
// as JSON-RPC, so RPCServer, RPCDispatcher, RPCClient and every transport work unchanged.
//
// Wire format, one MessagePack array per message:
//   request       [0, msgid, method, params]   msgid: unsigned 32-bit integer; method: str
//   response      [1, msgid, error, result]    error nil on success, result nil on error
//   notification  [2, method, params]
// params is an array. As an extension, a map is accepted too and bound to parameter names as
// JSON-RPC's named params are; the client sends a map only when given named params.
// MessagePack-RPC has no batches: a top-level array of requests is an invalid request.
//
// Errors follow tinyrpc 1.x's MSGPACKRPCProtocol: the error member is `[code, message]` with
// JSON-RPC's codes (-32700 parse error, -32600 invalid request, -32601, -32602, -32603,
// -32000 for an exception a method raised), so the dispatcher's errors map one to one. An
// error's `data`, when it has one, travels as a third element: `[code, message, data]`
// (`errorData: "omit"` sends exactly `[code, message]`, what tinyrpc 1.x reads a code from).
// The spec lets an error be any object; parseReply reads other shapes as code -32000 with
// the message when it is a str and the raw error as `data`.
//
// Parsing never throws; every defect is answered:
// - not MessagePack (reserved bytes, cut short, trailing bytes, invalid UTF-8) -> -32700;
// - over a decoding limit (maxDepth, max*Length), a map key that is not a str, or the
//   "__proto__" key -> -32600 with the reason in data;
// - wrong shape (not an array, wrong length or type tag, method not a str, params neither
//   array nor map) -> -32600;
// - a msgid that is not an unsigned 32-bit integer (negative, float, too large, nil) ->
//   -32600 with msgid nil. Whenever a valid msgid could be read it is echoed, so peers that
//   match responses by msgid get their answer.
// A response may carry msgid nil only with an error (the request's msgid was unknown).
//
// Values: see msgpack/codec.ts (bigint beyond 2^53, bin <-> Uint8Array, timestamp <-> Date).
import { ErrorCode, SwitchboardError } from "../errors.js";
import { JSONRPCError, JSONRPCErrorCode } from "./errors.js";
import { MsgpackCodec, type Decoded, type MsgpackExtensionCodec } from "./msgpack/codec.js";
import { isIntegerAt, uint32At, type ScanLimits } from "./msgpack/scan.js";
import type { ParsedEntry, ParsedMessage, ParsedReply, RequestId, RPCErrorResponse, RPCParams, RPCProtocol, RPCRequest, RPCResponse } from "./protocol.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./transport.js";

export interface MSGPACKRPCProtocolOptions {
  /** Most containers nested in one another in a message (the message array is 1). Default 100. */
  maxDepth?: number;
  /** Longest str in bytes. Default 4 MiB. */
  maxStrLength?: number;
  /** Longest bin in bytes. Default 4 MiB. */
  maxBinLength?: number;
  /** Longest ext payload in bytes. Default 4 MiB. */
  maxExtLength?: number;
  /** Most members of one array. Default 1048576. */
  maxArrayLength?: number;
  /** Most entries of one map. Default 1048576. */
  maxMapLength?: number;
  /** Extension types beyond the timestamp (unhandled ones pass as ExtData): an @msgpack/msgpack `ExtensionCodec`. */
  extensionCodec?: MsgpackExtensionCodec;
  /** `"include"` (default): error data as a third element; `"omit"`: errors are exactly `[code, message]`. */
  errorData?: "include" | "omit";
  /** The client's first msgid (default 1); ids then count up and wrap from 2^32-1 to 0. */
  initialMsgid?: number;
}

const REQUEST = 0;
const RESPONSE = 1;
const NOTIFICATION = 2;
const UINT32_MAX = 0xffffffff;
const EMPTY = new Uint8Array(0);

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min || v > UINT32_MAX) throw new SwitchboardError(ErrorCode.BAD_OPTION, `${name} must be an integer from ${min} to 2^32-1, got ${String(v)}`);
  return v;
}

function isUint32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
}

function isParams(value: unknown): value is RPCParams {
  return typeof value === "object" && value !== null && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype);
}

function error(code: number, id: RequestId, detail: string): ParsedEntry {
  const standard = code as (typeof JSONRPCErrorCode)[keyof typeof JSONRPCErrorCode];
  return { kind: "error", response: { ok: false, id, error: JSONRPCError.standard(standard, detail) } };
}

function badReply(detail: string, cause?: unknown): SwitchboardError {
  return new SwitchboardError(ErrorCode.BAD_REPLY, `malformed MessagePack-RPC reply: ${detail}`, cause === undefined ? undefined : { cause });
}

export class MSGPACKRPCProtocol implements RPCProtocol {
  readonly name = "msgpack";
  readonly limits: ScanLimits;
  private readonly codec: MsgpackCodec;
  private readonly errorData: boolean;
  private nextId: number;

  constructor(options: MSGPACKRPCProtocolOptions = {}) {
    this.limits = {
      // a request needs 2 levels: the message array and its params
      maxDepth: positive("maxDepth", options.maxDepth, 100, 2),
      maxStrLength: positive("maxStrLength", options.maxStrLength, DEFAULT_MAX_MESSAGE_BYTES),
      maxBinLength: positive("maxBinLength", options.maxBinLength, DEFAULT_MAX_MESSAGE_BYTES),
      maxExtLength: positive("maxExtLength", options.maxExtLength, DEFAULT_MAX_MESSAGE_BYTES),
      maxArrayLength: positive("maxArrayLength", options.maxArrayLength, 1 << 20),
      maxMapLength: positive("maxMapLength", options.maxMapLength, 1 << 20),
    };
    if (options.errorData !== undefined && options.errorData !== "include" && options.errorData !== "omit") {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `errorData must be "include" or "omit", got ${String(options.errorData)}`);
    }
    this.errorData = options.errorData !== "omit";
    this.nextId = positive("initialMsgid", options.initialMsgid, 1, 0);
    this.codec = new MsgpackCodec({ ...this.limits, extensionCodec: options.extensionCodec });
  }

  parseRequest(message: Uint8Array): ParsedMessage {
    return { batch: false, entries: [this.parseOne(message)] };
  }

  private parseOne(message: Uint8Array): ParsedEntry {
    const decoded = this.codec.decode(message);
    if (!decoded.ok) {
      if (decoded.scan.failure === "parse" || decoded.scan.failure === undefined) return error(JSONRPCErrorCode.PARSE_ERROR, null, decoded.detail);
      return error(JSONRPCErrorCode.INVALID_REQUEST, recoverMsgid(message, decoded), decoded.detail);
    }
    const value = decoded.value;
    const heads = decoded.scan.heads;
    if (!Array.isArray(value)) return error(JSONRPCErrorCode.INVALID_REQUEST, null, "a message must be an array");
    if (value.length === 0) return error(JSONRPCErrorCode.INVALID_REQUEST, null, "a message must not be empty");
    if (Array.isArray(value[0])) return error(JSONRPCErrorCode.INVALID_REQUEST, null, "MessagePack-RPC has no batch requests");
    const type: unknown = isIntegerAt(message, heads[0]) ? value[0] : undefined;
    if (type === REQUEST) {
      const id = isIntegerAt(message, heads[1]) && isUint32(value[1]) ? value[1] : null;
      if (id === null) return error(JSONRPCErrorCode.INVALID_REQUEST, null, "msgid must be an unsigned 32-bit integer");
      if (value.length !== 4) return error(JSONRPCErrorCode.INVALID_REQUEST, id, `a request has 4 members, not ${value.length}`);
      return this.request(value[2], value[3], id);
    }
    if (type === NOTIFICATION) {
      if (value.length !== 3) return error(JSONRPCErrorCode.INVALID_REQUEST, null, `a notification has 3 members, not ${value.length}`);
      return this.request(value[1], value[2], undefined);
    }
    if (type === RESPONSE) return error(JSONRPCErrorCode.INVALID_REQUEST, null, "a response is not a request");
    return error(JSONRPCErrorCode.INVALID_REQUEST, null, "the message type must be 0 (request) or 2 (notification)");
  }

  private request(method: unknown, params: unknown, id: number | undefined): ParsedEntry {
    const errorId = id ?? null;
    if (typeof method !== "string") return error(JSONRPCErrorCode.INVALID_REQUEST, errorId, "method must be a str");
    if (!isParams(params)) return error(JSONRPCErrorCode.INVALID_REQUEST, errorId, "params must be an array (or a map)");
    return { kind: "request", request: { method, params, id } };
  }

  serializeReply(responses: readonly RPCResponse[], _batch: boolean): Uint8Array {
    // parseRequest never reports a batch: there is at most one response
    const response = responses[0];
    if (response === undefined) return EMPTY;
    if (!response.ok) return this.encodeError(response);
    try {
      // undefined (a void method) is nil, like null
      return this.codec.encode([RESPONSE, response.id, null, response.result ?? null]);
    } catch (e) {
      const detail = `result cannot be encoded as MessagePack: ${e instanceof Error ? e.message : String(e)}`;
      return this.encodeError({ ok: false, id: response.id, error: JSONRPCError.standard(JSONRPCErrorCode.INTERNAL_ERROR, detail) });
    }
  }

  private encodeError(response: RPCErrorResponse): Uint8Array {
    const { code, message, data } = response.error;
    if (this.errorData && data !== undefined) {
      try {
        return this.codec.encode([RESPONSE, response.id, [code, message, data], null]);
      } catch {
        // data is optional: an unencodable one is dropped rather than losing the error itself
      }
    }
    return this.codec.encode([RESPONSE, response.id, [code, message], null]);
  }

  createRequest(method: string, params?: RPCParams, oneWay = false): RPCRequest {
    if (oneWay) return { method, params };
    const id = this.nextId;
    this.nextId = id === UINT32_MAX ? 0 : id + 1;
    return { method, params, id };
  }

  serializeRequest(request: RPCRequest | readonly RPCRequest[]): Uint8Array {
    if (isRequestArray(request)) throw new SwitchboardError(ErrorCode.BAD_OPTION, "MessagePack-RPC has no batch requests: send the calls one by one");
    const params = request.params ?? [];
    if (request.id !== undefined && !isUint32(request.id)) {
      throw new SwitchboardError(ErrorCode.BAD_OPTION, `a MessagePack-RPC msgid must be an unsigned 32-bit integer, got ${JSON.stringify(request.id)}`);
    }
    try {
      return this.codec.encode(request.id === undefined ? [NOTIFICATION, request.method, params] : [REQUEST, request.id, request.method, params]);
    } catch (e) {
      throw new SwitchboardError(ErrorCode.BAD_MESSAGE, `params of ${JSON.stringify(request.method)} cannot be encoded as MessagePack: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
  }

  parseReply(reply: Uint8Array): ParsedReply {
    if (reply.length === 0) throw badReply("empty reply");
    const decoded = this.codec.decode(reply);
    if (!decoded.ok) throw badReply(decoded.detail);
    const value = decoded.value;
    const heads = decoded.scan.heads;
    if (!Array.isArray(value)) throw badReply("a response must be an array");
    if (value.length !== 4) throw badReply(`a response has 4 members, not ${value.length}`);
    if (!isIntegerAt(reply, heads[0]) || value[0] !== RESPONSE) throw badReply("the message type of a response must be 1");
    const [, id, err, result] = value as [unknown, unknown, unknown, unknown];
    if (err === null) {
      if (!isIntegerAt(reply, heads[1]) || !isUint32(id)) throw badReply("msgid must be an unsigned 32-bit integer");
      return { batch: false, responses: [{ ok: true, id, result }] };
    }
    if (id !== null && (!isIntegerAt(reply, heads[1]) || !isUint32(id))) throw badReply("msgid must be an unsigned 32-bit integer (or nil with an error)");
    if (result !== null) throw badReply("a response carries either an error or a result, not both");
    return { batch: false, responses: [{ ok: false, id, error: readError(err) }] };
  }
}

/** The msgid of a request refused before decoding, when the bytes before the defect show one. */
function recoverMsgid(message: Uint8Array, decoded: Decoded): number | null {
  const [tag, msgid, method] = decoded.scan.heads;
  if (tag === undefined || msgid === undefined || method === undefined || decoded.scan.at < method) return null;
  if (message[tag] !== REQUEST) return null;
  return uint32At(message, msgid) ?? null;
}

/** tinyrpc 1.x's `[code, message]` (plus our optional data); any other error object as the spec allows. */
function readError(err: unknown): JSONRPCError {
  if (Array.isArray(err) && (err.length === 2 || err.length === 3) && Number.isSafeInteger(err[0]) && typeof err[1] === "string") {
    return new JSONRPCError(err[0] as number, err[1], err.length === 3 ? err[2] : undefined);
  }
  return new JSONRPCError(JSONRPCErrorCode.SERVER_ERROR, typeof err === "string" ? err : "MessagePack-RPC error (the error object is in data)", err);
}

function isRequestArray(request: RPCRequest | readonly RPCRequest[]): request is readonly RPCRequest[] {
  return Array.isArray(request);
}

/**
 * The reply a stream or ZeroMQ transport sends itself for a message over its size limit,
 * as a MessagePack-RPC error response (msgid nil, -32600); pass it as their `tooLargeReply`
 * when they carry this protocol.
 */
export function msgpackTooLargeReply(size: number, limit: number): Uint8Array {
  return tooLargeCodec.encode([RESPONSE, null, [JSONRPCErrorCode.INVALID_REQUEST, `Message too large: ${size} bytes, the limit is ${limit}`], null]);
}

const tooLargeCodec = new MsgpackCodec({
  maxDepth: 3,
  maxStrLength: 1024,
  maxBinLength: 1,
  maxExtLength: 1,
  maxArrayLength: 4,
  maxMapLength: 1,
  extensionCodec: undefined,
});
