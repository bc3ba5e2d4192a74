// The registry (rpyc/utils/registry.py): our UDP and TCP clients against our UDP and TCP
// servers on loopback. Requests that rpyc ignores get no reply and leave the server serving.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import net from "node:net";
import { after, describe, test } from "node:test";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import { dump, load } from "../../src/rpyc/brine.js";
import {
  AutoRegistrar,
  discover,
  TCPRegistryClient,
  TCPRegistryServer,
  UDPRegistryClient,
  UDPRegistryServer,
  type RegistryClient,
  type RegistryServerOptions,
} from "../../src/rpyc/registry.js";
import type { PyValue } from "../../src/rpyc/values.js";

type Kind = "UDP" | "TCP";
type Server = UDPRegistryServer | TCPRegistryServer;

const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function startRegistry(kind: Kind, options: RegistryServerOptions = {}): Promise<Server> {
  const server = kind === "UDP" ? new UDPRegistryServer({ host: "127.0.0.1", port: 0, ...options }) : new TCPRegistryServer({ host: "127.0.0.1", port: 0, ...options });
  servers.push(server);
  await server.start();
  return server;
}

function clientFor(kind: Kind, port: number, timeout = 2): RegistryClient {
  return kind === "UDP" ? new UDPRegistryClient({ ip: "127.0.0.1", port, timeout }) : new TCPRegistryClient({ ip: "127.0.0.1", port, timeout });
}

/** Polls `probe` until it returns true, failing after `limitMs` (a bound, not a timing assertion). */
async function eventually(probe: () => Promise<boolean>, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > end) assert.fail("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends raw datagrams from one socket, in order, and returns the first reply that arrives. */
function udpFirstReply(port: number, datagrams: Uint8Array[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no reply"));
    }, 5000);
    socket.on("message", (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.bind(0, "127.0.0.1", () => {
      for (const d of datagrams) socket.send(d, port, "127.0.0.1");
    });
  });
}

/** One TCP connection: sends `chunks` (one write each, a tick apart), returns every byte received until the server closes. */
function tcpRaw(port: number, chunks: Uint8Array[], endAfter = false): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const got: Buffer[] = [];
    // A reset after the registry hung up counts as the end of the conversation.
    socket.on("error", () => socket.destroy());
    socket.on("data", (c) => got.push(c));
    socket.on("close", () => resolve(Buffer.concat(got)));
    socket.on("connect", async () => {
      for (const c of chunks) {
        socket.write(c);
        await new Promise((r) => setTimeout(r, 10));
      }
      if (endAfter) socket.end();
    });
  });
}

const request = (...parts: PyValue[]): Buffer => dump(parts);
const query = (name: string): Buffer => request("RPYC", "QUERY", [name]);

