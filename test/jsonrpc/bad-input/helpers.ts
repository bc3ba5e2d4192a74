// Shared pieces of the bad-input tests: an RPCServer with the example methods on any server
// transport, a gate that holds a method call until the test lets it go (to close clients while
// a call runs, without sleeping), and the hostile payloads every transport is fed.
import assert from "node:assert/strict";
import { JSONRPCProtocol, RPCServer, type JSONRPCProtocolOptions, type ServerTransport } from "../../../src/jsonrpc/index.js";
import { exampleDispatcher } from "../helpers.js";
import { deferred } from "../transports/http-ws-helpers.js";

type Deferred = ReturnType<typeof deferred<void>>;

/** Holds calls of the `hold(tag)` method until `release(tag)`; `entered(tag)` resolves once the call runs. */
export class Gate {
  readonly #entered = new Map<string, Deferred>();
  readonly #released = new Map<string, Deferred>();

  #slot(map: Map<string, Deferred>, tag: string): Deferred {
    let d = map.get(tag);
    if (!d) map.set(tag, (d = deferred<void>()));
    return d;
  }

  entered(tag: string): Promise<void> {
    return this.#slot(this.#entered, tag).promise;
  }

  release(tag: string): void {
    this.#slot(this.#released, tag).resolve();
  }

  /** The method body. */
  hold = async (tag: string): Promise<string> => {
    this.#slot(this.#entered, tag).resolve();
    await this.#slot(this.#released, tag).promise;
    return tag;
  };
}

export interface RunningServer<C> {
  readonly server: RPCServer<C>;
  readonly gate: Gate;
  /** Everything RPCServer reported to onError. */
  readonly errors: unknown[];
  /** Number of `bump` notifications run. */
  bumps(): number;
  /** serveForever's promise (resolves once the transport closes by itself, e.g. end of stdin). */
  readonly serving: Promise<void>;
  /** Closes the transport and waits for serveForever to return. */
  stop(): Promise<void>;
}

/**
 * Serves the example methods plus `hold(tag)` (see Gate) and `big(n)` (a string of n "x")
 * on `transport`, with an onError that records instead of warning.
 */
export function serveRpc<C>(transport: ServerTransport<C>, protocol: JSONRPCProtocolOptions = {}): RunningServer<C> {
  const { dispatcher, counter } = exampleDispatcher();
  const gate = new Gate();
  dispatcher.addMethod(gate.hold, "hold");
  dispatcher.addMethod((n: number) => "x".repeat(n), "big");
  const errors: unknown[] = [];
  const server = new RPCServer(transport, new JSONRPCProtocol(protocol), dispatcher, { onError: (e) => errors.push(e) });
  const serving = server.serveForever();
  return {
    server,
    gate,
    errors,
    bumps: () => counter.bumps,
    serving,
    async stop() {
      await transport.close();
      await serving;
    },
  };
}

/** A request text for `method` with `params` and `id`. */
export function call(method: string, params: unknown, id: string | number): string {
  return JSON.stringify({ jsonrpc: "2.0", method, params, id });
}

/** The exact reply of `echo` with `value` to request `id`. */
export function echoReply(value: unknown, id: string | number): string {
  return JSON.stringify({ jsonrpc: "2.0", id, result: value });
}

/** A request that must be answered normally after the bad input: echo "still-alive". */
export const PROBE = call("echo", ["still-alive"], "probe");
export const PROBE_REPLY = echoReply("still-alive", "probe");

/** Parses a reply and checks it is one error object with `code` and id null. */
export function assertError(reply: string | Uint8Array, code: number, id: string | number | null = null): { code: number; message: string; data?: unknown } {
  const text = typeof reply === "string" ? reply : Buffer.from(reply).toString();
  const r = JSON.parse(text) as { jsonrpc: string; id: unknown; error: { code: number; message: string; data?: unknown } };
  assert.equal(Array.isArray(r), false, text.slice(0, 200));
  assert.deepEqual(Object.keys(r), ["jsonrpc", "id", "error"], text.slice(0, 200));
  assert.equal(r.id, id);
  assert.equal(r.error.code, code, text.slice(0, 200));
  return r.error;
}

const enc = (s: string) => Buffer.from(s);

/**
 * Hostile messages every transport must answer with exactly this JSON-RPC error (id null),
 * not a crash. `maxBatchLength` of the server under test is 10.
 */
export const BAD_MESSAGES: readonly { readonly label: string; readonly body: Buffer; readonly code: number; readonly data: RegExp }[] = [
  { label: "malformed JSON", body: enc('{"jsonrpc":"2.0","method":"echo",'), code: -32700, data: /not valid JSON/ },
  {
    label: "invalid UTF-8",
    body: Buffer.concat([enc('{"jsonrpc":"2.0","method":"echo","params":["'), Buffer.from([0xc3, 0x28, 0xff]), enc('"],"id":1}')]),
    code: -32700,
    data: /not valid UTF-8/,
  },
  { label: "a bare number", body: enc("42"), code: -32600, data: /must be an object/ },
  { label: "an object id", body: enc('{"jsonrpc":"2.0","method":"echo","params":[1],"id":{"a":1}}'), code: -32600, data: /id must be/ },
  { label: "an id overflowing to Infinity (1e400)", body: enc('{"jsonrpc":"2.0","method":"echo","params":[1],"id":1e400}'), code: -32600, data: /id must be/ },
  { label: "100k nested arrays as the id", body: enc(`{"jsonrpc":"2.0","method":"echo","id":${"[".repeat(100_000)}${"]".repeat(100_000)}}`), code: -32600, data: /nests deeper than maxDepth 1000/ },
  { label: "a batch of 11 (over maxBatchLength 10)", body: enc(`[${Array.from({ length: 11 }, (_, i) => call("echo", [i], i)).join(",")}]`), code: -32600, data: /batch of 11 requests exceeds maxBatchLength 10/ },
  { label: "a batch of 200k entries (far over maxBatchLength)", body: enc(`[${Array(200_000).fill("1").join(",")}]`), code: -32600, data: /batch of 200000 requests exceeds maxBatchLength 10/ },
];

/** Checks a reply against one of BAD_MESSAGES. */
export function assertBadReply(reply: string | Uint8Array, bad: (typeof BAD_MESSAGES)[number]): void {
  const error = assertError(reply, bad.code);
  assert.match(String(error.data), bad.data);
}
