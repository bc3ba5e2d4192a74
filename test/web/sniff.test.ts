// Preface sniffing on a cleartext port: a connection reset while its first bytes are still being
// read (nobody else listens on the socket yet) is closed quietly, never an uncaught 'error'.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PassThrough } from "node:stream";
import { sniffProtocol } from "../../src/web/sniff.js";

describe("sniffProtocol", () => {
  for (const [name, first] of [
    ["before any byte", ""],
    ["inside the HTTP/2 preface", "PRI * HT"],
  ] as const) {
    it(`a socket error ${name} closes the connection without an uncaught 'error'`, async () => {
      const socket = new PassThrough();
      let decided: string | undefined;
      sniffProtocol(socket, 60_000, (kind) => (decided = kind));
      if (first !== "") socket.write(first);
      // What net.Socket does on ECONNRESET: 'error' (with no listener: an uncaught exception), then 'close'.
      // (events.once would listen for 'error' itself.)
      const closed = new Promise<void>((resolve) => socket.once("close", resolve));
      socket.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
      await closed;
      assert.equal(decided, undefined);
      assert.equal(socket.destroyed, true);
    });
  }
});
