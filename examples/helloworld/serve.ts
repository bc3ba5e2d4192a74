// The helloworld example server, shared by `npm start` (server.ts here) and `switchboard serve`:
// Greeter + health + reflection. Its code is src/cli/example-server.ts, because the published
// package ships it with the CLI; read it there.
export { greeter, runExampleServer, startExampleServer, type ExampleServer, type ExampleServerOptions } from "../../src/cli/example-server.js";
