export { Code, codeName, detail, fromError, isCode, RpcError, statusOf, type RpcErrorOptions, type Status, type StatusDetail } from "./status.js";
export { detailTypes, registerDetailType, type DetailInput } from "./rich-details.js";
export { protoStatusDetailsCodec, type StatusDetailsCodec } from "./grpc/status-details.js";
// The google.rpc error model (BadRequestSchema, ErrorInfoSchema, ...), for rich error details.
export * from "./gen/google/rpc/error_details_pb.js";
export { ErrorCode, SwitchboardError } from "./errors.js";
export { Metadata, type MetadataInit, type MetadataValue } from "./metadata.js";
export { Deadline, formatTimeout, parseTimeout } from "./deadline.js";
export type { Encoding } from "./codec/compression.js";
export { contentSubtype, jsonCodec, protoCodec, type Codec, type JsonCodecOptions } from "./codec/codec.js";
export { methodMap, type MappedMethod } from "./service/method-map.js";
export type { AuthContext, ServerCallContext, ServerStream, TrailingStatus } from "./call/context.js";
export type {
  BidiStreamingHandler,
  ClientStreamingHandler,
  ServerStreamingHandler,
  StreamHandler,
  UnaryHandler,
} from "./call/shapes.js";
export type { ServerInterceptor } from "./call/interceptors.js";
export type { ServerCall } from "./call/server-call.js";
export type { CallHandler, MethodDefinition, MethodInfo, MethodKind } from "./service/method.js";
export {
  methodHandlersGenericHandler,
  streamStreamRpcMethodHandler,
  streamUnaryRpcMethodHandler,
  unaryStreamRpcMethodHandler,
  unaryUnaryRpcMethodHandler,
  type Deserializer,
  type GenericRpcHandler,
  type HandlerCallDetails,
  type RpcMethodHandler,
  type Serializer,
  type ServiceRpcHandler,
} from "./service/raw.js";
export type { ResolvedHandler, ServiceInterceptor } from "./service/router.js";
export { typedMethods, type HandlerFor, type ServiceImpl, type StreamServiceImpl } from "./service/typed.js";
export { Server } from "./server/server.js";
export type { StartOptions } from "./server/start-options.js";
export type { ListenHandle } from "./server/address.js";
export { gracefulExit, type GracefulExitOptions, type Stoppable } from "./server/graceful-exit.js";
export type { ServerErrorContext, ServerErrorHook, ServerErrorSource, ServerOptions } from "./server/options.js";
export type { Transport } from "./grpc/transport.js";
export { fromGrpcChannelArgs, type GrpcChannelArgs } from "./server/grpc-options.js";
export { ServerCredentials, type KeyCertPair } from "./server/credentials.js";
export { Channel, type ChannelOptions, type ChannelState, type ServiceConfig } from "./client/channel.js";
export type { LoadBalancingPolicy } from "./client/load-balancer.js";
export { parseTargetUri, registerResolver, type ResolvedAddress, type Resolver, type ResolverFactory, type ResolverListener, type TargetUri } from "./client/resolver.js";
export { ChannelCredentials, type ChannelTls } from "./client/credentials.js";
export { ClientCall, type CallOptions, type ClientMethod } from "./client/client-call.js";
export {
  bindMethod,
  clientMethod,
  createClient,
  rawMethod,
  type BidiStreamingMethod,
  type Client,
  type ClientMethodFor,
  type ClientStreamingMethod,
  type Openable,
  type ServerStreamingMethod,
  type UnaryMethod,
} from "./client/typed.js";
export type { ClientCallInfo, ClientInterceptor } from "./client/interceptors.js";
export type {
  ClientEvents,
  RecvInitialMetadataEvent,
  RecvMessageEvent,
  RecvTrailingMetadataEvent,
  SendMessageEvent,
  SendRequestEvent,
} from "./client/events.js";
export { EventBus, eventFields, listen, type EventBase, type EventTarget, type Listener } from "./events.js";
export type {
  RecvRequestEvent,
  RecvRequestHandler,
  SendInitialMetadataEvent,
  SendTrailingMetadataEvent,
  ServerEvents,
  ServerRecvMessageEvent,
  ServerSendMessageEvent,
} from "./call/events.js";
export type { CallProtocol, ObservedCall, ServerObserver } from "./call/observer.js";
export type { ClientObserver, ObservedClientCall } from "./client/observer.js";
export { channelFor, type ServiceEntries } from "./testing/channel-for.js";
export {
  HealthService,
  OVERALL,
  ServiceCheck,
  ServiceStatus,
  ServingStatus,
  type CheckFunction,
  type CheckResult,
  type HealthCheck,
  type HealthChecks,
  type HealthLogger,
  type HealthServiceKey,
  type ServiceCheckOptions,
} from "./services/health/index.js";
export {
  addReflection,
  DescriptorIndex,
  ReflectionService,
  WELL_KNOWN_FILES,
  type ReflectionAnswer,
  type ReflectionOptions,
  type ReflectionRequest,
  type ReflectionSource,
} from "./services/reflection/index.js";
export { Health, HealthCheckRequestSchema, HealthCheckResponseSchema, type HealthCheckRequest, type HealthCheckResponse } from "./gen/grpc/health/v1/health_pb.js";
export { ServerReflection as ServerReflectionV1 } from "./gen/grpc/reflection/v1/reflection_pb.js";
export { ServerReflection as ServerReflectionV1Alpha } from "./gen/grpc/reflection/v1alpha/reflection_pb.js";
export { WorkerPool, type WorkerFunctionName } from "./execution/worker-pool.js";
export type { WorkerPoolOptions, WorkerPoolStats } from "./execution/options.js";
export type { WorkerContext, WorkerStreamFunction, WorkerUnaryFunction } from "./execution/context.js";
export {
  Cluster,
  isWorker,
  serveWorkers,
  type ClusterEvents,
  type PortSharing,
  type RestartPolicy,
  type RestartReason,
  type ServeWorkersOptions,
  type WorkerInfo,
  type WorkerServing,
  type WorkerStart,
  type WorkerState,
  type WorkerStatus,
} from "./cluster/index.js";
export * from "./etcd/index.js";
// The tinyrpc-style JSON-RPC front (RPCServer, RPCClient, RPCDispatcher, JSONRPCProtocol, ...).
export * from "./jsonrpc/index.js";
// Browsers on the gRPC port: gRPC-Web, Connect, HTTP/1.1 and CORS (docs/web.md).
export type { CorsOptions, WebOptions } from "./web/index.js";
export type { Idempotency } from "./service/method.js";
// Prometheus and OpenTelemetry metrics (docs/observability.md). The OpenTelemetry "_OTHER"
// method name is re-exported under its own name: the dashboard has an "other" row of its own.
export {
  attachClientOpenTelemetry,
  attachOpenTelemetry,
  ClientMetrics,
  DEFAULT_BUCKETS,
  OTHER_LABELS,
  OTHER_METHOD as OTEL_OTHER_METHOD,
  ServerMetrics,
  type MetricsOptions,
  type OpenTelemetryOptions,
  type RpcLabels,
  type ServerMetricsOptions,
} from "./metrics/index.js";
// grpc.channelz.v1.Channelz for the server and channels.
export { addChannelzService, ChannelzService, enableChannelz, Channelz, ChannelConnectivityState_State } from "./services/channelz/index.js";
// The admin server: /metrics, /health, the live dashboard and its event stream.
export {
  DashboardStats,
  LatencyHistogram,
  OTHER_METHOD as DASHBOARD_OTHER_METHOD,
  startAdmin,
  type AdminOptions,
  type AdminServer,
  type CallsSnapshot,
  type DashboardSnapshot,
  type DashboardStatsOptions,
  type HealthSummary,
  type MethodSnapshot,
  type RuntimeSnapshot,
  type ServerSnapshot,
} from "./admin/index.js";