for (const kind of ["UDP", "TCP"] as const) {
  describe(`${kind} registry`, () => {
    test("start() with port 0 binds a free port, read back from .port", async () => {
      const server = await startRegistry(kind);
      assert.ok(server.port > 0);
      await assert.rejects(server.start(), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.ALREADY_STARTED);
    });

    test("REGISTER answers OK and QUERY returns (sender ip, port)", async () => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      assert.equal(await client.register(["calc"], 18861), true);
      assert.deepEqual(await client.discover("calc"), [["127.0.0.1", 18861]]);
      assert.deepEqual(await client.discover("nothing"), []);
    });

    test("names are upper-cased on store and on query", async () => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      assert.equal(await client.register(["MyService", "alias"], 1234), true);
      assert.deepEqual([...server.services().keys()], ["MYSERVICE", "ALIAS"]);
      assert.deepEqual(await client.discover("myservice"), [["127.0.0.1", 1234]]);
      assert.deepEqual(await client.discover("ALIAS"), [["127.0.0.1", 1234]]);
    });

    test("entries are keyed by ip and port: the same port twice is one entry, another port is another", async () => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      await client.register(["svc"], 1000);
      await client.register(["svc"], 1000);
      await client.register(["svc"], 2000);
      assert.deepEqual(await client.discover("svc"), [
        ["127.0.0.1", 1000],
        ["127.0.0.1", 2000],
      ]);
    });

    test("the sender's address is part of the key: UNREGISTER from one address leaves the other's entry", async (t) => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      // 127.0.0.2 is loopback on Linux; elsewhere it may not be bindable.
      if (!(await client.register(["svc"], 3000, { interface: "127.0.0.2" }))) {
        t.skip("127.0.0.2 is not bindable here");
        return;
      }
      assert.equal(await client.register(["svc"], 3000), true);
      assert.deepEqual(await client.discover("svc"), [
        ["127.0.0.2", 3000],
        ["127.0.0.1", 3000],
      ]);
      await client.unregister(3000);
      await eventually(async () => (await client.discover("svc")).length === 1);
      assert.deepEqual(await client.discover("svc"), [["127.0.0.2", 3000]]);
    });

    test("re-registering refreshes the entry: QUERY lists the oldest first", async () => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      await client.register(["svc"], 1);
      await client.register(["svc"], 2);
      const before = server.services().get("SVC")!;
      await client.register(["svc"], 1);
      assert.deepEqual(await client.discover("svc"), [
        ["127.0.0.1", 2],
        ["127.0.0.1", 1],
      ]);
      const refreshed = server.services().get("SVC")!.find((e) => e.port === 1)!;
      assert.ok(refreshed.registeredAt >= before.find((e) => e.port === 1)!.registeredAt);
    });

    test("QUERY prunes entries older than pruningTimeout, and the name goes with its last entry", async () => {
      const server = await startRegistry(kind, { pruningTimeout: 0.2 });
      const client = clientFor(kind, server.port);
      assert.equal(await client.register(["ephemeral"], 4000), true);
      assert.deepEqual(server.services().get("EPHEMERAL")?.map((e) => e.port), [4000]);
      await eventually(async () => (await client.discover("ephemeral")).length === 0);
      assert.equal(server.services().has("EPHEMERAL"), false);
    });

    test("UNREGISTER removes the (ip, port) from every name and leaves other ports", async () => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      await client.register(["a", "b"], 5000);
      await client.register(["a"], 5001);
      await client.unregister(5000);
      // UDP's UNREGISTER is not acknowledged: wait until it has landed.
      await eventually(async () => (await client.discover("b")).length === 0);
      assert.deepEqual(await client.discover("a"), [["127.0.0.1", 5001]]);
      assert.deepEqual([...server.services().keys()], ["A"]);
    });

    test("LIST answers None when listing is off (the default)", async () => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      await client.register(["x"], 1);
      assert.equal(await client.list(), null);
      assert.equal(await client.list("127.0.0.1"), null);
    });

    test("LIST with allowListing returns the names, filtered by host when asked", async () => {
      const server = await startRegistry(kind, { allowListing: true });
      const client = clientFor(kind, server.port);
      await client.register(["one", "two"], 1);
      assert.deepEqual(await client.list(), ["ONE", "TWO"]);
      assert.deepEqual(await client.list("127.0.0.1"), ["ONE", "TWO"]);
      assert.deepEqual(await client.list("10.255.255.1"), []);
    });

    test("discover() throws RPYC_DISCOVERY when no server has the name", async () => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      await client.register(["present"], 7);
      assert.deepEqual(await discover("PRESENT", client), [["127.0.0.1", 7]]);
      await assert.rejects(discover("absent", client), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.RPYC_DISCOVERY && /no servers of "absent" found/.test(e.message));
    });

    test("with no registry listening, register() is false and discover() is [] (no throw)", async () => {
      // Bind then close to get a port nobody listens on.
      const server = await startRegistry(kind);
      const port = server.port;
      await server.close();
      const client = clientFor(kind, port, 0.3);
      assert.equal(await client.register(["svc"], 1), false);
      assert.deepEqual(await client.discover("svc"), []);
      assert.deepEqual(await client.list(), []);
      await client.unregister(1);
    });

    test("close() is idempotent and sets closed", async () => {
      const server = await startRegistry(kind);
      assert.equal(server.closed, false);
      await Promise.all([server.close(), server.close()]);
      assert.equal(server.closed, true);
      await assert.rejects(server.start(), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.STOPPED);
    });

    test("start() on a port in use rejects with BIND_FAILED", async () => {
      const first = await startRegistry(kind);
      const second = kind === "UDP" ? new UDPRegistryServer({ host: "127.0.0.1", port: first.port }) : new TCPRegistryServer({ host: "127.0.0.1", port: first.port });
      await assert.rejects(second.start(), (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.BIND_FAILED);
      assert.equal(second.closed, true);
    });

    test("close() while start() is binding rejects start() with STOPPED", async () => {
      const server = kind === "UDP" ? new UDPRegistryServer({ host: "127.0.0.1", port: 0 }) : new TCPRegistryServer({ host: "127.0.0.1", port: 0 });
      const starting = server.start();
      await server.close();
      await assert.rejects(starting, (e: unknown) => e instanceof SwitchboardError && e.code === ErrorCode.STOPPED);
    });

    test("AutoRegistrar registers at once and sends UNREGISTER on stop()", async () => {
      const server = await startRegistry(kind);
      const client = clientFor(kind, server.port);
      const auto = new AutoRegistrar(client, ["auto"], 6000, { interface: "127.0.0.1" });
      assert.equal(await auto.start(), true);
      assert.deepEqual(await client.discover("auto"), [["127.0.0.1", 6000]]);
      await Promise.all([auto.stop(), auto.stop()]);
      assert.equal(auto.active, false);
      await eventually(async () => (await client.discover("auto")).length === 0);
    });
  });
}

