// A raw rpyc peer for the protocol-level tests (bad input, connection, lifetime): frames and
// brine written and read by hand with our own frame and brine modules, so a test controls every
// byte it sends and sees every message the server sends back.
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { load } from "../../src/rpyc/brine.js";
import { encodeFrame, encodeMessageFrame, FrameDecoder } from "../../src/rpyc/frame.js";
import type { PyValue } from "../../src/rpyc/values.js";
import type { Connection } from "switchboard/rpyc";

// rpyc 5.3's numbers (rpyc/core/consts.py), written out rather than imported from
// src/rpyc/consts.ts, so that these tests check those too.
export const MSG_REQUEST = 1;
export const MSG_REPLY = 2;
export const MSG_EXCEPTION = 3;

/** Box labels, by the short names the tests build boxes with. */
export const VALUE = 1;
export const TUPLE = 2;
export const LOCAL = 3;
export const REMOTE = 4;

/** Handler ids (HANDLE_*). */
export const H = {
  PING: 1,
  CLOSE: 2,
  GETROOT: 3,
  GETATTR: 4,
  DELATTR: 5,
  SETATTR: 6,
  CALL: 7,
  CALLATTR: 8,
  REPR: 9,
  STR: 10,
  CMP: 11,
  HASH: 12,
  DIR: 13,
  PICKLE: 14,
  DEL: 15,
  INSPECT: 16,
  BUFFITER: 17,
  OLDSLICING: 18,
  CTXEXIT: 19,
  INSTANCECHECK: 20,
} as const;

/** A decoded message: (type, seq, body). */
export type Msg = [number, number | bigint, PyValue];
export type IdPack = [string, number, number];

/** JSON.stringify replacer for messages: bigints and bytes made printable. */
export function replacer(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `bytes(${v.length})` : v;
}

/** The exception record's (module, name) and args. */
export function excOf(record: PyValue): { type: string; args: PyValue[] } {
  const [[module, name], args] = record as [[string, string], PyValue[]];
  return { type: `${module}.${name}`, args };
}

/** The server's connection to the client whose socket has `localPort`, if it has one. */
export function findServerConn(server: { readonly connections: Iterable<Connection> }, localPort: number | undefined): Connection | undefined {
  return [...server.connections].find((k) => k.config.endpoints?.[1].endsWith(`:${localPort}`));
}

/** The server's connection to that client, which must exist. */
export function serverConnOf(server: { readonly connections: Iterable<Connection> }, localPort: number | undefined): Connection {
  const conn = findServerConn(server, localPort);
  assert.ok(conn, "the server has a connection for this client");
  return conn;
}

/** A raw rpyc peer: frames and brine written and read by hand. */
export class RawClient {
  private readonly decoder = new FrameDecoder();
  private readonly inbox: Msg[] = [];
  private wake: (() => void) | undefined;
  seq = 0;
  ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const p of this.decoder.push(chunk)) this.inbox.push(load(p) as Msg);
      this.wake?.();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.ended = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static async open(port: number): Promise<RawClient> {
    const s = net.connect(port, "127.0.0.1");
    await once(s, "connect");
    return new RawClient(s);
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** One frame around hand-made payload bytes. */
  frame(payload: Uint8Array): void {
    this.write(encodeFrame(payload));
  }

  send(type: number, seq: number | bigint, payload: PyValue): void {
    this.write(encodeMessageFrame(type, seq, payload));
  }

  /** Sends a request with the next seq (`handler` is any value, so a test can send a bad one); returns the seq. */
  request(handler: PyValue, argsBox: PyValue): number {
    const seq = this.seq++;
    this.send(MSG_REQUEST, seq, [handler, argsBox]);
    return seq;
  }

  /** Messages received and not taken yet. */
  get pending(): readonly Msg[] {
    return this.inbox;
  }

  /** The first message matching `pred` (bounded wait: a missing message fails the test). */
  async take(pred: (m: Msg) => boolean, what: string, ms = 10_000): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (this.ended) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The reply or exception answering `seq`. */
  answer(seq: number | bigint): Promise<Msg> {
    return this.take((m) => (m[0] === MSG_REPLY || m[0] === MSG_EXCEPTION) && m[1] === seq, `the answer to ${String(seq)}`);
  }

  call(handler: PyValue, argsBox: PyValue): Promise<Msg> {
    return this.answer(this.request(handler, argsBox));
  }

  /** The reply box of a request that must succeed. */
  async ok(handler: number, argsBox: PyValue): Promise<[number, PyValue]> {
    const m = await this.call(handler, argsBox);
    assert.equal(m[0], MSG_REPLY, `expected a reply, got ${JSON.stringify(m, replacer)}`);
    return m[2] as [number, PyValue];
  }

  /** The exception record of a request that must fail. */
  async fails(handler: PyValue, argsBox: PyValue): Promise<PyValue> {
    const m = await this.call(handler, argsBox);
    assert.equal(m[0], MSG_EXCEPTION, `expected an exception, got ${JSON.stringify(m, replacer)}`);
    return m[2];
  }

  /** The exception (module.name) a request must fail with. */
  async failsWith(handler: PyValue, argsBox: PyValue): Promise<string> {
    return excOf(await this.fails(handler, argsBox)).type;
  }

  async root(): Promise<IdPack> {
    const [label, id] = await this.ok(H.GETROOT, [VALUE, []]);
    assert.equal(label, REMOTE);
    return id as IdPack;
  }

  /** The connection still works: GETROOT and PING answered. */
  async usable(): Promise<void> {
    await this.root();
    assert.deepEqual(await this.ok(H.PING, [VALUE, ["still here"]]), [VALUE, "still here"]);
  }

  /** The server must close this connection (bounded wait). */
  async closedByServer(what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the server kept the connection open after ${what}`)), 10_000);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The HANDLE_DEL requests the server sent us, as (id_pack label, id_pack, count); taken from the inbox. */
  dels(): Array<[number, PyValue, PyValue]> {
    const out: Array<[number, PyValue, PyValue]> = [];
    for (let i = this.inbox.length - 1; i >= 0; i--) {
      const [type, , body] = this.inbox[i]!;
      if (type !== MSG_REQUEST || (body as PyValue[])[0] !== H.DEL) continue;
      this.inbox.splice(i, 1);
      const [label, boxes] = (body as [number, [number, PyValue]])[1];
      assert.equal(label, TUPLE);
      const [[refLabel, id], [countLabel, count]] = boxes as unknown as [[number, PyValue], [number, PyValue]];
      assert.equal(countLabel, VALUE);
      out.unshift([refLabel, id, count]);
    }
    return out;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
