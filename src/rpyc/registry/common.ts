// What the registry's servers and clients share: rpyc's constants and the request shape.
//
// The registry speaks raw brine, without rpyc's channel framing: a request is one value
// `("RPYC", COMMAND, args)` in one UDP datagram or as the only bytes sent on a TCP
// connection, and the reply is one brine value.
import { dump } from "../brine.js";
import type { PyValue } from "../values.js";

/** The registry's UDP and TCP port (rpyc's REGISTRY_PORT). */
export const REGISTRY_PORT = 18811;
/** Seconds after its last REGISTER an entry is dropped by the next QUERY for its name. */
export const DEFAULT_PRUNING_TIMEOUT = 240;
/** Seconds between two REGISTERs of a running server (rpyc's RegistryClient.REREGISTER_INTERVAL). */
export const REREGISTER_INTERVAL = 60;
/** The most bytes a registry reads for one request (and a Python client reads for one reply). */
export const MAX_DGRAM_SIZE = 1500;
/** Seconds a registry client waits for an answer. */
export const DEFAULT_CLIENT_TIMEOUT = 2;
/** Seconds the TCP registry gives a connection to deliver its request (rpyc's TCPRegistryServer.TIMEOUT). */
export const TCP_SERVER_TIMEOUT = 3;

/** The magic first item of every registry request. */
export const MAGIC = "RPYC";

export type RegistryCommand = "REGISTER" | "UNREGISTER" | "QUERY" | "LIST";

/** Encodes `("RPYC", command, args)`. */
export function encodeRequest(command: RegistryCommand, args: readonly PyValue[]): Buffer {
  return dump([MAGIC, command, args]);
}

export { secondsToMs } from "../config.js";
