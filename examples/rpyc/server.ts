// The RPyC example server: the JUDGE service (./judge.ts) for stock Python rpyc clients. Its
// members and flags are a contract other tests and tools call:
//
//   npm run rpyc:example -- --port PORT [--host 127.0.0.1] [--server threaded|threadpool|forking|oneshot]
//                           [--auth-token TOKEN] [--registry udp|tcp --registry-host H --registry-port P]
//
// Port 0 picks a free port; once accepting it prints `listening rpyc tcp://HOST:PORT`. With
// --auth-token a client first sends exactly the token's bytes (a wrong token is closed without a
// byte) and credentials() answers the token. With --registry the aliases (JUDGE, JUDGE_ALT) are
// registered at once and every few seconds, and unregistered when the server stops.
// SIGINT/SIGTERM stop the server (unregistering first) and exit 0.
import { parseArgs } from "node:util";
import * as rpyc from "switchboard/rpyc";
import { OneShotServer, TCPRegistryClient, ThreadedServer, UDPRegistryClient, type Authenticator, type RegistryClient, type Server, type ServerOptions } from "switchboard/rpyc";
import { JUDGE_MAIN_THREAD, JudgeService } from "./judge.js";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    server: { type: "string", default: "threaded" },
    "auth-token": { type: "string" },
    registry: { type: "string" },
    "registry-host": { type: "string", default: "127.0.0.1" },
    "registry-port": { type: "string", default: "18811" },
  },
});

function die(message: string): never {
  console.error(`rpyc example: ${message}`);
  process.exit(1);
}

function portOf(name: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value === "" || !Number.isInteger(n) || n < 0 || n > 65535) die(`--${name} must be a port number 0-65535, not ${JSON.stringify(value)}`);
  return n;
}

const port = portOf("port", values.port);
const host = values.host;
const kind = values.server;
if (!["threaded", "threadpool", "forking", "oneshot"].includes(kind)) die(`--server must be threaded, threadpool, forking or oneshot, not ${JSON.stringify(kind)}`);

/** Seconds between registrations: short, so a registry started (or restarted) late learns of us soon. */
const REREGISTER_SECONDS = 5;

let registrar: RegistryClient | undefined;
if (values.registry !== undefined) {
  const registryPort = portOf("registry-port", values["registry-port"]);
  const target = { ip: values["registry-host"], port: registryPort, reregisterInterval: REREGISTER_SECONDS };
  if (values.registry === "udp") registrar = new UDPRegistryClient(target);
  else if (values.registry === "tcp") registrar = new TCPRegistryClient(target);
  else die(`--registry must be udp or tcp, not ${JSON.stringify(values.registry)}`);
}

/** A library export that another part of the package may not provide yet: undefined then. */
function optionalExport<T>(name: string): T | undefined {
  return (rpyc as Record<string, unknown>)[name] as T | undefined;
}

let authenticator: Authenticator | undefined;
const token = values["auth-token"];
if (token !== undefined) {
  if (token === "") die("--auth-token must not be empty");
  const tokenAuthenticator = optionalExport<(token: string) => Authenticator>("tokenAuthenticator");
  if (!tokenAuthenticator) die("--auth-token needs tokenAuthenticator, which this build of switchboard/rpyc does not export");
  authenticator = tokenAuthenticator(token);
}

const options: ServerOptions = {
  hostname: host,
  port,
  ...(authenticator ? { authenticator } : {}),
  ...(registrar ? { registrar, autoRegister: true } : {}),
};

type PooledServerClass = new (service: typeof JudgeService, options: ServerOptions & Record<string, unknown>) => Server;

let server: Server;
if (kind === "threaded") server = new ThreadedServer(JudgeService, options);
else if (kind === "oneshot") server = new OneShotServer(JudgeService, options);
else {
  const className = kind === "threadpool" ? "ThreadPoolServer" : "ForkingServer";
  const Pooled = optionalExport<PooledServerClass>(className);
  if (!Pooled) die(`--server ${kind} needs ${className}, which this build of switchboard/rpyc does not export`);
  // Workers and child processes load the service from this module by name; members that use
  // state shared by all connections (or the connection itself) stay on the main thread.
  server = new Pooled(JudgeService, {
    ...options,
    serviceModule: new URL("./judge.ts", import.meta.url).href,
    serviceExport: "JudgeService",
    mainThread: JUDGE_MAIN_THREAD,
    // a few threads are plenty for an example, and each one loads the service module at start
    ...(kind === "threadpool" ? { nbThreads: 4 } : {}),
  });
}

await server.start();
console.log(`listening rpyc tcp://${host}:${server.port}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // close() sends UNREGISTER (with --registry) before it resolves
    void server.close().then(() => {
      console.log("stopped");
      // a registry socket or a lingering child must not keep the process alive
      setTimeout(() => process.exit(0), 1000).unref();
    });
  });
}
// a one-shot server closes by itself after its connection
void server.done.then(() => {
  if (!stopping) console.log("stopped");
});
