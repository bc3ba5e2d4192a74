// The RPyC front: rpyc's services, servers, client, registry and wire protocol (switchboard/rpyc).
export { Ellipsis, isDumpable, isPyFloat, isPyInt, NotImplemented, PyComplex, pyFloat, PyFloat, PyFrozenSet, PySlice, type PySingleton, type PyValue } from "./values.js";
export { dump as brineDump, load as brineLoad } from "./brine.js";
export { DEFAULT_CONFIG, DEFAULT_MAX_FRAME_BYTES, SAFE_ATTRS, type ProtocolConfig } from "./config.js";
export type { Logger } from "./logger.js";
export { PyError, type PyErrorOptions } from "./py-errors.js";
export { exposed, Service, VoidService } from "./service.js";
export { byRef } from "./objects.js";
export { Connection, type ConnectionOptions, type ConnectionRoot } from "./connection.js";
export { callattr, delattr, getattr, isNetref, kw, Kwargs, remoteDir, remoteHash, remoteRepr, remoteStr, setattr, type Netref, type NetrefAttr } from "./netref.js";
export { EventLoopServer, OneShotServer, Server, ThreadedServer, type Authenticator, type AuthResult, type ServerOptions, type ServiceSpec } from "./server.js";
export { AuthenticationError, DEFAULT_AUTH_TIMEOUT, readExactly, SSLAuthenticator, tokenAuthenticator, type CertReqs, type SSLAuthenticatorOptions } from "./authenticators.js";
export { ThreadPoolServer, type ThreadPoolServerOptions } from "./thread-pool-server.js";
export { ForkingServer, type ForkingServerOptions } from "./forking-server.js";
export { connect, connectByService, connectStream, sslConnect, unixConnect, type ConnectOptions } from "./client.js";
export * from "./registry.js";
