// Row 32 of the reliability bar: metadata keys `__proto__`, `constructor`, `prototype` and
// `tostring` are ordinary keys. Through a real server on 127.0.0.1 they reach the handler as
// request metadata, come back as initial and trailing metadata, cross to a worker thread, and
// nothing else changes: the call completes, no prototype is touched, the server serves on.
// Peers: our Channel and @grpc/grpc-js.
import { after, before, describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Channel, ClientCall, Metadata, rawMethod, Server, unaryUnaryRpcMethodHandler, WorkerPool, type ServerCallContext } from "../../src/index.js";
import { bytesCodec, unary } from "../server/helpers.js";

const T = { timeout: 30_000 };
const KEYS = ["__proto__", "constructor", "prototype", "tostring"] as const;

/** Own property names of the prototypes a `__proto__` or `constructor` key could reach. */
function prototypeSnapshot(): string {
  return JSON.stringify([Object.prototype, Array.prototype, Function.prototype, Buffer.prototype, Uint8Array.prototype].map((p) => Object.getOwnPropertyNames(p).sort()));
}

/** Every key twice (a repeated key is an array in object views), plus an ordinary one. */
const SENT: [string, string][] = [...KEYS.map((k): [string, string] => [k, `${k}-1`]), ...KEYS.map((k): [string, string] => [k, `${k}-2`]), ["x-plain", "p"]];

/** What the handler saw, as `[key, value]` pairs of text metadata in order. */
let lastSeen: [string, string][] = [];
/** Whether the handler's toJSON() view kept every key as an own entry of a null-prototype object. */
let lastJsonOk = false;

/** The entries of the keys this test sends (peers add their own, e.g. user-agent, accept-encoding). */
function textEntries(md: Iterable<[string, string | Uint8Array]>): [string, string][] {
  return [...md].filter((e): e is [string, string] => typeof e[1] === "string" && (KEYS.includes(e[0] as never) || e[0] === "x-plain"));
}

/**
 * A repeated text key as grpc-js reports it: node:http2 joins repeated header values with
 * ", " in the header object grpc-js reads, so both values arrive as one string.
 */
function grpcJsValues(md: grpc.Metadata | undefined, key: string): string {
  return (md?.get(key) ?? []).map(String).join(", ");
}

const server = new Server();
const pool = new WorkerPool<typeof import("./prototype-keys-pool.js")>({ module: new URL("./prototype-keys-pool.ts", import.meta.url), size: 1, name: "row32" });
server.addRegisteredMethodHandlers("rel.Proto", {
  /** Echoes the request; sends every request metadata entry back as initial and trailing metadata. */
  Echo: unaryUnaryRpcMethodHandler(async (req: Uint8Array, ctx: ServerCallContext) => {
    lastSeen = textEntries(ctx.metadata);
    const json = ctx.metadata.toJSON();
    lastJsonOk = Object.getPrototypeOf(json) === null && KEYS.every((k) => !ctx.metadata.has(k) || Object.hasOwn(json, k));
    const back = new Metadata(lastSeen);
    await ctx.sendInitialMetadata(back);
    ctx.setTrailingMetadata(back);
    return req;
  }),
  /** Sends SENT as initial and trailing metadata, whatever the request carried. */
  Fixed: unaryUnaryRpcMethodHandler(async (req: Uint8Array, ctx: ServerCallContext) => {
    await ctx.sendInitialMetadata(SENT);
    ctx.setTrailingMetadata(SENT);
    return req;
  }),
  /** The same metadata, seen on a worker thread. */
  OnWorker: unaryUnaryRpcMethodHandler(pool.unary("seen")),
});
pool.attach(server);

let port = 0;
let before0 = "";

before(async () => {
  before0 = prototypeSnapshot();
  port = await server.addInsecurePort("127.0.0.1:0");
  server.start();
  await pool.ready();
});

after(async () => {
  await server.stop(0);
  await pool.close();
});

/** SENT as Metadata groups it: values of one key together, keys in first-seen order. */
function grouped(pairs: readonly [string, string][]): [string, string][] {
  const md = new Metadata();
  for (const [k, v] of pairs) md.append(k, v);
  return [...md] as [string, string][];
}

