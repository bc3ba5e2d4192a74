// The error a JSON-RPC method throws to choose its code and data, and the error RPCClient
// rejects with when the server answers with an error object: code, message and data survive
// the round trip (tinyrpc 0.6 folds them into one string).

/** The error codes JSON-RPC 2.0 reserves, plus the server-error code used for application errors. */
export const JSONRPCErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** What an ordinary exception thrown by a method becomes (tinyrpc's choice, in the implementation-defined range). */
  SERVER_ERROR: -32000,
} as const;

const standardMessages: ReadonlyMap<number, string> = new Map([
  [JSONRPCErrorCode.PARSE_ERROR, "Parse error"],
  [JSONRPCErrorCode.INVALID_REQUEST, "Invalid Request"],
  [JSONRPCErrorCode.METHOD_NOT_FOUND, "Method not found"],
  [JSONRPCErrorCode.INVALID_PARAMS, "Invalid params"],
  [JSONRPCErrorCode.INTERNAL_ERROR, "Internal error"],
]);

/**
 * A JSON-RPC error object as an exception. `message` is exactly the wire message (no code
 * suffix), so what a method throws is what the client sees.
 */
export class JSONRPCError extends Error {
  override readonly name = "JSONRPCError";
  readonly code: number;
  /** Optional structured detail (`error.data` on the wire); `undefined` means absent. */
  readonly data: unknown;

  constructor(code: number, message?: string, data?: unknown, options?: { cause?: unknown }) {
    super(message ?? standardMessages.get(code) ?? "Server error", options);
    if (!Number.isInteger(code)) throw new TypeError(`JSON-RPC error code must be an integer, got ${String(code)}`);
    this.code = code;
    this.data = data;
  }

  /** One of the five standard errors with its canonical message; `detail` goes to `data`. */
  static standard(code: (typeof JSONRPCErrorCode)[keyof typeof JSONRPCErrorCode], detail?: unknown): JSONRPCError {
    return new JSONRPCError(code, standardMessages.get(code) ?? "Server error", detail);
  }
}

/**
 * How anything a method throws becomes an error response: a `JSONRPCError` (or any error
 * carrying an integer `jsonrpcErrorCode`, tinyrpc's `jsonrpc_error_code`) keeps its code; any
 * other Error becomes -32000 with its message exactly; a non-Error throw becomes -32000 with
 * its string form.
 */
export function toJSONRPCError(thrown: unknown): JSONRPCError {
  if (thrown instanceof JSONRPCError) return thrown;
  if (thrown instanceof Error) {
    const code = (thrown as { jsonrpcErrorCode?: unknown }).jsonrpcErrorCode;
    if (typeof code === "number" && Number.isInteger(code)) return new JSONRPCError(code, thrown.message, undefined, { cause: thrown });
    return new JSONRPCError(JSONRPCErrorCode.SERVER_ERROR, thrown.message, undefined, { cause: thrown });
  }
  return new JSONRPCError(JSONRPCErrorCode.SERVER_ERROR, String(thrown), undefined, { cause: thrown });
}
