// A JSON-RPC server on the in-memory transport, for sending raw messages and reading raw replies.
import { JSONRPCProtocol, memoryTransportPair, RPCClient, RPCDispatcher, RPCServer, type JSONRPCProtocolOptions, type RPCServerOptions } from "../../src/jsonrpc/index.js";
import type { MemoryContext } from "../../src/jsonrpc/index.js";

export interface Harness {
  readonly server: RPCServer<MemoryContext>;
  readonly client: RPCClient;
  /** Sends raw bytes (a string is UTF-8 encoded) and resolves with the reply text. */
  send(message: string | Uint8Array): Promise<string>;
  /** Closes the transport and resolves once serveForever has returned. */
  stop(): Promise<void>;
  readonly serving: Promise<void>;
}

export function startServer(dispatcher: RPCDispatcher, options: { protocol?: JSONRPCProtocolOptions; server?: RPCServerOptions<MemoryContext>; maxMessageBytes?: number } = {}): Harness {
  const pair = memoryTransportPair(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes });
  const server = new RPCServer(pair.server, new JSONRPCProtocol(options.protocol), dispatcher, options.server);
  const serving = server.serveForever();
  const client = new RPCClient(new JSONRPCProtocol(), pair.client);
  const decoder = new TextDecoder();
  return {
    server,
    client,
    serving,
    async send(message) {
      const bytes = typeof message === "string" ? new TextEncoder().encode(message) : message;
      return decoder.decode(await pair.server.deliver(bytes));
    },
    async stop() {
      await pair.server.close();
      await serving;
    },
  };
}

/** The example server's methods (echo, add, fail, slow, bump, notify_count, math.mul): the contract the tests prove. */
export { exampleDispatcher } from "../../examples/jsonrpc/methods.js";