// Requests rpyc ignores: each is followed by a good QUERY on the same server, and the first
// (UDP) or only (TCP) reply seen is the QUERY's. The bad ones name "other", registered on
// another port, so that a bad request answered by mistake cannot pass for the good one.
const ignored: Array<[string, Uint8Array]> = [
  ["bytes that are not brine", Buffer.from([0xff, 0x00, 0x01])],
  ["an empty request", Buffer.alloc(0)],
  ["a value that is not a 3-tuple", dump(["RPYC", "QUERY"])],
  ["a bad magic", request("RPYX", "QUERY", ["other"])],
  ["magic as bytes, not str", request(Buffer.from("RPYC"), "QUERY", ["other"])],
  ["an unknown command", request("RPYC", "DELETE", ["other"])],
  ["a command that is not a str", request("RPYC", 7, ["other"])],
  ["args that are not a tuple", request("RPYC", "QUERY", "other")],
  ["QUERY with two args", request("RPYC", "QUERY", ["other", "x"])],
  ["QUERY of a non-str name", request("RPYC", "QUERY", [12])],
  ["REGISTER with aliases that are not str", request("RPYC", "REGISTER", [[1, 2], 80])],
  ["REGISTER with a port that is not an int", request("RPYC", "REGISTER", [["other"], "80"])],
  ["UNREGISTER with no args", request("RPYC", "UNREGISTER", [])],
];

describe("requests rpyc ignores get no reply and the registry keeps serving", () => {
  for (const [what, bad] of ignored) {
    test(`UDP: ${what}`, async () => {
      const server = await startRegistry("UDP");
      const client = new UDPRegistryClient({ ip: "127.0.0.1", port: server.port });
      await client.register(["svc"], 80);
      await client.register(["other"], 81);
      const reply = await udpFirstReply(server.port, [bad, query("svc")]);
      assert.deepEqual(load(reply), [["127.0.0.1", 80]]);
      assert.deepEqual([...server.services().keys()], ["SVC", "OTHER"]);
    });

    test(`TCP: ${what}`, async () => {
      const server = await startRegistry("TCP");
      await new TCPRegistryClient({ ip: "127.0.0.1", port: server.port }).register(["svc"], 80);
      // The registry closes the connection without a byte: the client half-closes so that
      // an incomplete request is judged at once rather than after the server's timeout.
      assert.equal((await tcpRaw(server.port, [bad], true)).length, 0);
      assert.deepEqual(load(await tcpRaw(server.port, [query("svc")])), [["127.0.0.1", 80]]);
    });
  }

  test("LIST with a malformed filter is ignored when listing is on", async () => {
    const server = await startRegistry("UDP", { allowListing: true });
    const reply = await udpFirstReply(server.port, [request("RPYC", "LIST", [null]), request("RPYC", "LIST", [[null]])]);
    assert.deepEqual(load(reply), []);
  });
});

