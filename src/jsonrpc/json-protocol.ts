// JSON-RPC 2.0 exactly as the specification says (not where tinyrpc 0.6 deviates): ids 0, ""
// and null are real ids, only a missing id makes a notification; batches answer invalid
// members individually; invalid UTF-8 is a parse error; response objects carry exactly
// jsonrpc, id and one of result/error.

import { ErrorCode, SwitchboardError } from "../errors.js";
import { JSONRPCError, JSONRPCErrorCode } from "./errors.js";
import { nestsDeeperThan } from "./json-depth.js";
import type { ParsedEntry, ParsedMessage, ParsedReply, RequestId, RPCErrorResponse, RPCParams, RPCProtocol, RPCRequest, RPCResponse } from "./protocol.js";

export interface JSONRPCProtocolOptions {
  /** Largest batch accepted; a longer one is refused as a whole with -32600. Default 1000. */
  maxBatchLength?: number;
  /**
   * Deepest nesting of arrays and objects accepted in a request; deeper ones are refused with
   * -32600 before parsing (parsing them costs seconds of CPU). Default 1000.
   */
  maxDepth?: number;
}

export const DEFAULT_MAX_BATCH_LENGTH = 1000;
export const DEFAULT_MAX_DEPTH = 1000;

const requestKeys = new Set(["jsonrpc", "id", "method", "params"]);
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is RequestId {
  // A number that overflows to Infinity (e.g. 1e400) cannot be echoed: JSON.stringify writes null.
  return value === null || typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

function invalid(detail: string): ParsedEntry {
  return { kind: "error", response: { ok: false, id: null, error: JSONRPCError.standard(JSONRPCErrorCode.INVALID_REQUEST, detail) } };
}

function badReply(detail: string, cause?: unknown): SwitchboardError {
  return new SwitchboardError(ErrorCode.BAD_REPLY, `malformed JSON-RPC reply: ${detail}`, cause === undefined ? undefined : { cause });
}

export class JSONRPCProtocol implements RPCProtocol {
  readonly name = "jsonrpc";
  readonly maxBatchLength: number;
  readonly maxDepth: number;
  private nextId = 1;
  // fatal: invalid UTF-8 is a parse error rather than silently becoming U+FFFD
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(options: JSONRPCProtocolOptions = {}) {
    const max = options.maxBatchLength ?? DEFAULT_MAX_BATCH_LENGTH;
    if (!Number.isInteger(max) || max < 1) throw new SwitchboardError(ErrorCode.BAD_OPTION, `maxBatchLength must be a positive integer, got ${String(max)}`);
    this.maxBatchLength = max;
    const depth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isInteger(depth) || depth < 1) throw new SwitchboardError(ErrorCode.BAD_OPTION, `maxDepth must be a positive integer, got ${String(depth)}`);
    this.maxDepth = depth;
  }

  parseRequest(message: Uint8Array): ParsedMessage {
    if (nestsDeeperThan(message, this.maxDepth)) return { batch: false, entries: [invalid(`message nests deeper than maxDepth ${this.maxDepth}`)] };
    let body: unknown;
    try {
      body = JSON.parse(this.decoder.decode(message));
    } catch (e) {
      const detail = e instanceof TypeError ? "message is not valid UTF-8" : "message is not valid JSON";
      return { batch: false, entries: [{ kind: "error", response: { ok: false, id: null, error: JSONRPCError.standard(JSONRPCErrorCode.PARSE_ERROR, detail) } }] };
    }
    if (!Array.isArray(body)) return { batch: false, entries: [this.parseOne(body)] };
    if (body.length === 0) return { batch: false, entries: [invalid("empty batch")] };
    if (body.length > this.maxBatchLength) {
      return { batch: false, entries: [invalid(`batch of ${body.length} requests exceeds maxBatchLength ${this.maxBatchLength}`)] };
    }
    return { batch: true, entries: body.map((member) => this.parseOne(member)) };
  }

  private parseOne(value: unknown): ParsedEntry {
    if (!isObject(value)) return invalid("request must be an object");
    for (const key of Object.keys(value)) if (!requestKeys.has(key)) return invalid(`unknown request member ${JSON.stringify(key)}`);
    if (value.jsonrpc !== "2.0") return invalid('jsonrpc must be "2.0"');
    if (typeof value.method !== "string") return invalid("method must be a string");
    const hasId = Object.hasOwn(value, "id");
    if (hasId && !isId(value.id)) return invalid("id must be a string, a number or null");
    const params = value.params;
    // params null is read as "no params" (tinyrpc does the same; harmless either way)
    if (params !== undefined && params !== null && typeof params !== "object") return invalid("params must be an array or an object");
    const request: RPCRequest = {
      method: value.method,
      params: params === null || params === undefined ? undefined : (params as RPCParams),
      id: hasId ? (value.id as RequestId) : undefined,
    };
    return { kind: "request", request };
  }

  serializeReply(responses: readonly RPCResponse[], batch: boolean): Uint8Array {
    if (responses.length === 0) return EMPTY;
    if (!batch) return encoder.encode(serializeResponse(responses[0]!));
    return encoder.encode(`[${responses.map(serializeResponse).join(",")}]`);
  }

  createRequest(method: string, params?: RPCParams, oneWay = false): RPCRequest {
    return oneWay ? { method, params } : { method, params, id: this.nextId++ };
  }

  serializeRequest(request: RPCRequest | readonly RPCRequest[]): Uint8Array {
    const one = (r: RPCRequest): Record<string, unknown> => {
      const out: Record<string, unknown> = { jsonrpc: "2.0", method: r.method };
      if (r.params !== undefined) out.params = r.params;
      if (r.id !== undefined) out.id = r.id;
      return out;
    };
    return encoder.encode(JSON.stringify(isRequestArray(request) ? request.map(one) : one(request)));
  }

  parseReply(reply: Uint8Array): ParsedReply {
    if (reply.length === 0) throw badReply("empty reply");
    let body: unknown;
    try {
      body = JSON.parse(this.decoder.decode(reply));
    } catch (e) {
      throw badReply(e instanceof TypeError ? "not valid UTF-8" : "not valid JSON", e);
    }
    if (Array.isArray(body)) {
      if (body.length === 0) throw badReply("empty batch reply");
      return { batch: true, responses: body.map(parseResponse) };
    }
    return { batch: false, responses: [parseResponse(body)] };
  }
}

