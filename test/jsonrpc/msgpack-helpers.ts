// Shared by the MessagePack-RPC tests: raw encoding of hand-made messages and a reader for replies.
import assert from "node:assert/strict";
import { decode, encode } from "@msgpack/msgpack";
import { MSGPACKRPCProtocol, type ParsedEntry, type ParsedMessage, type RPCErrorResponse } from "../../src/jsonrpc/index.js";

/** Encodes any value as MessagePack (bigints as int64/uint64). */
export function pack(value: unknown): Uint8Array {
  return encode(value, { useBigInt64: true });
}

/** Decodes a reply as a peer would (64-bit integers as bigint). */
export function unpack(bytes: Uint8Array): unknown {
  return decode(bytes, { useBigInt64: true });
}

/** The single entry of a parsed message (MessagePack-RPC never has batches). */
export function only(parsed: ParsedMessage): ParsedEntry {
  assert.equal(parsed.batch, false);
  assert.equal(parsed.entries.length, 1);
  return parsed.entries[0]!;
}

/** Asserts the message parses to an error response with this code and id; returns it. */
export function expectError(protocol: MSGPACKRPCProtocol, message: Uint8Array, code: number, id: number | null): RPCErrorResponse {
  const entry = only(protocol.parseRequest(message));
  assert.equal(entry.kind, "error", `expected error ${code}, got ${JSON.stringify(entry, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`);
  const response = (entry as { response: RPCErrorResponse }).response;
  assert.equal(response.error.code, code, `code (data: ${String(response.error.data)})`);
  assert.equal(response.id, id);
  return response;
}
