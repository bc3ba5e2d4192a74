// The tinyrpc-style JSON-RPC front: transport x protocol x dispatcher.
export { JSONRPCError, JSONRPCErrorCode, toJSONRPCError } from "./errors.js";
export type { ParsedEntry, ParsedMessage, ParsedReply, RequestId, RPCErrorResponse, RPCParams, RPCProtocol, RPCRequest, RPCResponse, RPCResultResponse } from "./protocol.js";
export { DEFAULT_MAX_BATCH_LENGTH, DEFAULT_MAX_DEPTH, JSONRPCProtocol, type JSONRPCProtocolOptions } from "./json-protocol.js";
export { MSGPACKRPCProtocol, msgpackTooLargeReply, type MSGPACKRPCProtocolOptions } from "./msgpack-protocol.js";
export type { MsgpackExtensionCodec } from "./msgpack/codec.js";
export { publicOptions, RPCDispatcher, rpcPublic, type RPCMethodOptions } from "./dispatcher.js";
export { RPCServer, type RPCServerOptions, type ServerErrorHandler, type SpawnFunction, type TraceDirection, type TraceFunction } from "./server.js";
export { workerMethod } from "./worker-method.js";
export { RPCClient, type BatchCall, type BatchResult, type RPCProxy } from "./client.js";
export {
  CallbackServerTransport,
  MemoryClientTransport,
  MemoryServerTransport,
  memoryTransportPair,
  type MemoryContext,
  type MemoryTransportOptions,
} from "./callback-transport.js";
export { DEFAULT_MAX_MESSAGE_BYTES, type ClientTransport, type IncomingMessage, type ServerTransport } from "./transport.js";
export * from "./transports/http.js";
export * from "./transports/websocket.js";
// zeromq is an optional peer: zmq.ts loads it with import() only when a ZeroMQ transport is made.
export { ZmqClientTransport, ZmqServerTransport, type ZmqClientOptions, type ZmqEnvelope, type ZmqServerOptions } from "./transports/zmq.js";
export { TcpClientTransport, TcpServerTransport } from "./transports/tcp.js";
export { StdioClientTransport, StdioServerTransport } from "./transports/stdio.js";
export { exposeGrpcServer, grpcDispatcher, GRPC_STATUS_CODE_BASE, jsonrpcCodeOfStatus, type GrpcBridgeOptions, type GrpcStatusData } from "./grpc-bridge.js";
