// HTTP/1.1 on the gRPC port. Pipelining: requests sent back to back on one connection are
// answered in order and run one at a time, so one connection cannot run more calls at once than
// HTTP/2's maxConcurrentStreams would let it (nor queue their answers in memory). Slow headers:
// a request whose headers are not complete within handshakeTimeoutMs is answered 408 and its
// connection closed (node:http's own headersTimeout never runs on a server fed sockets by hand).
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import { startWebServer, type WebServer } from "./fixture.js";

let ws: WebServer;
let running = 0;
let peak = 0;
before(async () => {
  ws = await startWebServer({
    interceptors: [
      async (_ctx, next) => {
        peak = Math.max(peak, ++running);
        try {
          await next();
        } finally {
          running--;
        }
      },
    ],
  });
});
after(async () => {
  await ws.stop();
});

const SAY = "/webtest.v1.WebTestService/Say";

function say(name: string, delayMs: number): string {
  const body = JSON.stringify({ name, delayMs });
  return `POST ${SAY} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
}

/** Reads a connection until `n` complete responses arrived; returns their bodies in order. */
function responses(socket: net.Socket, n: number, onEach?: (i: number) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = "";
    let seen = 0;
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`connection closed after ${seen} responses: ${text}`)));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      const bodies: string[] = [];
      const re = /HTTP\/1\.1 200 OK\r\n[\s\S]*?content-length: (\d+)\r\n[\s\S]*?\r\n\r\n/gi;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        const start = m.index + m[0].length;
        const end = start + Number(m[1]);
        if (end > text.length) break;
        bodies.push(text.slice(start, end));
        re.lastIndex = end;
      }
      for (; seen < bodies.length; seen++) onEach?.(seen);
      if (bodies.length >= n) resolve(bodies);
    });
  });
}

describe("HTTP/1.1 pipelining", () => {
  it("pipelined requests are answered in order, one call at a time", async () => {
    peak = 0;
    const socket = net.connect(ws.port, "127.0.0.1");
    try {
      const names = Array.from({ length: 20 }, (_, i) => `p${i}`);
      const got = responses(socket, names.length);
      socket.write(names.map((name) => say(name, 5)).join(""));
      const bodies = await got;
      assert.deepEqual(
        bodies.map((b) => (JSON.parse(b) as { message: string }).message),
        names.map((name) => `hello ${name}`),
      );
      assert.equal(peak, 1, "calls of one HTTP/1.1 connection ran at once");
    } finally {
      socket.destroy();
    }
  });

  it("a pipelined request whose body comes after it had to wait is still read and answered", async () => {
    const socket = net.connect(ws.port, "127.0.0.1");
    try {
      const second = say("late", 0);
      const cut = second.length - 5;
      const got = responses(socket, 2, (i) => {
        if (i === 0) socket.write(second.slice(cut));
      });
      socket.write(say("first", 20) + second.slice(0, cut));
      const bodies = await got;
      assert.deepEqual(
        bodies.map((b) => (JSON.parse(b) as { message: string }).message),
        ["hello first", "hello late"],
      );
    } finally {
      socket.destroy();
    }
  });
});

describe("HTTP/1.1 parse errors", () => {
  it("garbage pipelined behind a streaming response ends the connection instead of writing a 400 into that response", { timeout: 10_000 }, async () => {
    const message = Buffer.from(JSON.stringify({ name: "s", count: 3, delayMs: 50 }));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const socket = net.connect(ws.port, "127.0.0.1");
    let text = "";
    let sent = false;
    const closed = new Promise<void>((resolve, reject) => {
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      // The response is under way: now a request node:http cannot parse.
      if (!sent && text.includes("\r\n\r\n")) {
        sent = true;
        socket.write("\x01\x02 garbage\r\n\r\n");
      }
    });
    socket.write(`POST /webtest.v1.WebTestService/SayMany HTTP/1.1\r\nhost: a\r\ncontent-type: application/grpc-web+json\r\ncontent-length: ${frame.length}\r\n\r\n`);
    socket.write(frame);
    await closed;
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.equal(text.indexOf("HTTP/1.1", 1), -1, `a second status line inside the streaming response: ${JSON.stringify(text)}`);
  });
});

describe("HTTP/1.1 request headers", () => {
  let slow: WebServer;
  before(async () => {
    slow = await startWebServer({ handshakeTimeoutMs: 200 });
  });
  after(async () => {
    await slow.stop();
  });

  it("headers still incomplete after handshakeTimeoutMs: 408 and the connection is closed", { timeout: 10_000 }, async () => {
    const socket = net.connect(slow.port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    const closed = new Promise<void>((resolve, reject) => {
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    // A request line and one header, then nothing more (slowloris).
    socket.write(`POST ${SAY} HTTP/1.1\r\nhost: a\r\n`);
    await closed;
    assert.match(text, /^HTTP\/1\.1 408 /);
  });
});

