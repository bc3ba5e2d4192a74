// Shared by the channelz tests: an application server (a Greeter that fails on request),
// tracked with enableChannelz, and a separate admin server serving grpc.channelz.v1.Channelz,
// so the Channelz calls themselves do not show up in the application server's counts.
import { Code, createClient, RpcError, type Client, type Server } from "../../src/index.js";
import { Channelz, ChannelzService, enableChannelz } from "../../src/services/channelz/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import type { Scope } from "./helpers.js";

/** sayHello answers "Hello, NAME!", or fails INVALID_ARGUMENT for the name "fail". */
export function addFailingGreeter(server: Server): void {
  server.addService(Greeter, {
    sayHello: (request) => {
      if (request.name === "fail") throw new RpcError(Code.INVALID_ARGUMENT, "asked to fail");
      return { message: `Hello, ${request.name}!` };
    },
    async *sayHelloStream(request) {
      yield { message: `Hello, ${request.name}!` };
    },
  });
}

/** The application server (tracked, with its channelz id) and an admin server with the Channelz service. */
export async function channelzServers(scope: Scope) {
  let serverId = 0;
  const app = await scope.server((s) => {
    addFailingGreeter(s);
    serverId = enableChannelz(s);
  });
  const admin = await scope.server((s) => void new ChannelzService().register(s));
  const channelz = createClient(Channelz, scope.channel(admin.target));
  return { app, admin, serverId, channelz };
}

/** `n` OK calls and `failed` failed calls of sayHello on `channel`'s Greeter, one after the other. */
export async function greet(greeter: Client<typeof Greeter>, ok: number, failed: number): Promise<void> {
  for (let i = 0; i < ok; i++) await greeter.sayHello({ name: `n${i}` });
  for (let i = 0; i < failed; i++) {
    await greeter.sayHello({ name: "fail" }).then(
      () => {
        throw new Error("sayHello(fail) succeeded");
      },
      (err: unknown) => {
        if (!(err instanceof RpcError) || err.code !== Code.INVALID_ARGUMENT) throw err;
      },
    );
  }
}

/** Asks again (bounded) until `check` passes: the server counts a call as its stream closes, which may trail the client's view by a tick. */
export async function eventually<V>(ask: () => Promise<V>, check: (v: V) => boolean, what: string, ms = 5000): Promise<V> {
  const started = Date.now();
  for (;;) {
    const v = await ask();
    if (check(v)) return v;
    if (Date.now() - started > ms) throw new Error(`${what} not reached within ${ms} ms: ${JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? String(x) : x))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits (bounded) until server `serverId` has counted `ended` finished calls. */
export async function callsEnded(channelz: Client<typeof Channelz>, serverId: number, ended: number): Promise<void> {
  await eventually(
    () => channelz.getServer({ serverId: BigInt(serverId) }),
    (r) => (r.server?.data?.callsSucceeded ?? 0n) + (r.server?.data?.callsFailed ?? 0n) === BigInt(ended),
    `${ended} calls ended on server ${serverId}`,
  );
}
