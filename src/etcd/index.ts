// etcd service discovery: client, endpoint records, server registration, resolver.
export { EtcdClient, type EtcdClientOptions, type EtcdLogger, type LeaseGrant, type PutOptions, type RangeResult } from "./client.js";
export { EtcdError, EtcdErrorCode } from "./errors.js";
export type { Bytes, EtcdKeyValue } from "./keys.js";
export { LeaseKeepAlive, type LeaseKeepAliveOptions, type LeaseLoss } from "./lease.js";
export { EtcdWatcher, type EtcdEvent, type WatchBatch, type WatchHandler, type WatchOptions } from "./watch.js";
export {
  EndpointOp,
  EndpointsManager,
  encodeEndpoint,
  endpointKey,
  endpointsFrom,
  parseEndpointValue,
  splitHostPort,
  type EndpointRecord,
  type EndpointsManagerOptions,
  type InvalidEndpoint,
  type ParsedEndpoint,
} from "./endpoints.js";
export { registerWithEtcd, type EtcdRegistration, type EtcdRegistrationOptions, type RegistrableServer } from "./register.js";
export { EtcdResolver, etcdResolver, type EtcdResolverOptions } from "./resolver.js";
