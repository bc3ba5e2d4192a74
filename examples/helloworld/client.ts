// Calls helloworld.Greeter: `npx tsx examples/helloworld/client.ts [name]` while `npm start`
// (or examples/greeter/server.ts) runs; TARGET overrides 127.0.0.1:50051.
import { Channel, Code, createClient, RpcError } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const target = process.env["TARGET"] ?? "127.0.0.1:50051";
const name = process.argv[2] ?? "world";

// One channel is one HTTP/2 connection, made on the first call; `await using` closes it when
// the module's code is done. Other targets: "unix:/path"; for TLS add
// { credentials: ChannelCredentials.ssl({ rootCerts, privateKey, certChain }) }.
await using channel = new Channel(target);
const greeter = createClient(Greeter, channel);

try {
  // Unary: one request, one response, with a deadline and metadata.
  const reply = await greeter.sayHello({ name }, { timeout: 2000, metadata: { "x-request-id": "42" } });
  process.stdout.write(`${reply.message}\n`);

  // Server streaming: the call is an AsyncIterable of responses.
  for await (const r of greeter.sayHelloStream({ name }, { timeout: 2000 })) process.stdout.write(`${r.message}\n`);

  // The same unary method as a grpclib-style call object: full control over headers, messages and trailers.
  const call = greeter.sayHello.open({ timeout: 2000 });
  await call.sendMessage({ name }, { end: true });
  const initial = await call.recvInitialMetadata();
  const message = await call.recvMessage(); // null at the end of the stream
  const trailing = await call.recvTrailingMetadata(); // throws RpcError for a non-OK status
  process.stdout.write(`${message?.message} from ${call.peer} (${initial.size} initial, ${trailing.size} trailing metadata keys)\n`);
} catch (err) {
  // A non-OK status rejects with RpcError: code, rawMessage, metadata (the trailers), details.
  if (!(err instanceof RpcError)) throw err;
  process.stderr.write(`call failed: ${Code[err.code]} ${err.rawMessage}\n`);
  process.exitCode = 1;
}
