// The helloworld Greeter on Switchboard: `npm start` runs this on 127.0.0.1:50051
// (HOST and PORT override; `switchboard serve` runs the same server, see serve.ts).
import { runExampleServer } from "./serve.js";

export { greeter } from "./serve.js";

if (import.meta.url === `file://${process.argv[1]}`) {
  await runExampleServer({ host: process.env["HOST"] ?? "127.0.0.1", port: Number(process.env["PORT"] ?? 50051) });
}
