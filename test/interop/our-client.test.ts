// The 18 interop cases from Switchboard's own client (examples/interop/client.ts)
// against Debian's python3-grpcio (C-core) server, the @grpc/grpc-js server and our
// own server, each in plaintext and over TLS.
import { CLIENTS, interopSuite, pythonPeerMissing, requirePeer, startGrpcjsServer, startOurServer, startPythonServer, type ExpectedFailure } from "./peers.js";

/**
 * The cases our client is expected to FAIL against the grpc-js server, with the exact
 * reason it must report. grpc-js 1.14 as a server never compresses responses and does
 * not tell handlers whether a request message was compressed, so its interop server
 * ignores response_compressed / ResponseParameters.compressed / expect_compressed
 * (see test/interop/grpcjs/server.ts). Each reason also says that every other step of
 * the case passed, so a FAIL for any other cause does not match.
 */
const GRPCJS_EXPECTED_FAILURES: Readonly<Record<string, ExpectedFailure>> = {
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

const client = { client: CLIENTS.ours, clientName: "Switchboard client" };
// The peers' runs pass the usual interop TLS override; our server's run leaves it out, so the
// client's default (verify against --server_host, 127.0.0.1 in the certificate's IP SANs) is covered too.
interopSuite({ ...client, serverName: "C-core server (python3-grpcio)", start: startPythonServer, skip: pythonSkip, tlsOverride: "foo.test.google.fr" });
interopSuite({ ...client, serverName: "grpc-js server", start: startGrpcjsServer, expectedFailures: GRPCJS_EXPECTED_FAILURES, tlsOverride: "foo.test.google.fr" });
interopSuite({ ...client, serverName: "Switchboard server", start: startOurServer });