describe("TCP registry connections", () => {
  test("a request split across TCP segments is still answered", async () => {
    const server = await startRegistry("TCP");
    await new TCPRegistryClient({ ip: "127.0.0.1", port: server.port }).register(["svc"], 80);
    const q = query("svc");
    assert.deepEqual(load(await tcpRaw(server.port, [q.subarray(0, 4), q.subarray(4)])), [["127.0.0.1", 80]]);
  });

  test("a client that sends nothing is disconnected after the timeout", async () => {
    const server = new TCPRegistryServer({ host: "127.0.0.1", port: 0, timeout: 0.2 });
    servers.push(server);
    await server.start();
    assert.equal((await tcpRaw(server.port, [])).length, 0);
  });

  test("commands are case-insensitive, as rpyc's cmd_ lookup", async () => {
    const server = await startRegistry("TCP");
    assert.equal(load(await tcpRaw(server.port, [request("RPYC", "register", [["svc"], 81])])), "OK");
    assert.deepEqual(load(await tcpRaw(server.port, [request("RPYC", "Query", ["svc"])])), [["127.0.0.1", 81]]);
  });
});

describe("AutoRegistrar timing", () => {
  // A registrar that counts calls and answers as told, with no sockets.
  function fakeRegistrar(answer: boolean): RegistryClient & { registers: number; unregisters: number } {
    return {
      reregisterInterval: 60,
      registers: 0,
      unregisters: 0,
      async discover() {
        return [];
      },
      async list() {
        return null;
      },
      async register() {
        this.registers++;
        return answer;
      },
      async unregister() {
        this.unregisters++;
      },
    };
  }

  test("re-registers every reregisterInterval after a success", async () => {
    const registrar = fakeRegistrar(true);
    const auto = new AutoRegistrar(registrar, ["svc"], 1, { reregisterInterval: 0.01 });
    assert.equal(await auto.start(), true);
    await eventually(async () => registrar.registers >= 3);
    await auto.stop();
    assert.equal(registrar.unregisters, 1);
  });

  test("retries after retryInterval when a registration fails", async () => {
    const registrar = fakeRegistrar(false);
    const auto = new AutoRegistrar(registrar, ["svc"], 1, { retryInterval: 0.01 });
    assert.equal(await auto.start(), false);
    await eventually(async () => registrar.registers >= 3);
    await auto.stop();
    assert.equal(registrar.unregisters, 1);
  });

  test("a registrar that throws is logged and retried, never an unhandled rejection", async () => {
    const errors: string[] = [];
    let calls = 0;
    const registrar: RegistryClient = {
      reregisterInterval: 60,
      discover: async () => [],
      list: async () => null,
      register: async () => {
        calls++;
        throw new Error("boom");
      },
      unregister: async () => {
        throw new Error("gone");
      },
    };
    const auto = new AutoRegistrar(registrar, ["svc"], 1, { retryInterval: 0.01, logger: { error: (m) => errors.push(m) } });
    assert.equal(await auto.start(), false);
    await eventually(async () => calls >= 2);
    await auto.stop();
    assert.ok(errors.some((m) => m.includes("boom")));
    assert.ok(errors.some((m) => m.includes("gone")));
  });

  test("stop() before start() sends nothing", async () => {
    const registrar = fakeRegistrar(true);
    const auto = new AutoRegistrar(registrar, ["svc"], 1);
    await auto.stop();
    assert.equal(registrar.registers + registrar.unregisters, 0);
    assert.equal(await auto.start(), false);
  });
});
