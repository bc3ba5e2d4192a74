// CommonJS: require() of the ESM-only package (Node 20.19+ and 22.12+ load it through
// require(esm), as the package's module graph has no top-level await). One unary call.
const { Channel, createClient, Health, Server, ServingStatus } = require("switchboard");
const sros = require("switchboard/sros");

async function main() {
  const server = new Server();
  server.addService(Health, { check: () => ({ status: ServingStatus.SERVING }) });
  const port = await server.addInsecurePort("127.0.0.1:0");
  server.start();
  const channel = new Channel(`127.0.0.1:${port}`);
  try {
    const reply = await createClient(Health, channel).check({ service: "" }, { timeout: 10_000 });
    console.log(`require unary: ${ServingStatus[reply.status]}; sros GrpcServer: ${typeof sros.GrpcServer}`);
  } finally {
    channel.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
