// Interop TestService server: `npm run interop:server -- --port N [--use_tls]`.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Server, ServerCredentials } from "../../src/index.js";
import { TestService } from "../gen/grpc/testing/test_pb.js";
import { testService } from "./test-service.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    use_tls: { type: "boolean", default: false },
  },
});

const tlsDir = fileURLToPath(new URL("../../test/fixtures/tls/", import.meta.url));
const server = new Server();
server.addService(TestService, testService);
const address = `${values.host}:${values.port}`;
const port = values.use_tls
  ? await server.addSecurePort(
      address,
      ServerCredentials.ssl({ keyCertPairs: [{ privateKey: readFileSync(tlsDir + "server.key"), certChain: readFileSync(tlsDir + "server.pem") }] }),
    )
  : await server.addInsecurePort(address);
server.start();
process.stdout.write(`listening on ${values.host}:${port}\n`);
const stop = () => void server.stop(1000);
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
await server.waitForTermination();