function isRequestArray(request: RPCRequest | readonly RPCRequest[]): request is readonly RPCRequest[] {
  return Array.isArray(request);
}

function serializeResponse(response: RPCResponse): string {
  const head = `{"jsonrpc":"2.0","id":${JSON.stringify(response.id)},`;
  if (response.ok) {
    let result: string | undefined;
    let failure = "result is not JSON-serializable";
    try {
      // undefined (a void method) is null on the wire: the result member is always present
      result = response.result === undefined ? "null" : JSON.stringify(response.result);
    } catch (e) {
      failure = `result is not JSON-serializable: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (result !== undefined) return `${head}"result":${result}}`;
    return serializeError(head, { ok: false, id: response.id, error: JSONRPCError.standard(JSONRPCErrorCode.INTERNAL_ERROR, failure) });
  }
  return serializeError(head, response);
}

function serializeError(head: string, response: RPCErrorResponse): string {
  const { code, message, data } = response.error;
  const base = `${head}"error":{"code":${code},"message":${JSON.stringify(message)}`;
  if (data === undefined) return `${base}}}`;
  let encoded: string | undefined;
  try {
    encoded = JSON.stringify(data);
  } catch {
    // data is optional: an unencodable one is dropped rather than losing the error itself
  }
  return encoded === undefined ? `${base}}}` : `${base},"data":${encoded}}}`;
}

const resultKeys = new Set(["jsonrpc", "id", "result"]);
const errorKeys = new Set(["jsonrpc", "id", "error"]);
const errorObjectKeys = new Set(["code", "message", "data"]);

function parseResponse(value: unknown): RPCResponse {
  if (!isObject(value)) throw badReply("a response must be an object");
  if (value.jsonrpc !== "2.0") throw badReply('jsonrpc must be "2.0"');
  if (!Object.hasOwn(value, "id") || !isId(value.id)) throw badReply("id must be present and a string, a number or null");
  const hasResult = Object.hasOwn(value, "result");
  const hasError = Object.hasOwn(value, "error");
  if (hasResult === hasError) throw badReply("exactly one of result and error must be present");
  const allowed = hasResult ? resultKeys : errorKeys;
  for (const key of Object.keys(value)) if (!allowed.has(key)) throw badReply(`unexpected member ${JSON.stringify(key)}`);
  if (hasResult) return { ok: true, id: value.id, result: value.result };
  const error = value.error;
  if (!isObject(error)) throw badReply("error must be an object");
  for (const key of Object.keys(error)) if (!errorObjectKeys.has(key)) throw badReply(`unexpected error member ${JSON.stringify(key)}`);
  if (typeof error.code !== "number" || !Number.isInteger(error.code)) throw badReply("error.code must be an integer");
  if (typeof error.message !== "string") throw badReply("error.message must be a string");
  return { ok: false, id: value.id, error: new JSONRPCError(error.code, error.message, error.data) };
}
