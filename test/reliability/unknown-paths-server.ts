// The server of row 31 (requests to ever new unknown method paths), run as a CHILD process so
// the memory it reports is its own, not the attacker's:
//
//   node --expose-gc --import tsx test/reliability/unknown-paths-server.ts
//
// Serves rel.Paths/Echo (a registered method) and two generic handlers, the shapes that
// answer paths nobody registered: a grpcio method_handlers_generic_handler for rel.Known
// (declines every other path), and a catch-all for rel.Dyn that answers every path with one
// shared handler which itself aborts UNIMPLEMENTED for names it does not serve (a dynamic
// dispatcher or proxy). Prints `listening on 127.0.0.1:<port>`, then answers one JSON line per
// stdin command (`<id> <command>`):
//   stats -> PathServerStats
//   gc    -> PathServerStats after two full GCs
// It exits when stdin closes.
import { Code, methodHandlersGenericHandler, Server, unaryUnaryRpcMethodHandler, type ServerCallContext } from "../../src/index.js";
import type { Router } from "../../src/service/router.js";
import { answerCommands, fullGc, listen } from "./child-commands.js";

/** What `stats` and `gc` answer. Sizes in bytes. */
export interface PathServerStats {
  rss: number;
  heapUsed: number;
  /** Definitions the router holds for paths generic handlers answered (test introspection). */
  routerCache: number;
  /** Calls that reached the rel.Dyn catch-all's handler. */
  dynamicCalls: number;
  activeCalls: number;
}

let dynamicCalls = 0;
const dynamic = unaryUnaryRpcMethodHandler((_req: Uint8Array, ctx: ServerCallContext): Uint8Array => {
  dynamicCalls++;
  if (ctx.method.name === "Ping") return Buffer.from("pong");
  return ctx.abort(Code.UNIMPLEMENTED, `rel.Dyn has no method ${ctx.method.name}`);
});

const server = new Server({
  handlers: [
    methodHandlersGenericHandler("rel.Known", { Hello: unaryUnaryRpcMethodHandler(() => Buffer.from("hello")) }),
    (details) => (details.method.startsWith("/rel.Dyn/") ? dynamic : undefined),
  ],
});
server.addRegisteredMethodHandlers("rel.Paths", { Echo: unaryUnaryRpcMethodHandler((req: Uint8Array) => req) });

// Private fields, read for test introspection only (as server-process.ts reads sessions).
const internals = server as unknown as { router: Router; calls: Set<unknown> };

function stats(): PathServerStats {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, routerCache: internals.router.cachedDefinitions, dynamicCalls, activeCalls: internals.calls.size };
}

await listen(server);
answerCommands({ stats, gc: () => (fullGc(), stats()) }, () => {
  void server.stop(0).then(() => process.exit(0));
});
