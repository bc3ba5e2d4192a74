// Calls the Greeter started by `npm start`: `npx tsx examples/helloworld/client.ts [name]`.
import { Channel, Code, createClient, RpcError } from "../../src/index.js";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const target = process.env["TARGET"] ?? "127.0.0.1:50051";
const name = process.argv[2] ?? "world";

await using channel = new Channel(target);
const greeter = createClient(Greeter, channel);

try {
  // Unary: one request, one response, with a deadline and metadata.
  const reply = await greeter.sayHello({ name }, { timeout: 2000, metadata: { "x-request-id": "42" } });
  process.stdout.write(`${reply.message}\n`);

  // Server streaming: the call is an AsyncIterable of responses.
  for await (const r of greeter.sayHelloStream({ name }, { timeout: 2000 })) process.stdout.write(`${r.message}\n`);

  // The same unary method as a call object (grpclib Stream): headers, message, trailers.
  const call = greeter.sayHello.open({ timeout: 2000 });
  await call.sendMessage({ name }, { end: true });
  const initial = await call.recvInitialMetadata();
  const message = await call.recvMessage();
  const trailing = await call.recvTrailingMetadata();
  process.stdout.write(`${message?.message} from ${call.peer} (${initial.size} initial, ${trailing.size} trailing metadata keys)\n`);
} catch (err) {
  if (err instanceof RpcError) {
    process.stderr.write(`call failed: ${Code[err.code]} ${err.rawMessage}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
