// JSON-RPC over HTTP POST: both sides.
export { HttpServerTransport, type HttpCorsOptions, type HttpListenOptions, type HttpRequestContext, type HttpServerTransportOptions } from "./http-server.js";
export { HttpClientTransport, HttpStatusError, type HttpClientTransportOptions } from "./http-client.js";
export { DiscoveryHttpClientTransport, type DiscoveryHttpClientTransportOptions } from "./discovery-client.js";
