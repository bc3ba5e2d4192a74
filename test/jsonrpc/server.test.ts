// RPCServer: one reply per message, survival of every malformed input, trace, concurrency,
// the spawn hook, and the callback transport.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CallbackServerTransport, JSONRPCProtocol, RPCDispatcher, RPCServer, type ServerTransport } from "../../src/jsonrpc/index.js";
import { exampleDispatcher, startServer } from "./helpers.js";

const malformed: (string | Uint8Array)[] = [
  "",
  "nonsense",
  "null",
  "1",
  "[]",
  "[1,2,3]",
  "[null]",
  '{"jsonrpc":"2.0","id":1}',
  '{"jsonrpc":"2.0","method":"echo","id":{}}',
  '{"jsonrpc":"2.0","method":"nope","id":1}',
  '{"jsonrpc":"2.0","method":"echo","params":[1,2,3],"id":1}',
  '{"jsonrpc":"2.0","method":"fail","params":["x"],"id":1}',
  '{"jsonrpc":"2.0","method":"fail","params":["x"]}',
  '{"jsonrpc":"2.0","method":"toString","id":1}',
  '{"jsonrpc":"2.0","method":"__proto__","id":1}',
  '{"jsonrpc":"2.0","method":"constructor","params":{"__proto__":1},"id":1}',
  new Uint8Array([0xc3, 0x28]),
  "[".repeat(100_000),
];

test("serveForever survives every malformed input and answers each message exactly once", async () => {
  const { dispatcher } = exampleDispatcher();
  const errors: unknown[] = [];
  const h = startServer(dispatcher, { server: { onError: (e) => errors.push(e) } });
  try {
    for (const m of malformed) {
      const reply = await h.send(m);
      if (reply !== "") JSON.parse(reply); // every non-empty reply is JSON
    }
    // still serving normally afterwards
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"add","params":[1,2],"id":9}'), '{"jsonrpc":"2.0","id":9,"result":3}');
    // a second reply to one message would have failed in the transport and landed here
    assert.deepEqual(errors, []);
  } finally {
    await h.stop();
  }
});

test("notifications (ok, failing, unknown) each get one empty reply; the counter sees them", async () => {
  const { dispatcher, counter } = exampleDispatcher();
  const h = startServer(dispatcher);
  try {
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"bump"}'), "");
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"fail","params":["x"]}'), "");
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"missing"}'), "");
    assert.equal(counter.bumps, 1);
  } finally {
    await h.stop();
  }
});

test("trace: '-->' with the raw incoming bytes, '<--' before a non-empty reply, none for empty replies", async () => {
  const events: [string, number, string][] = [];
  const { dispatcher } = exampleDispatcher();
  const h = startServer(dispatcher, { server: { trace: (dir, ctx, msg) => events.push([dir, ctx.seq, new TextDecoder().decode(msg)]) } });
  try {
    await h.send('{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}');
    await h.send('{"jsonrpc":"2.0","method":"bump"}');
    assert.deepEqual(events, [
      ["-->", 1, '{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}'],
      ["<--", 1, '{"jsonrpc":"2.0","id":1,"result":1}'],
      ["-->", 2, '{"jsonrpc":"2.0","method":"bump"}'],
    ]);
  } finally {
    await h.stop();
  }
});

test("a throwing trace hook is reported to onError and the client is still answered", async () => {
  const errors: unknown[] = [];
  const { dispatcher } = exampleDispatcher();
  const h = startServer(dispatcher, {
    server: {
      trace: () => {
        throw new Error("trace broke");
      },
      onError: (e) => errors.push(e),
    },
  });
  try {
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}'), '{"jsonrpc":"2.0","id":1,"result":1}');
    assert.equal(errors.length, 2);
  } finally {
    await h.stop();
  }
});

test("concurrency: a slow call does not block a later fast one", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const d = new RPCDispatcher();
  d.addMethod(async function slow() {
    await gate;
    return "slow";
  });
  d.addMethod(() => "fast", "fast");
  const h = startServer(d);
  try {
    const slow = h.send('{"jsonrpc":"2.0","method":"slow","id":1}');
    // the fast reply arrives while the slow call is still waiting on its gate
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"fast","id":2}'), '{"jsonrpc":"2.0","id":2,"result":"fast"}');
    release();
    assert.equal(await slow, '{"jsonrpc":"2.0","id":1,"result":"slow"}');
  } finally {
    await h.stop();
  }
});

