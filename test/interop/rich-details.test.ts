// Rich error details across implementations: a google.rpc.Status in grpc-status-details-bin
// sent by our server decodes in a python3-grpcio (C-core) client, and one sent by a
// python3-grpcio server decodes in our client — google.rpc types as typed messages, other
// types as google.protobuf.Any stand-ins with their bytes intact.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { create, isMessage } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack, StringValueSchema } from "@bufbuild/protobuf/wkt";
import {
  BadRequestSchema,
  Channel,
  Code,
  createClient,
  detail,
  ErrorInfoSchema,
  QuotaFailureSchema,
  RetryInfoSchema,
  RpcError,
  Server,
} from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { DEBIAN_PYTHON, pythonPeerMissing, requirePeer, ROOT, startServer, type RunningServer } from "./peers.js";

const PEER = "test/interop/python/rich_details_peer.py";
const skip = requirePeer(pythonPeerMissing());
if (skip) process.stderr.write(`# SKIP python3-grpcio rich details tests: ${skip}\n`);
const opts = { skip, timeout: 60_000 };

/** Our error: every google.rpc shape the python side must read, an unregistered type and an opaque one. */
function ourError(): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, "invalid greeting ✓ 100%", [
    create(BadRequestSchema, { fieldViolations: [{ field: "name", description: "must not be empty", reason: "EMPTY", localizedMessage: { locale: "de-DE", message: "darf nicht leer sein" } }] }),
    create(ErrorInfoSchema, { reason: "NAME_EMPTY", domain: "greeter.example", metadata: { field: "name" } }),
    create(RetryInfoSchema, { retryDelay: { seconds: 2n, nanos: 500_000_000 } }),
    create(QuotaFailureSchema, { violations: [{ subject: "project:7", quotaDimensions: { region: "eu" }, quotaValue: 9007199254740993n, futureQuotaValue: 20n }] }),
    detail(StringValueSchema, create(StringValueSchema, { value: "from switchboard" })),
    { typeUrl: "type.example.com/switchboard.Opaque", value: new Uint8Array([0x08, 0x2a]) },
  ]);
}

describe("rich error details with a python3-grpcio peer", () => {
  it("our server -> python client: INVALID_ARGUMENT with a google.rpc.Status whose code and message match the status, and every detail decodes in python", opts, async () => {
    const server = new Server();
    server.addService(Greeter, {
      sayHello() {
        throw ourError();
      },
    });
    const port = await server.addInsecurePort("127.0.0.1:0");
    server.start();
    try {
      // execFile, not spawnSync: the server runs in this process and must keep answering.
      const { stdout } = await promisify(execFile)(DEBIAN_PYTHON, [PEER, "client", "--port", String(port)], { cwd: ROOT, timeout: 30_000 });
      const got = JSON.parse(stdout) as Record<string, unknown>;
      assert.deepEqual(got, {
        code: "INVALID_ARGUMENT",
        message: "invalid greeting ✓ 100%",
        status: { code: Code.INVALID_ARGUMENT, message: "invalid greeting ✓ 100%" },
        details: [
          {
            type: "google.rpc.BadRequest",
            message: { field_violations: [{ field: "name", description: "must not be empty", reason: "EMPTY", localized_message: { locale: "de-DE", message: "darf nicht leer sein" } }] },
          },
          { type: "google.rpc.ErrorInfo", message: { reason: "NAME_EMPTY", domain: "greeter.example", metadata: { field: "name" } } },
          { type: "google.rpc.RetryInfo", message: { retry_delay: "2.500s" } },
          // protobuf's JSON mapping writes int64 as strings.
          { type: "google.rpc.QuotaFailure", message: { violations: [{ subject: "project:7", quota_dimensions: { region: "eu" }, quota_value: "9007199254740993", future_quota_value: "20" }] } },
          { type: "google.protobuf.StringValue", message: "from switchboard" },
          { typeUrl: "type.example.com/switchboard.Opaque", valueHex: "082a" },
        ],
      });
    } finally {
      await server.stop(0);
    }
  });

  describe("python server -> our client", () => {
    let peer: RunningServer | undefined;
    before(async () => {
      if (!skip) peer = await startServer(DEBIAN_PYTHON, [PEER, "server", "--port", "0"]);
    });
    after(async () => {
      await peer?.stop();
    });

    it("INVALID_ARGUMENT: google.rpc details decode to typed messages, a StringValue and an opaque type stay Any stand-ins with type URL and bytes intact", opts, async () => {
      const channel = new Channel(`127.0.0.1:${peer!.port}`);
      try {
        const err = await createClient(Greeter, channel)
          .sayHello({ name: "" }, { timeout: 10_000 })
          .then(
            () => assert.fail("the python server must fail the call"),
            (e: unknown) => e,
          );
        assert.ok(err instanceof RpcError, String(err));
        assert.equal(err.code, Code.INVALID_ARGUMENT);
        assert.equal(err.rawMessage, "invalid greeting from python");
        const [bad, quota, retry, stringValue, opaque, ...rest] = err.decodedDetails;
        assert.equal(rest.length, 0);

        assert.ok(isMessage(bad, BadRequestSchema));
        assert.deepEqual(
          bad.fieldViolations.map((v) => [v.field, v.description, v.reason, v.localizedMessage?.locale, v.localizedMessage?.message]),
          [["name", "must not be empty", "EMPTY", "de-DE", "darf nicht leer sein"]],
        );
        assert.ok(isMessage(quota, QuotaFailureSchema));
        assert.equal(quota.violations[0]!.quotaValue, 9007199254740993n);
        assert.equal(quota.violations[0]!.futureQuotaValue, 20n);
        assert.deepEqual(quota.violations[0]!.quotaDimensions, { region: "eu" });
        assert.ok(isMessage(retry, RetryInfoSchema));
        assert.deepEqual([retry.retryDelay?.seconds, retry.retryDelay?.nanos], [2n, 500_000_000]);

        // Not registered with us: kept as Any, unpackable later with the right schema.
        assert.ok(isMessage(stringValue, AnySchema));
        assert.equal(stringValue.typeUrl, "type.googleapis.com/google.protobuf.StringValue");
        assert.equal(anyUnpack(stringValue, StringValueSchema)?.value, "from python");
        assert.ok(isMessage(opaque, AnySchema));
        assert.equal(opaque.typeUrl, "type.example.com/python.Opaque");
        assert.deepEqual([...opaque.value], [0x08, 0x2a]);

        // The packed form and the typed lookup see the same details.
        assert.equal(err.details.length, 5);
        assert.equal(err.findDetails(BadRequestSchema)[0]!.fieldViolations[0]!.field, "name");
      } finally {
        channel.close();
      }
    });
  });
});
