// Rich error details: the server rejects a request with a google.rpc.BadRequest and an
// ErrorInfo; the client reads them back as typed messages. `npx tsx examples/errors/rich-details.ts`
import { create, isMessage } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack, StringValueSchema } from "@bufbuild/protobuf/wkt";
import { BadRequestSchema, Channel, Code, createClient, detail, ErrorInfoSchema, RpcError, Server } from "switchboard";
import { Greeter } from "../gen/helloworld/helloworld_pb.js";

const server = new Server();
server.addService(Greeter, {
  sayHello(request) {
    if (!request.name) {
      throw new RpcError(Code.INVALID_ARGUMENT, "invalid greeting", [
        create(BadRequestSchema, { fieldViolations: [{ field: "name", description: "must not be empty" }] }),
        create(ErrorInfoSchema, { reason: "NAME_EMPTY", domain: "greeter.example" }),
        // Not a google.rpc type, so it needs its schema here and reaches the client as an Any.
        detail(StringValueSchema, create(StringValueSchema, { value: "try Ada" })),
      ]);
    }
    return { message: `Hello, ${request.name}!` };
  },
});
const port = await server.addInsecurePort("127.0.0.1:0");
server.start();

const channel = new Channel(`127.0.0.1:${port}`);
try {
  await createClient(Greeter, channel).sayHello({ name: "" }, { timeout: 2000 });
} catch (err) {
  if (!(err instanceof RpcError)) throw err;
  process.stdout.write(`${Code[err.code]}: ${err.rawMessage}\n`);
  for (const d of err.decodedDetails) {
    if (isMessage(d, BadRequestSchema)) for (const v of d.fieldViolations) process.stdout.write(`  ${v.field}: ${v.description}\n`);
    else if (isMessage(d, ErrorInfoSchema)) process.stdout.write(`  reason ${d.reason} (${d.domain})\n`);
    else if (isMessage(d, AnySchema)) process.stdout.write(`  ${d.typeUrl}: ${anyUnpack(d, StringValueSchema)?.value}\n`);
  }
} finally {
  channel.close();
  await server.stop(1000);
}
