// switchboard/sros: the SR OS `grpcserver` API (add_handler, handle_rpc, Context, StatusCode)
// over a Switchboard Server. See docs/sros.md.
export { RpcError } from "../status.js";
export { StatusCode } from "./status-code.js";
export { Context } from "./context.js";
export { AbortError, NotImplementedError, ResponseTypeError } from "./errors.js";
export { GrpcServer, type AddHandlerOptions, type GrpcServerOptions } from "./grpc-server.js";
export { addHandler, bindServer, handleRpc } from "./default.js";
export type { HandleRpcOptions } from "./queue.js";
export type { BidiStreamingHandler, ClientStreamingHandler, Handler, ServerStreamingHandler, UnaryHandler } from "./handler.js";
