// JSON-RPC over WebSocket: both sides.
export {
  WebSocketServerTransport,
  type WebSocketListenOptions,
  type WebSocketMessageContext,
  type WebSocketServerTransportOptions,
} from "./ws-server.js";
export { WebSocketClientTransport, type WebSocketClientTransportOptions } from "./ws-client.js";
export type { WebSocketPeer } from "./ws-peer.js";
