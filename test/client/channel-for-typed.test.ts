// channelFor([[Service, impl], ...]) with inline handlers: each impl is typed by its own
// service (see channel-for.types.ts for the compile-time side), and at run time every entry
// is served, each under its own service, over the in-memory connection.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { channelFor, Code, createClient, ErrorCode, RpcError, SwitchboardError } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import { expectRpcError, T } from "./helpers.js";

describe("channelFor with typed [[Service, impl], ...] entries", () => {
  it("two services with inline handlers are both served, each with its own request type (OK, NOT_FOUND)", T, async () => {
    await using ch = channelFor([
      [
        Greeter,
        {
          sayHello: (req) => {
            if (req.name === "nobody") throw new RpcError(Code.NOT_FOUND, "no such person");
            return { message: `hello ${req.name.toUpperCase()}` };
          },
        },
      ],
      [TestService, { unaryCall: (req) => ({ payload: { body: new Uint8Array(req.responseSize) } }) }],
    ]);
    assert.equal((await createClient(Greeter, ch).sayHello({ name: "ada" }, { timeout: 3000 })).message, "hello ADA");
    const reply = await createClient(TestService, ch).unaryCall({ responseSize: 7 }, { timeout: 3000 });
    assert.equal(reply.payload?.body.length, 7);
    await expectRpcError(createClient(Greeter, ch).sayHello({ name: "nobody" }, { timeout: 3000 }), Code.NOT_FOUND, /no such person/);
    // A method the entry does not implement is UNIMPLEMENTED, not served by another entry.
    await expectRpcError(createClient(TestService, ch).emptyCall({}, { timeout: 3000 }), Code.UNIMPLEMENTED);
  });

  it("an entry whose impl names a method its service lacks throws ERR_SB_BAD_HANDLER before any channel exists", T, () => {
    const untyped: unknown = { sayHelo: () => ({ message: "typo" }) };
    assert.throws(
      () => channelFor([[Greeter, untyped as object]]),
      (err: unknown) => err instanceof SwitchboardError && err.code === ErrorCode.BAD_HANDLER && /sayHelo/.test(err.message),
    );
  });
});
