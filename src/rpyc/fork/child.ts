// The process a ForkingServer starts for one connection: imports the service module, tells the
// parent it is ready, receives the connection (a socket handle, or a relay pipe on fd 4 when the
// authenticator replaced the stream, e.g. with TLS), serves it, and exits when it ends. It also
// exits when the parent goes away (the IPC channel closes), so no child outlives its server.
import net from "node:net";
import { resolveConfig, type ProtocolConfig } from "../config.js";
import { Connection } from "../connection.js";
import type { ForkHello, FromForkChild } from "./protocol.js";

/** The fd of the relay pipe (stdio index 4), used when the parent relays the bytes. */
const RELAY_FD = 4;

function send(msg: FromForkChild): void {
  process.send?.(msg);
}

/** import() with a TypeScript fallback through tsx, for a compiled server serving a .ts module. */
async function load(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: unknown })?.code !== "ERR_UNKNOWN_FILE_EXTENSION") throw err;
    const { register } = (await import("tsx/esm/api" as string)) as { register: () => void };
    register();
    const again = new URL(url);
    again.searchParams.set("switchboard-ts", "1");
    return (await import(again.href)) as Record<string, unknown>;
  }
}

async function main(): Promise<void> {
  if (!process.send) throw new Error("the ForkingServer child runs only as a forked process");
  process.on("disconnect", () => process.exit(0));
  const { module, exportName } = JSON.parse(process.env["SWITCHBOARD_RPYC_FORK"] ?? "{}") as { module?: string; exportName?: string };
  let service: object;
  try {
    if (!module || !exportName) throw new Error("missing SWITCHBOARD_RPYC_FORK");
    const exported = (await load(module))[exportName];
    if (typeof exported === "function") service = new (exported as new () => object)();
    else if (typeof exported === "object" && exported !== null) service = exported;
    else throw new Error(`${module} has no export ${JSON.stringify(exportName)} (a Service class or instance)`);
  } catch (err) {
    send({ t: "load-error", message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
  process.once("message", (hello: ForkHello, handle?: unknown) => {
    const stream = hello.relay ? new net.Socket({ fd: RELAY_FD, readable: true, writable: true }) : (handle as net.Socket | undefined);
    if (!stream) process.exit(1);
    stream.on("error", () => {}); // reported by the connection, or the peer is simply gone
    if (hello.leftover && hello.leftover.length > 0) stream.unshift(Buffer.from(hello.leftover));
    const config: ProtocolConfig = resolveConfig(hello.config, { credentials: hello.credentials });
    const conn = new Connection(stream, service, { config });
    void conn
      .start()
      .then(() => conn.closed)
      .finally(() => process.exit(0));
  });
  send({ t: "ready" });
}

void main().catch((err: unknown) => {
  send({ t: "load-error", message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
