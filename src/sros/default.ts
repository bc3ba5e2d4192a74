import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Server } from "../server/server.js";
import { GrpcServer, type AddHandlerOptions, type GrpcServerOptions } from "./grpc-server.js";
import type { Handler } from "./handler.js";
import type { HandleRpcOptions } from "./queue.js";

// The seed's scripts call module functions (`grpcserver.add_handler(...)`,
// `grpcserver.handle_rpc()`) on the one server the router provides. These do the same on the
// GrpcServer last bound with bindServer(); a program with several servers uses GrpcServer.
let bound: GrpcServer | undefined;

/** Makes `server` the one the module functions use (replacing any earlier binding); returns its GrpcServer. */
export function bindServer(server: Server, options?: GrpcServerOptions): GrpcServer {
  bound = new GrpcServer(server, options);
  return bound;
}

function current(): GrpcServer {
  if (!bound) throw new SwitchboardError(ErrorCode.NOT_BOUND, "call bindServer(server, options) before addHandler() or handleRpc()");
  return bound;
}

/** SR OS `add_handler(service, rpc, handler, package=)` on the bound server. */
export function addHandler(service: string, rpc: string, handler: Handler, options?: AddHandlerOptions): void {
  current().addHandler(service, rpc, handler, options);
}

/** SR OS `handle_rpc()` on the bound server: resolves once one RPC was handled. */
export async function handleRpc(options?: HandleRpcOptions): Promise<void> {
  return current().handleRpc(options);
}