test("serveForever resolves once the transport closes, after in-flight calls are answered", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const d = new RPCDispatcher().addMethod(async () => {
    await gate;
    return 1;
  }, "wait");
  const h = startServer(d);
  const reply = h.send('{"jsonrpc":"2.0","method":"wait","id":1}');
  await new Promise((r) => setImmediate(r));
  let finished = false;
  const stopped = h.stop().then(() => (finished = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(finished, false);
  release();
  await stopped;
  assert.equal(await reply, '{"jsonrpc":"2.0","id":1,"result":1}');
});

test("the spawn hook decides how each message runs (here: queued, run in order by the test)", async () => {
  const queue: (() => Promise<void>)[] = [];
  const { dispatcher } = exampleDispatcher();
  const h = startServer(dispatcher, { server: { spawn: (run) => queue.push(run) } });
  try {
    const reply = h.send('{"jsonrpc":"2.0","method":"echo","params":["q"],"id":1}');
    while (queue.length === 0) await new Promise((r) => setImmediate(r));
    await queue.shift()!();
    assert.equal(await reply, '{"jsonrpc":"2.0","id":1,"result":"q"}');
  } finally {
    await h.stop();
  }
});

test("a reply the transport cannot send is reported to onError and serving goes on", async () => {
  const errors: unknown[] = [];
  const inputs = ['{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}', '{"jsonrpc":"2.0","method":"echo","params":[2],"id":2}'];
  const sent: string[] = [];
  const transport: ServerTransport<number> = {
    async receiveMessage() {
      const m = inputs.shift();
      return m === undefined ? undefined : { context: inputs.length, message: new TextEncoder().encode(m) };
    },
    async sendReply(context, reply) {
      if (context === 1) throw new Error("peer went away");
      sent.push(new TextDecoder().decode(reply));
    },
    async close() {},
  };
  const server = new RPCServer(transport, new JSONRPCProtocol(), exampleDispatcher().dispatcher, { onError: (e) => errors.push(e) });
  await server.serveForever();
  assert.deepEqual(sent, ['{"jsonrpc":"2.0","id":2,"result":2}']);
  assert.equal(errors.length, 1);
  assert.match((errors[0] as Error).message, /peer went away/);
});

test("CallbackServerTransport: reader/writer, strings encoded, serveForever ends when the reader runs dry", async () => {
  const inputs: unknown[] = ['{"jsonrpc":"2.0","method":"add","params":{"a":"x","b":"y"},"id":0}', { jsonrpc: "2.0", method: "math.mul", params: [6, 7], id: "" }, '{"jsonrpc":"2.0","method":"bump"}'];
  const replies: string[] = [];
  const transport = new CallbackServerTransport(
    () => inputs.shift(),
    (reply) => {
      replies.push(new TextDecoder().decode(reply));
    },
  );
  const server = new RPCServer(transport, new JSONRPCProtocol(), exampleDispatcher().dispatcher);
  await server.serveForever();
  assert.deepEqual(replies, ['{"jsonrpc":"2.0","id":0,"result":"xy"}', '{"jsonrpc":"2.0","id":"","result":42}', ""]);
  assert.equal(await server.receiveOneMessage(), false);
});

test("a spawn hook that throws is reported and the message is still answered inline", async () => {
  const errors: unknown[] = [];
  const { dispatcher } = exampleDispatcher();
  const h = startServer(dispatcher, {
    server: {
      spawn: () => {
        throw new Error("no capacity");
      },
      onError: (e) => errors.push(e),
    },
  });
  try {
    assert.equal(await h.send('{"jsonrpc":"2.0","method":"echo","params":[5],"id":1}'), '{"jsonrpc":"2.0","id":1,"result":5}');
    assert.match((errors[0] as Error).message, /no capacity/);
  } finally {
    await h.stop();
  }
});

test("a broken transport (receiveMessage rejects) ends serveForever with that error after in-flight replies", async () => {
  const sent: string[] = [];
  let calls = 0;
  const transport: ServerTransport<undefined> = {
    async receiveMessage() {
      if (calls++ === 0) return { context: undefined, message: new TextEncoder().encode('{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}') };
      throw new Error("socket exploded");
    },
    async sendReply(_c, reply) {
      sent.push(new TextDecoder().decode(reply));
    },
    async close() {},
  };
  const server = new RPCServer(transport, new JSONRPCProtocol(), exampleDispatcher().dispatcher);
  await assert.rejects(server.serveForever(), /socket exploded/);
  assert.deepEqual(sent, ['{"jsonrpc":"2.0","id":1,"result":1}']);
});
