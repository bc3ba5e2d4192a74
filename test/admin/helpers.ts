// Shared by the admin tests: a Greeter server whose methods fail on request (SayHello with a
// name starting "missing" -> NOT_FOUND, SayHelloStream with no name -> INVALID_ARGUMENT), our
// own client to call it, and a bounded fetch of the admin server.
import { Channel, Code, createClient, HealthService, RpcError, Server, type ServerOptions, type ServiceImpl } from "../../src/index.js";
import { Greeter } from "../../src/gen/helloworld/helloworld_pb.js";
import { startAdmin, type AdminOptions, type AdminServer } from "../../src/admin/index.js";

export const SAY_HELLO = "/helloworld.Greeter/SayHello";
export const SAY_HELLO_STREAM = "/helloworld.Greeter/SayHelloStream";

const greeter: ServiceImpl<typeof Greeter> = {
  sayHello(request) {
    if (request.name.startsWith("missing")) throw new RpcError(Code.NOT_FOUND, `no one called ${request.name}`);
    return { message: `Hello, ${request.name}!` };
  },
  async *sayHelloStream(request) {
    if (request.name === "") throw new RpcError(Code.INVALID_ARGUMENT, "name is required");
    yield { message: `Hello, ${request.name}!` };
  },
};

export interface Fixture {
  server: Server;
  health: HealthService;
  port: number;
  channel: Channel;
  client: ReturnType<typeof createClient<typeof Greeter>>;
  close(): Promise<void>;
}

/** A started Greeter server (with grpc.health.v1, also given to the admin option) on 127.0.0.1 and a channel to it. */
export async function greeterServer(options: ServerOptions = {}): Promise<Fixture> {
  // The health service exists before the server, so that the admin option can report it.
  const health = new HealthService([[Greeter, []]]);
  const server = new Server(options.admin ? { ...options, admin: { health, ...options.admin } } : options);
  server.addService(Greeter, greeter);
  health.register(server);
  const port = await server.start("127.0.0.1", 0);
  const channel = new Channel(`127.0.0.1:${port}`);
  const client = createClient(Greeter, channel);
  return {
    server,
    health,
    port,
    channel,
    client,
    async close() {
      channel.close();
      await server.stop();
    },
  };
}

/** A Greeter server with an admin server started by startAdmin(). */
export async function withAdmin(options: Partial<AdminOptions> = {}): Promise<Fixture & { admin: AdminServer }> {
  const f = await greeterServer();
  const admin = await startAdmin(f.server, { port: 0, health: f.health, ...options });
  return {
    ...f,
    admin,
    async close() {
      await admin.close();
      await f.close();
    },
  };
}

/** Makes `ok` good SayHello calls, `notFound` NOT_FOUND ones and `invalid` INVALID_ARGUMENT SayHelloStream calls. */
export async function traffic(client: Fixture["client"], counts: { ok?: number; notFound?: number; invalid?: number }): Promise<void> {
  for (let i = 0; i < (counts.ok ?? 0); i++) await client.sayHello({ name: `ada${i}` });
  for (let i = 0; i < (counts.notFound ?? 0); i++) await expectCode(client.sayHello({ name: `missing${i}` }), Code.NOT_FOUND);
  for (let i = 0; i < (counts.invalid ?? 0); i++) {
    await expectCode(
      (async () => {
        for await (const _ of client.sayHelloStream({ name: "" })) {
          // The call fails before any message.
        }
      })(),
      Code.INVALID_ARGUMENT,
    );
  }
}

async function expectCode(p: Promise<unknown>, code: Code): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcError && err.code === code) return;
    throw err;
  }
  throw new Error(`expected ${Code[code]}, the call succeeded`);
}

/** GET (or another method) on the admin server, bounded in time. */
export async function get(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}
