// With server reflection added after ChannelzService.register(), grpc.channelz.v1.Channelz is
// listed and its file (with the well-known types it imports) is served, which is what grpcurl
// needs to call it without proto files.
import assert from "node:assert/strict";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { afterEach, describe, it } from "node:test";
import { addReflection, createClient } from "../../src/index.js";
import { ServerReflection, ServerReflectionRequestSchema, type ServerReflectionResponse } from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import { ChannelzService } from "../../src/services/channelz/index.js";
import { addFailingGreeter } from "./channelz-fixtures.js";
import { Scope, T, within } from "./helpers.js";

let scope = new Scope();
afterEach(async () => {
  await scope.close();
  scope = new Scope();
});

describe("channelz: server reflection", () => {
  it("addReflection(server) after register() lists grpc.channelz.v1.Channelz and serves channelz.proto with its google/protobuf imports", T, async () => {
    const { target } = await scope.server((s) => {
      addFailingGreeter(s);
      new ChannelzService().register(s);
      addReflection(s);
    });
    const reflection = createClient(ServerReflection, scope.channel(target));
    const requests = [
      create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }),
      create(ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: "grpc.channelz.v1.Channelz" } }),
    ];
    const responses: ServerReflectionResponse[] = [];
    await within(
      (async () => {
        for await (const r of reflection.serverReflectionInfo(requests)) responses.push(r);
      })(),
      5000,
      "the reflection stream",
    );
    const [list, files] = responses;
    assert.equal(list?.messageResponse.case, "listServicesResponse");
    assert.ok(list.messageResponse.value.service.some((s) => s.name === "grpc.channelz.v1.Channelz"));
    assert.equal(files?.messageResponse.case, "fileDescriptorResponse");
    const names = files.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
    assert.equal(names[0], "grpc/channelz/v1/channelz.proto");
    for (const dep of ["google/protobuf/any.proto", "google/protobuf/duration.proto", "google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto"]) {
      assert.ok(names.includes(dep), `${dep} in ${names.join(", ")}`);
    }
  });
});