describe("row 32: metadata keys __proto__, constructor, prototype, tostring", () => {
  it("our Channel: request metadata reaches the handler, comes back as initial and trailing metadata; the call is OK", T, async (t: TestContext) => {
    const channel = new Channel(`127.0.0.1:${port}`);
    try {
      const call = new ClientCall(channel, rawMethod("/rel.Proto/Echo", "unary"), { metadata: SENT, timeout: 5000 });
      await call.sendMessage(Uint8Array.of(7), { end: true });
      const initial = await call.recvInitialMetadata();
      const reply = await call.recvMessage();
      const trailing = await call.recvTrailingMetadata();
      const expected = grouped(SENT);
      t.diagnostic(`handler saw ${JSON.stringify(lastSeen)}`);
      assert.deepEqual(lastSeen, expected, "request metadata in the handler");
      assert.ok(lastJsonOk, "ctx.metadata.toJSON() keeps every key as an own entry of a null-prototype object");
      assert.deepEqual(textEntries(initial), expected, "initial metadata");
      assert.deepEqual(textEntries(trailing), expected, "trailing metadata");
      assert.deepEqual([...(reply as Uint8Array)], [7]);
      assert.equal(call.status?.code, 0);
      assert.equal(initial.get("toString"), "tostring-1");
      assert.deepEqual(trailing.getAll("__proto__"), ["__proto__-1", "__proto__-2"]);
    } finally {
      await channel[Symbol.asyncDispose]();
    }
  });

  it("our Channel: the keys cross to a WorkerPool thread (Metadata.toJSON over postMessage) as ordinary keys (OK)", T, async () => {
    const channel = new Channel(`127.0.0.1:${port}`);
    try {
      const call = new ClientCall(channel, rawMethod("/rel.Proto/OnWorker", "unary"), { metadata: SENT, timeout: 10_000 });
      await call.sendMessage(new Uint8Array(0), { end: true });
      const reply = (await call.recvMessage()) as Uint8Array;
      await call.recvTrailingMetadata();
      const onWorker = (JSON.parse(Buffer.from(reply).toString()) as [string, string][]).filter(([k]) => k !== "user-agent");
      assert.deepEqual(onWorker, grouped(SENT));
    } finally {
      await channel[Symbol.asyncDispose]();
    }
  });

  it("grpc-js: request metadata reaches the handler, initial and trailing metadata arrive with every key (OK)", T, async () => {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const md = new grpc.Metadata();
      // grpc-js itself cannot send a `__proto__` key (its toHttp2Headers assigns into a plain
      // object, which drops it), so it sends the other three; the reply carries all four.
      const fromGrpcJs = SENT.filter(([k]) => k !== "__proto__");
      for (const [k, v] of fromGrpcJs) md.add(k, v);
      const r = await unary(client, "/rel.Proto/Echo", Buffer.from("hi"), bytesCodec, bytesCodec, { metadata: md, deadlineMs: 5000 });
      assert.deepEqual(lastSeen, grouped(fromGrpcJs), "request metadata in the handler");
      assert.equal(r.status.code, grpc.status.OK);
      assert.equal(r.responses[0]!.toString(), "hi");
      for (const k of KEYS.filter((k) => k !== "__proto__")) {
        assert.equal(grpcJsValues(r.initial, k), `${k}-1, ${k}-2`, `initial ${k}`);
        assert.equal(grpcJsValues(r.status.metadata, k), `${k}-1, ${k}-2`, `trailing ${k}`);
      }
    } finally {
      client.close();
    }
  });

  it("grpc-js receives all four keys, `__proto__` included, as initial and trailing metadata the handler sets (OK)", T, async () => {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const r = await unary(client, "/rel.Proto/Fixed", Buffer.from("x"), bytesCodec, bytesCodec, { deadlineMs: 5000 });
      assert.equal(r.status.code, grpc.status.OK);
      for (const k of KEYS) {
        assert.equal(grpcJsValues(r.initial, k), `${k}-1, ${k}-2`, `initial ${k}`);
        assert.equal(grpcJsValues(r.status.metadata, k), `${k}-1, ${k}-2`, `trailing ${k}`);
      }
      assert.equal(grpcJsValues(r.initial, "x-plain"), "p");
    } finally {
      client.close();
    }
  });

  it("nothing else changes: no prototype gained or lost a property; a call without metadata is OK", T, async () => {
    assert.equal(prototypeSnapshot(), before0);
    assert.equal(({} as { constructor: unknown }).constructor, Object);
    assert.equal(typeof Object.prototype.toString, "function");
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const r = await unary(client, "/rel.Proto/Echo", Buffer.from("plain"), bytesCodec, bytesCodec, { deadlineMs: 5000 });
      assert.equal(r.status.code, grpc.status.OK);
      assert.equal(r.responses[0]!.toString(), "plain");
      assert.deepEqual(lastSeen, []);
    } finally {
      client.close();
    }
  });
});
