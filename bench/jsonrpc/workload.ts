// The JSON-RPC benchmark workload: the request bodies h2load posts, the replies they must get,
// and the requests the WebSocket load process sends, shared by the harness and the servers.

/** The echo payload: a 16-character string, like the gRPC scenarios' 16-byte payload. */
export const ECHO_TEXT = "abcdefghijklmnop";

/** What h2load posts for `jsonrpc-http`: one positional echo call. */
export const httpSingle = {
  body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":["${ECHO_TEXT}"]}`,
  expected: [{ id: 1, result: ECHO_TEXT }],
  batch: false,
} as const;

/** Calls per batch in `jsonrpc-http-batch`. */
export const BATCH = 10;

/** What h2load posts for `jsonrpc-http-batch`: echo (positional) and add (named) alternating. */
export const httpBatch = {
  body: `[${Array.from({ length: BATCH }, (_, i) =>
    i % 2 === 0 ? `{"jsonrpc":"2.0","id":${i + 1},"method":"echo","params":["${ECHO_TEXT}"]}` : `{"jsonrpc":"2.0","id":${i + 1},"method":"add","params":{"a":${i},"b":1}}`,
  ).join(",")}]`,
  expected: Array.from({ length: BATCH }, (_, i) => ({ id: i + 1, result: i % 2 === 0 ? ECHO_TEXT : i + 1 })),
  batch: true,
} as const;

/** WebSocket request number `n` of a connection (its id is n): even echo positional, odd add named. */
export function wsRequest(n: number): { text: string; result: unknown } {
  return n % 2 === 0
    ? { text: `{"jsonrpc":"2.0","id":${n},"method":"echo","params":["${ECHO_TEXT}"]}`, result: ECHO_TEXT }
    : { text: `{"jsonrpc":"2.0","id":${n},"method":"add","params":{"a":${n},"b":1}}`, result: n + 1 };
}

/**
 * Checks a parsed reply against the expected (id, result) pairs: a JSON-RPC 2.0 success
 * response for each, matched by id (batch replies may come in any order). Returns a problem
 * or undefined.
 */
export function checkReply(reply: unknown, expected: readonly { id: number; result: unknown }[], batch: boolean): string | undefined {
  const list = batch ? reply : [reply];
  if (!Array.isArray(list)) return `expected a batch reply (array), got ${JSON.stringify(reply)?.slice(0, 120)}`;
  if (list.length !== expected.length) return `expected ${expected.length} responses, got ${list.length}`;
  const byId = new Map<unknown, unknown>();
  for (const r of list as { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: unknown }[]) {
    if (r?.jsonrpc !== "2.0" || r.error !== undefined) return `not a success response: ${JSON.stringify(r)?.slice(0, 160)}`;
    byId.set(r.id, r.result);
  }
  for (const e of expected) {
    if (!byId.has(e.id)) return `no response for id ${e.id}`;
    if (byId.get(e.id) !== e.result) return `id ${e.id}: expected result ${JSON.stringify(e.result)}, got ${JSON.stringify(byId.get(e.id))}`;
  }
  return undefined;
}
