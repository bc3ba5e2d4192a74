// The 18 interop cases from Switchboard's own client (examples/interop/client.ts)
// against Debian's python3-grpcio (C-core) server, the @grpc/grpc-js server and our
// own server, each in plaintext and over TLS.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CASES, CLIENTS, clientArgs, pythonPeerMissing, requirePeer, runClient, startGrpcjsServer, startOurServer, startPythonServer, type RunningServer } from "./peers.js";

/**
 * The cases our client is expected to FAIL against the grpc-js server, with the exact
 * reason it must report. grpc-js 1.14 as a server never compresses responses and does
 * not tell handlers whether a request message was compressed, so its interop server
 * ignores response_compressed / ResponseParameters.compressed / expect_compressed
 * (see test/interop/grpcjs/server.ts). Each reason also says that every other step of
 * the case passed, so a FAIL for any other cause does not match.
 */
const GRPCJS_EXPECTED_FAILURES: Readonly<Record<string, { why: string; reason: string }>> = {
  client_compressed_unary: {
    why: "the server cannot see request compression, so the uncompressed expect_compressed=true probe gets OK instead of INVALID_ARGUMENT",
    reason: "probe (uncompressed, expect_compressed=true) got OK, want INVALID_ARGUMENT; the compressed and uncompressed calls succeeded",
  },
  server_compressed_unary: {
    why: "the server never compresses responses, so response_compressed=true gets a message without the compressed flag",
    reason: "response_compressed=true: the response's compressed flag is clear, want set; both calls succeeded with the right payloads",
  },
  client_compressed_streaming: {
    why: "the server cannot see request compression, so the uncompressed expect_compressed=true probe gets OK instead of INVALID_ARGUMENT",
    reason: "probe (uncompressed, expect_compressed=true) got OK, want INVALID_ARGUMENT; the compressed+uncompressed stream succeeded",
  },
  server_compressed_streaming: {
    why: "the server never compresses responses, so the compressed=true message arrives without the compressed flag",
    reason: "response 0 (compressed=true): the compressed flag is clear, want set; the call succeeded with the right payloads",
  },
};

const pythonSkip = requirePeer(pythonPeerMissing());
if (pythonSkip) process.stderr.write(`SKIPPING Switchboard client -> C-core server tests: ${pythonSkip}\n`);

interface ServerUnderTest {
  name: string;
  start: (tls: boolean) => Promise<RunningServer>;
  skip: string | undefined;
  expectedFailures: Readonly<Record<string, { why: string; reason: string }>>;
  /**
   * The TLS name to check the certificate against. The peers' runs pass the usual
   * interop override; our server's run leaves it out, so the client's default (verify
   * against --server_host, 127.0.0.1 in the certificate's IP SANs) is covered too.
   */
  tlsOverride: string | undefined;
}

const SERVERS: ServerUnderTest[] = [
  { name: "C-core server (python3-grpcio)", start: startPythonServer, skip: pythonSkip, expectedFailures: {}, tlsOverride: "foo.test.google.fr" },
  { name: "grpc-js server", start: startGrpcjsServer, skip: undefined, expectedFailures: GRPCJS_EXPECTED_FAILURES, tlsOverride: "foo.test.google.fr" },
  { name: "Switchboard server", start: startOurServer, skip: undefined, expectedFailures: {}, tlsOverride: undefined },
];

for (const peer of SERVERS) {
  const failures = Object.keys(peer.expectedFailures).length;
  const title = failures === 0 ? "all 18 interop cases pass" : `every case passes except the ${failures} listed`;
  for (const tls of [false, true]) {
    test(`Switchboard client -> ${peer.name}${tls ? " over TLS" : ""}: ${title}`, { skip: peer.skip, timeout: 300_000 }, async (t) => {
      const server = await peer.start(tls);
      try {
        const override = tls && peer.tlsOverride ? ["--server_host_override", peer.tlsOverride] : [];
        const run = await runClient(CLIENTS.ours.command, [...CLIENTS.ours.args, ...clientArgs(server.port, tls), ...override]);
        for (const name of CASES) {
          await t.test(name, () => {
            const r = run.cases.get(name);
            assert.ok(r, `no result line for ${name}:\n${run.output}`);
            const expected = peer.expectedFailures[name];
            if (expected) {
              assert.equal(r.verdict, "FAIL", `${name} should fail against the ${peer.name} because ${expected.why}; got ${r.verdict} ${r.detail}`);
              assert.equal(r.detail, expected.reason, `${name} failed for another reason than: ${expected.why}`);
            } else {
              assert.equal(r.verdict, "PASS", `${name}: ${r.detail}`);
            }
          });
        }
        assert.equal(run.cases.size, CASES.length, run.output);
        assert.match(run.output, new RegExp(`^${CASES.length - failures} passed, ${failures} failed$`, "m"), run.output);
        assert.equal(run.status, failures === 0 ? 0 : 1, run.output);
      } finally {
        await server.stop();
      }
    });
  }
}
