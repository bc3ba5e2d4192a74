// rpyc's service registry (rpyc/utils/registry.py): servers announce their service names and
// port, clients find them by name, over raw brine on UDP or TCP port 18811.
export type { RegistryEntry } from "./registry/table.js";
export { DEFAULT_PRUNING_TIMEOUT, MAX_DGRAM_SIZE, REGISTRY_PORT, REREGISTER_INTERVAL } from "./registry/common.js";
export { TCPRegistryServer, UDPRegistryServer, type RegistryServerOptions, type TCPRegistryServerOptions } from "./registry/server.js";
export {
  discover,
  TCPRegistryClient,
  UDPRegistryClient,
  type RegisterOptions,
  type RegistryClient,
  type TCPRegistryClientOptions,
  type UDPRegistryClientOptions,
} from "./registry/client.js";
export { AutoRegistrar, type AutoRegistrarOptions } from "./registry/auto.js";
export { EtcdRegistryClient, type EtcdRegistryClientOptions } from "./registry/etcd.js";
